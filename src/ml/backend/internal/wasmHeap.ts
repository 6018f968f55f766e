/**
 * Direct access to the TensorFlow.js wasm backend's heap for cairn's kernels: tensor offsets,
 * typed-array views, scratch memory, a 2-D transpose, and XNNPACK matrix products on raw heap
 * ranges.
 *
 * The GEMM is cairn's relaxed-SIMD kernel (`wasmGemm.ts`) where the runtime has relaxed SIMD,
 * else XNNPACK through the backend's own exported `BatchMatMul`: the C side finds operands by
 * tensor id, so the ranges are registered under three reserved ids for the duration of one
 * call and released right after. Releasing the weight id also deletes the XNNPACK operator
 * cached for it, so nothing stale survives into the next call.
 */

import type { GemmPool } from "./gemmPool.js"
import { chunkPanels, fmaGemm, fmaGemmBytes, scratchFloats, type GemmFn, type WasmMemory } from "./wasmGemm.js"

export interface TensorInfo {
  readonly dataId: object
  readonly shape: Array<number>
  readonly dtype: "float32" | "int32" | "bool" | "complex64" | "string"
}

interface WasmModule {
  readonly HEAPU8: Uint8Array
  readonly asm: { readonly memory: WasmMemory }
  _malloc(bytes: number): number
  _free(ptr: number): void
  _register_tensor(id: number, size: number, offset: number): void
  _dispose_data(id: number): void
  _Softmax(xId: number, outId: number, channels: number, batch: number): void
  _Sigmoid(xId: number, outId: number): void
  _BatchMatMul(
    aId: number, aShape: number, aRank: number, bId: number, bShape: number, bRank: number,
    transposeA: number, transposeB: number, outId: number
  ): void
}

export interface WasmBackend {
  readonly wasm: WasmModule
  readonly dataIdMap: { get(dataId: object): { id: number; memoryOffset: number } }
  makeOutput(shape: Array<number>, dtype: string): TensorInfo
  incRef(dataId: object): void
}

// Far above the ids tfjs hands out (it counts up from 1), below 2^32 as the C side's size_t.
const viewA = 0xffffff00
const viewB = 0xffffff01
const viewOut = 0xffffff02

const heaps = new WeakMap<WasmBackend, Heap>()

/** Helper threads for large products, shared by every heap (see gemmPool.ts). */
let pool: GemmPool | undefined

export const setGemmPool = (next: GemmPool | undefined): void => {
  pool = next
}

export const gemmPool = (): GemmPool | undefined => pool

export type GemmKernel = "fma" | "xnnpack"

/** Which GEMM the heaps use: the relaxed-SIMD kernel when available (default), or XNNPACK. */
let preferred: GemmKernel = "fma"

/** Choose the GEMM kernel (benchmarks and tests compare the two); returns the one now in use. */
export const setGemmKernel = (kernel: GemmKernel): GemmKernel => {
  preferred = kernel
  return gemmKernel()
}

/** The GEMM kernel products run on. */
export const gemmKernel = (): GemmKernel => (preferred === "fma" && fmaGemmBytes() !== undefined ? "fma" : "xnnpack")

export class Heap {
  private readonly shapes: number

  private constructor(
    private readonly backend: WasmBackend,
    private readonly module: WasmModule
  ) {
    // Two rank-3 shapes for the GEMM call; allocated once per backend and never freed.
    this.shapes = module._malloc(24)
  }

  /** The backend this heap belongs to (for delegating to stock kernels). */
  get backendRef(): WasmBackend {
    return this.backend
  }

  static of(backend: WasmBackend): Heap {
    let heap = heaps.get(backend)
    if (heap === undefined) {
      heap = new Heap(backend, backend.wasm)
      heaps.set(backend, heap)
    }
    return heap
  }

  output(shape: Array<number>, dtype: TensorInfo["dtype"] = "float32"): TensorInfo {
    return this.backend.makeOutput(shape, dtype)
  }

  /** Byte offset of a tensor's data. */
  offset(t: TensorInfo): number {
    return this.backend.dataIdMap.get(t.dataId).memoryOffset
  }

  f32(t: TensorInfo): Float32Array {
    return this.f32At(this.offset(t), size(t.shape))
  }

  i32(t: TensorInfo): Int32Array {
    return new Int32Array(this.module.HEAPU8.buffer, this.offset(t), size(t.shape))
  }

  f32At(byteOffset: number, length: number): Float32Array {
    return new Float32Array(this.module.HEAPU8.buffer, byteOffset, length)
  }

  /**
   * The whole heap as float32, indexed by byteOffset / 4. Kernels that move many short runs
   * use it with `copyWithin` instead of creating a view per run. Re-read after allocations.
   */
  all(): Float32Array {
    const buffer = this.module.HEAPU8.buffer
    if (this.whole?.buffer !== buffer) this.whole = new Float32Array(buffer)
    return this.whole
  }

  private whole: Float32Array | undefined

  /** Scratch memory for `floats` float32 values; release with {@link free}. */
  alloc(floats: number): number {
    return this.module._malloc(Math.max(4, floats * 4)) >>> 0
  }

  free(ptr: number): void {
    this.module._free(ptr)
  }

  /**
   * out [m,n] = a [m,k] · b [k,n] (+ bias [n]), all row-major float32 at byte offsets (bias 0:
   * none). A bias needs the relaxed-SIMD kernel (see {@link gemmKernel}).
   */
  gemm(a: number, b: number, out: number, m: number, k: number, n: number, bias = 0): void {
    if (pool === undefined) this.gemmHere(a, b, out, m, k, n, bias)
    else {
      const kernel = { fma: gemmKernel() === "fma", chunk: chunkPanels(k) }
      pool.gemm((at, floats) => this.f32At(at, floats), a, b, out, m, k, n, bias, kernel,
        (a2, b2, o2, m2, k2, n2) => this.gemmHere(a2, b2, o2, m2, k2, n2, bias))
    }
  }

  /** The product on this thread only. */
  gemmHere(a: number, b: number, out: number, m: number, k: number, n: number, bias = 0): void {
    if (gemmKernel() === "fma") this.fmaGemm(a, 4 * k, 4, b, 4 * n, false, out, 4 * n, m, k, n, bias)
    else if (bias === 0) this.xnnpackGemm(a, b, out, m, k, n)
    else throw new Error("a GEMM with bias needs the relaxed-SIMD kernel")
  }

  /**
   * out [m,n] = a [m,k] · b [k,n] on this thread with the relaxed-SIMD kernel, reading a stored
   * transposed ([k, m]) when `aT` and b stored transposed ([n, k]) when `bT`: gradients need
   * xᵀ·dy and dy·Wᵀ, and reading the transposed layout while packing costs less than a
   * transpose pass. Only when {@link gemmKernel} is "fma".
   */
  gemmTransposed(a: number, aT: boolean, b: number, bT: boolean, out: number, m: number, k: number, n: number): void {
    this.gemmStrided({ at: a, row: aT ? 4 : 4 * k, step: aT ? 4 * m : 4 }, { at: b, row: bT ? 4 * k : 4 * n, transposed: bT }, { at: out, row: 4 * n }, m, k, n)
  }

  /**
   * The relaxed-SIMD product on operands inside larger arrays (e.g. one head's columns of the
   * fused q|k|v rows): a's element (r, i) at a.at + r·a.row + i·a.step, b's rows (of the stored
   * [k, n], or [n, k] when transposed) b.row bytes apart, out's rows out.row bytes apart; the
   * product is multiplied by `scale`.
   */
  gemmStrided(
    a: { readonly at: number; readonly row: number; readonly step: number },
    b: { readonly at: number; readonly row: number; readonly transposed: boolean },
    out: { readonly at: number; readonly row: number },
    m: number, k: number, n: number, scale = 1
  ): void {
    this.fmaGemm(a.at, a.row, a.step, b.at, b.row, b.transposed, out.at, out.row, m, k, n, 0, scale)
  }

  private fmaGemm(
    a: number, aRow: number, aK: number, b: number, bRow: number, bT: boolean, out: number, outRow: number,
    m: number, k: number, n: number, bias: number, scale = 1
  ): void {
    this.fma ??= fmaGemm(this.module.asm.memory)!
    const need = scratchFloats(k)
    if (need > this.scratchFloats) {
      if (this.scratch !== 0) this.free(this.scratch)
      this.scratch = 0
      this.scratch = this.alloc(need)
      this.scratchFloats = need
    }
    this.fma(a, aRow, aK, b, bRow, bT ? 1 : 0, out, outRow, m, k, n, this.scratch, chunkPanels(k), bias, scale)
  }

  private fma: GemmFn | undefined
  private scratch = 0
  private scratchFloats = 0

  private xnnpackGemm(a: number, b: number, out: number, m: number, k: number, n: number): void {
    const w = this.module
    const s = new Int32Array(w.HEAPU8.buffer, this.shapes, 6)
    s[0] = 1
    s[1] = m
    s[2] = k
    s[3] = 1
    s[4] = k
    s[5] = n
    w._register_tensor(viewA, m * k, a)
    w._register_tensor(viewB, k * n, b)
    w._register_tensor(viewOut, m * n, out)
    w._BatchMatMul(viewA, this.shapes, 3, viewB, this.shapes + 12, 3, 0, 0, viewOut)
    w._dispose_data(viewA)
    w._dispose_data(viewB)
    w._dispose_data(viewOut)
  }

  /** Row-wise softmax of src [rows, cols] into dst (XNNPACK; src may equal dst). */
  softmax(src: number, dst: number, rows: number, cols: number): void {
    const w = this.module
    w._register_tensor(viewA, rows * cols, src)
    w._register_tensor(viewOut, rows * cols, dst)
    w._Softmax(viewA, viewOut, cols, rows)
    w._dispose_data(viewA)
    w._dispose_data(viewOut)
  }

  /** Elementwise logistic sigmoid of n values (XNNPACK, vectorised; JS Math.exp is ~30x slower). */
  sigmoid(src: number, dst: number, n: number): void {
    const w = this.module
    w._register_tensor(viewA, n, src)
    w._register_tensor(viewOut, n, dst)
    w._Sigmoid(viewA, viewOut)
    w._dispose_data(viewA)
    w._dispose_data(viewOut)
  }

  /** dst [cols, rows] = transpose of src [rows, cols] (byte offsets, no overlap). */
  transpose(src: number, dst: number, rows: number, cols: number): void {
    transposeInto(this.f32At(src, rows * cols), 0, this.f32At(dst, rows * cols), 0, rows, cols)
  }
}

export const size = (shape: ReadonlyArray<number>): number => shape.reduce((a, b) => a * b, 1)

/**
 * Blocked transpose: 32×32 tiles, each moved four source rows at a time so every output row
 * gets four consecutive writes. Measured here at 1.3-3 ns per value, against 3-4 ns for plain
 * tiles (column reads at power-of-two strides thrash the cache) and 7 ns for the stock wasm
 * Transpose kernel.
 */
export const transposeInto = (
  src: Float32Array, srcAt: number, dst: Float32Array, dstAt: number, rows: number, cols: number
): void => {
  const tile = 32
  for (let r0 = 0; r0 < rows; r0 += tile) {
    const r1 = Math.min(rows, r0 + tile)
    for (let c0 = 0; c0 < cols; c0 += tile) {
      const c1 = Math.min(cols, c0 + tile)
      let r = r0
      for (; r + 4 <= r1; r += 4) {
        const s0 = srcAt + r * cols
        const s1 = s0 + cols
        const s2 = s1 + cols
        const s3 = s2 + cols
        for (let c = c0; c < c1; c++) {
          const d = dstAt + c * rows + r
          dst[d] = src[s0 + c]!
          dst[d + 1] = src[s1 + c]!
          dst[d + 2] = src[s2 + c]!
          dst[d + 3] = src[s3 + c]!
        }
      }
      for (; r < r1; r++) for (let c = c0; c < c1; c++) dst[dstAt + c * rows + r] = src[srcAt + r * cols + c]!
    }
  }
}

/** Column sums of a row-major [rows, cols] array in float64, four rows per pass (2.5x fewer accumulator round trips). */
export const columnSums = (src: Float32Array, rows: number, cols: number): Float64Array => {
  const acc = new Float64Array(cols)
  let r = 0
  for (; r + 4 <= rows; r += 4) {
    const b = r * cols
    for (let c = 0; c < cols; c++) acc[c]! += src[b + c]! + src[b + cols + c]! + src[b + 2 * cols + c]! + src[b + 3 * cols + c]!
  }
  for (; r < rows; r++) for (let c = 0; c < cols; c++) acc[c]! += src[r * cols + c]!
  return acc
}
