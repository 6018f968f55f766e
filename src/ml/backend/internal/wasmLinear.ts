/**
 * Backward pass of y = x·W + b on the wasm heap: dx = dy·Wᵀ, dW and db.
 *
 * With the relaxed-SIMD GEMM (`wasmGemm.ts`), dx reads W in place as a transposed right
 * operand (packing it costs what a transpose would, and saves the pass), and dW = [xᵀ; 1]·dy
 * after one transpose of x with a ones row appended: the extra output row is Σ dy = db. Its
 * left operand could also be read transposed in place, but that walks x a column at a time,
 * one page per row, and measured slower than the transpose.
 *
 * XNNPACK packs its right operand into a blocked layout at ~5 ns per value, about twice a JS
 * transpose (~2.4 ns), so without the relaxed-SIMD GEMM dW packs the smaller of x [M,K] and
 * dy [M,N]:
 *   K ≤ N: dWᵀ = dyᵀ·[x | 1]  (transpose dy, pack x with a ones column, transpose [N, K+1] back)
 *   K > N: dW  = [xᵀ; 1]·dy   (transpose x with a ones row appended, pack dy)
 * The ones column/row makes the GEMM's extra output line Σ dy = db for 1/K of a GEMM, instead
 * of a JS pass over dy.
 */
import { columnSums, gemmKernel, Heap, type TensorInfo } from "./wasmHeap.js"

export const linearBackward = (
  heap: Heap, x: TensorInfo, w: TensorInfo, dy: TensorInfo, wantW: boolean, wantBias: boolean
): Array<TensorInfo> => {
  const [m, k] = x.shape as [number, number]
  const n = w.shape[1]!
  const dx = heap.output([m, k])
  const dw = wantW ? heap.output([k, n]) : undefined
  const db = wantBias ? heap.output([n]) : undefined

  const fma = gemmKernel() === "fma"
  if (fma) heap.gemmTransposed(heap.offset(dy), false, heap.offset(w), true, heap.offset(dx), m, n, k)
  else {
    const wT = heap.alloc(n * k)
    heap.transpose(heap.offset(w), wT, k, n)
    heap.gemm(heap.offset(dy), wT, heap.offset(dx), m, n, k)
    heap.free(wT)
  }

  if (dw === undefined) {
    if (db !== undefined) heap.f32(db).set(columnSums(heap.f32(dy), m, n))
  } else if (k <= n && !fma) {
    const cols = db === undefined ? k : k + 1
    const dyT = heap.alloc(n * m)
    heap.transpose(heap.offset(dy), dyT, m, n)
    let right = heap.offset(x)
    if (db !== undefined) {
      right = heap.alloc(m * cols)
      const F = heap.all()
      const src = heap.offset(x) >>> 2
      const dst = right >>> 2
      for (let r = 0; r < m; r++) {
        F.copyWithin(dst + r * cols, src + r * k, src + (r + 1) * k)
        F[dst + r * cols + k] = 1
      }
    }
    const product = heap.alloc(n * cols)
    heap.gemm(dyT, right, product, n, m, cols)
    if (db === undefined) heap.transpose(product, heap.offset(dw), n, k)
    else {
      const full = heap.alloc(cols * n)
      heap.transpose(product, full, n, cols)
      heap.f32(dw).set(heap.f32At(full, k * n))
      heap.f32(db).set(heap.f32At(full + 4 * k * n, n))
      heap.free(full)
      heap.free(right)
    }
    heap.free(product)
    heap.free(dyT)
  } else {
    const rows = db === undefined ? k : k + 1
    const xT = heap.alloc(rows * m)
    heap.transpose(heap.offset(x), xT, m, k)
    if (db !== undefined) heap.f32At(xT + 4 * k * m, m).fill(1)
    const product = db === undefined ? heap.offset(dw) : heap.alloc(rows * n)
    heap.gemm(xT, heap.offset(dy), product, rows, m, n)
    if (db !== undefined) {
      heap.f32(dw).set(heap.f32At(product, k * n))
      heap.f32(db).set(heap.f32At(product + 4 * k * n, n))
      heap.free(product)
    }
    heap.free(xT)
  }
  const out = [dx]
  if (dw !== undefined) out.push(dw)
  if (db !== undefined) out.push(db)
  return out
}
