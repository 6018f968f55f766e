/**
 * Backward pass of y = x·W + b on the wasm heap: dx = dy·Wᵀ, dW and db in two GEMMs.
 *
 * dW = xᵀ·dy when transposing x (M·K values) is cheaper than (dyᵀ·x)ᵀ (M·N + K·N). In the
 * first form a row of ones appended to xᵀ makes the GEMM's last output row Σ dy = db, so the
 * bias gradient costs 1/K of a GEMM instead of a pass over dy; in the second form db is the
 * row sums of dyᵀ, which is already laid out for it.
 */
import { Heap, type TensorInfo } from "./wasmHeap.js"

export const linearBackward = (
  heap: Heap, x: TensorInfo, w: TensorInfo, dy: TensorInfo, wantW: boolean, wantBias: boolean
): Array<TensorInfo> => {
  const [m, k] = x.shape as [number, number]
  const n = w.shape[1]!
  const dx = heap.output([m, k])
  const dw = wantW ? heap.output([k, n]) : undefined
  const db = wantBias ? heap.output([n]) : undefined

  const wT = heap.alloc(n * k)
  heap.transpose(heap.offset(w), wT, k, n)
  heap.gemm(heap.offset(dy), wT, heap.offset(dx), m, n, k)
  heap.free(wT)

  if (dw !== undefined && m * k <= m * n + k * n) {
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
  } else if (dw !== undefined) {
    const dyT = heap.alloc(n * m)
    heap.transpose(heap.offset(dy), dyT, m, n)
    const product = heap.alloc(n * k)
    heap.gemm(dyT, heap.offset(x), product, n, m, k)
    heap.transpose(product, heap.offset(dw), n, k)
    heap.free(product)
    if (db !== undefined) rowSums(heap.f32At(dyT, n * m), heap.f32(db), n, m)
    heap.free(dyT)
  } else if (db !== undefined) {
    columnSums(heap.f32(dy), heap.f32(db), m, n)
  }
  const out = [dx]
  if (dw !== undefined) out.push(dw)
  if (db !== undefined) out.push(db)
  return out
}

const rowSums = (src: Float32Array, dst: Float32Array, rows: number, cols: number): void => {
  for (let r = 0; r < rows; r++) {
    let s = 0
    const base = r * cols
    for (let c = 0; c < cols; c++) s += src[base + c]!
    dst[r] = s
  }
}

const columnSums = (src: Float32Array, dst: Float32Array, rows: number, cols: number): void => {
  const acc = new Float64Array(cols)
  for (let r = 0; r < rows; r++) {
    const base = r * cols
    for (let c = 0; c < cols; c++) acc[c]! += src[base + c]!
  }
  dst.set(acc)
}
