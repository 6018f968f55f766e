/**
 * A float32 GEMM over the wasm backend's heap, as a small WebAssembly module generated here,
 * built on the fused multiply-add of relaxed SIMD (`f32x4.relaxed_madd`).
 *
 * XNNPACK in the TensorFlow.js binary targets baseline wasm SIMD, which has no FMA, so its
 * kernels spend a multiply and an add on every 4 products. V8 lowers `relaxed_madd` to one
 * `vfmadd` on x86 CPUs with FMA3; the same kind of register tile then does about twice the
 * work per instruction (measured 1.4-1.8× XNNPACK at the model's shapes). The module imports
 * the backend's own memory, so it reads and writes tensors in place.
 *
 * Node 20 has relaxed SIMD behind `--experimental-wasm-relaxed-simd`; it is switched on here
 * before compiling (later Node versions enable it by default). If the module still does not
 * validate, `fmaGemm` returns undefined and callers keep XNNPACK.
 *
 * Layout: b [k, n] is packed a chunk of 8-column panels at a time into [panel][k][8]; every
 * 4-row block of a then runs across the chunk's panels holding a 4×8 tile in 8 vector
 * accumulators. Columns past the last full panel go through a zero-padded
 * panel and a small tile buffer. Each output row is the same k-ordered sum whichever block or
 * thread computes it, so splitting rows among threads does not change results.
 */
import { setFlagsFromString } from "node:v8"
import {
  uleb, sleb, vec, name, section, I32, F32, V128, VOID, get, set, i32, add, sub, mul, and, shrU,
  eqz, eq, ltU, gtU, geU, select, block, loop, ifThen, orElse, end, br, brIf, call, f32Load,
  f32Store, simd, v128Load, v128Load32Splat, v128Store, v128Zero, relaxedMadd, f32x4Splat,
  f32x4Mul, until
} from "./wasmAssembler.js"

const rowsPerBlock = 4
const panelWidth = 8

/**
 * kernel_R(a, aRow, aK, bp, c, ldc, k, panels, bias, alpha): for R rows of a and each of
 * `panels` packed panels at bp ([k][8] floats each), c[r, 8p .. 8p+8] = alpha·(bias[8p ..] +
 * a_r · panel_p). Element (r, i) of a is at a + r·aRow + i·aK, so a may be stored transposed.
 * bias = 0 means none. Pointers and strides in bytes. (x·1 is exact, so alpha = 1 changes
 * nothing.)
 */
const kernel = (rows: number): Array<number> => {
  const [a, aRow, aK, bp, c, ldc, k, panels, bias, alpha] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
  const row = (r: number) => 10 + r
  const kk = 10 + rows
  const p = kk + 1
  const q = p + 1
  const acc = (r: number, h: number) => q + 1 + 2 * r + h
  const b0 = q + 1 + 2 * rows
  const b1 = b0 + 1
  const av = b1 + 1
  const scale = av + 1
  const locals = vec([[...uleb(rows + 3), I32], [...uleb(2 * rows + 4), V128]])
  const body: Array<number> = [...get(alpha), ...f32x4Splat, ...set(scale), ...i32(0), ...set(p)]
  const perPanel: Array<number> = []
  for (let r = 0; r < rows; r++) perPanel.push(...get(a), ...get(aRow), ...i32(r), ...mul, ...add, ...set(row(r)))
  perPanel.push(...v128Zero, ...set(b0), ...v128Zero, ...set(b1))
  perPanel.push(...get(bias), ...ifThen,
    ...get(bias), ...get(p), ...i32(32), ...mul, ...add, ...v128Load(0), ...set(b0),
    ...get(bias), ...get(p), ...i32(32), ...mul, ...add, ...v128Load(16), ...set(b1), ...end)
  for (let r = 0; r < rows; r++) perPanel.push(...get(b0), ...set(acc(r, 0)), ...get(b1), ...set(acc(r, 1)))
  perPanel.push(...get(bp), ...get(p), ...get(k), ...mul, ...i32(32), ...mul, ...add, ...set(q), ...get(k), ...set(kk))
  const step: Array<number> = [...get(q), ...v128Load(0), ...set(b0), ...get(q), ...v128Load(16), ...set(b1)]
  for (let r = 0; r < rows; r++) {
    step.push(...get(row(r)), ...v128Load32Splat, ...set(av))
    for (let h = 0; h < 2; h++) step.push(...get(av), ...get(h === 0 ? b0 : b1), ...get(acc(r, h)), ...relaxedMadd, ...set(acc(r, h)))
    step.push(...get(row(r)), ...get(aK), ...add, ...set(row(r)))
  }
  step.push(...get(q), ...i32(32), ...add, ...set(q), ...get(kk), ...i32(1), ...sub, ...set(kk))
  perPanel.push(...until([...get(kk), ...eqz], step))
  for (let r = 0; r < rows; r++) {
    for (let h = 0; h < 2; h++) {
      perPanel.push(...get(c), ...get(ldc), ...i32(r), ...mul, ...add, ...get(p), ...i32(32), ...mul, ...add, ...get(acc(r, h)), ...get(scale), ...f32x4Mul, ...v128Store(16 * h))
    }
  }
  perPanel.push(...get(p), ...i32(1), ...add, ...set(p))
  body.push(...until([...get(p), ...get(panels), ...geU], perPanel), ...end)
  const code = [...locals, ...body]
  return [...uleb(code.length), ...code]
}

/**
 * gemm(a, aRow, aK, b, bRow, bT, c, cRow, m, k, n, scratch, chunk, bias, alpha):
 * c [m,n] = alpha·(a [m,k] · b [k,n] (+ bias [n])). a's element (r, i) is at a + r·aRow + i·aK; b is
 * stored by rows of bRow bytes, as [k, n], or with bT = 1 transposed as [n, k]; c's rows are
 * cRow bytes apart. `scratch` holds max(chunk·k·8, k·8 + 40) floats; `chunk` is panels packed
 * at a time.
 */
const driver = (): Array<number> => {
  const [a, aRow, aK, b, bRow, bT, c, cRow, m, k, n, scratch, chunk, bias, alpha] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14]
  const [full, p0, np, p, kk, r, src, dst, rows, j, i, tile, width, biasAt] = [15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28]
  const locals = vec([[...uleb(14), I32]])
  /** Call kernel_rows (rows in local `rows`, 1..4) with the given argument bytes. */
  const dispatch = (args: ReadonlyArray<number>) => {
    const branch = (kernelRows: number, rest: ReadonlyArray<number>) =>
      [...get(rows), ...i32(kernelRows), ...eq, ...ifThen, ...args, ...call(kernelRows - 1), ...orElse, ...rest, ...end]
    return branch(4, branch(3, branch(2, [...args, ...call(0)])))
  }
  /** k values of column `col` of b (a row of the stored [n, k] when transposed) into dst, stride 8 floats. */
  const scatterColumn = (col: ReadonlyArray<number>) => [
    ...get(b), ...col, ...get(bRow), ...mul, ...add, ...set(src),
    ...get(k), ...set(kk),
    ...until([...get(kk), ...eqz], [
      ...get(dst), ...get(src), ...f32Load(), ...f32Store(),
      ...get(src), ...i32(4), ...add, ...set(src),
      ...get(dst), ...i32(32), ...add, ...set(dst),
      ...get(kk), ...i32(1), ...sub, ...set(kk)
    ])
  ]
  const body: Array<number> = [...get(n), ...i32(3), ...shrU, ...set(full), ...i32(0), ...set(p0)]

  // Full panels, a chunk at a time: pack, then every row block across the chunk.
  const chunkBody: Array<number> = [
    ...get(full), ...get(p0), ...sub, ...set(np),
    ...get(chunk), ...get(np), ...get(chunk), ...get(np), ...ltU, ...select, ...set(np),
    ...i32(0), ...set(p)
  ]
  const packRows = [
    ...get(b), ...get(p0), ...get(p), ...add, ...i32(32), ...mul, ...add, ...set(src),
    ...get(scratch), ...get(p), ...get(k), ...mul, ...i32(32), ...mul, ...add, ...set(dst),
    ...get(k), ...set(kk),
    ...until([...get(kk), ...eqz], [
      ...get(dst), ...get(src), ...v128Load(0), ...v128Store(0),
      ...get(dst), ...get(src), ...v128Load(16), ...v128Store(16),
      ...get(src), ...get(bRow), ...add, ...set(src),
      ...get(dst), ...i32(32), ...add, ...set(dst),
      ...get(kk), ...i32(1), ...sub, ...set(kk)
    ])
  ]
  const packColumns = [
    ...i32(0), ...set(j),
    ...until([...get(j), ...i32(panelWidth), ...geU], [
      ...get(scratch), ...get(p), ...get(k), ...mul, ...i32(32), ...mul, ...add, ...get(j), ...i32(4), ...mul, ...add, ...set(dst),
      ...scatterColumn([...get(p0), ...get(p), ...add, ...i32(8), ...mul, ...get(j), ...add]),
      ...get(j), ...i32(1), ...add, ...set(j)
    ])
  ]
  chunkBody.push(...until([...get(p), ...get(np), ...geU], [
    ...get(bT), ...ifThen, ...packColumns, ...orElse, ...packRows, ...end,
    ...get(p), ...i32(1), ...add, ...set(p)
  ]))
  chunkBody.push(...get(bias), ...get(p0), ...i32(32), ...mul, ...add, ...i32(0), ...get(bias), ...select, ...set(biasAt))
  const blockArgs = [
    ...get(a), ...get(r), ...get(aRow), ...mul, ...add,
    ...get(aRow), ...get(aK),
    ...get(scratch),
    ...get(c), ...get(r), ...get(cRow), ...mul, ...add, ...get(p0), ...i32(32), ...mul, ...add,
    ...get(cRow),
    ...get(k), ...get(np), ...get(biasAt), ...get(alpha)
  ]
  chunkBody.push(...i32(0), ...set(r))
  chunkBody.push(...until([...get(r), ...i32(rowsPerBlock), ...add, ...get(m), ...gtU], [
    ...blockArgs, ...call(rowsPerBlock - 1),
    ...get(r), ...i32(rowsPerBlock), ...add, ...set(r)
  ]))
  chunkBody.push(...get(m), ...get(r), ...sub, ...set(rows), ...get(rows), ...ifThen, ...dispatch(blockArgs), ...end)
  chunkBody.push(...get(p0), ...get(np), ...add, ...set(p0))
  body.push(...until([...get(p0), ...get(full), ...geU], chunkBody))

  // The last n mod 8 columns: a zero-padded panel, computed into a tile and copied out.
  const rest: Array<number> = [
    ...get(scratch), ...set(dst), ...get(k), ...set(kk),
    ...until([...get(kk), ...eqz], [
      ...get(dst), ...v128Zero, ...v128Store(0), ...get(dst), ...v128Zero, ...v128Store(16),
      ...get(dst), ...i32(32), ...add, ...set(dst),
      ...get(kk), ...i32(1), ...sub, ...set(kk)
    ]),
    ...get(bT), ...ifThen,
    ...i32(0), ...set(j),
    ...until([...get(j), ...get(width), ...geU], [
      ...get(scratch), ...get(j), ...i32(4), ...mul, ...add, ...set(dst),
      ...scatterColumn([...get(full), ...i32(8), ...mul, ...get(j), ...add]),
      ...get(j), ...i32(1), ...add, ...set(j)
    ]),
    ...orElse,
    ...get(b), ...get(full), ...i32(32), ...mul, ...add, ...set(src),
    ...get(scratch), ...set(dst),
    ...get(k), ...set(kk),
    ...until([...get(kk), ...eqz], [
      ...i32(0), ...set(j),
      ...until([...get(j), ...get(width), ...geU], [
        ...get(dst), ...get(j), ...i32(4), ...mul, ...add, ...get(src), ...get(j), ...i32(4), ...mul, ...add, ...f32Load(), ...f32Store(),
        ...get(j), ...i32(1), ...add, ...set(j)
      ]),
      ...get(src), ...get(bRow), ...add, ...set(src),
      ...get(dst), ...i32(32), ...add, ...set(dst),
      ...get(kk), ...i32(1), ...sub, ...set(kk)
    ]),
    ...end,
    ...get(scratch), ...get(k), ...i32(32), ...mul, ...add, ...set(tile),
    // A zero-padded copy of the bias columns, after the 4×8 tile.
    ...i32(0), ...set(biasAt),
    ...get(bias), ...ifThen,
    ...get(tile), ...i32(128), ...add, ...set(biasAt),
    ...get(biasAt), ...v128Zero, ...v128Store(0), ...get(biasAt), ...v128Zero, ...v128Store(16),
    ...i32(0), ...set(j),
    ...until([...get(j), ...get(width), ...geU], [
      ...get(biasAt), ...get(j), ...i32(4), ...mul, ...add,
      ...get(bias), ...get(full), ...i32(32), ...mul, ...add, ...get(j), ...i32(4), ...mul, ...add, ...f32Load(), ...f32Store(),
      ...get(j), ...i32(1), ...add, ...set(j)
    ]),
    ...end,
    ...i32(0), ...set(r)
  ]
  const tileArgs = [
    ...get(a), ...get(r), ...get(aRow), ...mul, ...add,
    ...get(aRow), ...get(aK),
    ...get(scratch), ...get(tile), ...i32(32), ...get(k), ...i32(1), ...get(biasAt), ...get(alpha)
  ]
  rest.push(...until([...get(r), ...get(m), ...geU], [
    ...get(m), ...get(r), ...sub, ...set(rows),
    ...i32(rowsPerBlock), ...get(rows), ...get(rows), ...i32(rowsPerBlock), ...gtU, ...select, ...set(rows),
    ...dispatch(tileArgs),
    ...i32(0), ...set(i),
    ...until([...get(i), ...get(rows), ...geU], [
      ...i32(0), ...set(j),
      ...until([...get(j), ...get(width), ...geU], [
        ...get(c), ...get(r), ...get(i), ...add, ...get(cRow), ...mul, ...add, ...get(full), ...i32(8), ...mul, ...get(j), ...add, ...i32(4), ...mul, ...add,
        ...get(tile), ...get(i), ...i32(32), ...mul, ...add, ...get(j), ...i32(4), ...mul, ...add, ...f32Load(),
        ...f32Store(),
        ...get(j), ...i32(1), ...add, ...set(j)
      ]),
      ...get(i), ...i32(1), ...add, ...set(i)
    ]),
    ...get(r), ...get(rows), ...add, ...set(r)
  ]))
  body.push(...get(n), ...i32(7), ...and, ...set(width), ...get(width), ...ifThen, ...rest, ...end)
  body.push(...end)
  const code = [...locals, ...body]
  return [...uleb(code.length), ...code]
}

const moduleBytes = (): Uint8Array => {
  const kernelType = [0x60, ...vec([...new Array(9).fill([I32]), [F32]]), 0]
  const driverType = [0x60, ...vec([...new Array(14).fill([I32]), [F32]]), 0]
  const kernels = Array.from({ length: rowsPerBlock }, (_, i) => kernel(i + 1))
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([kernelType, driverType])),
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x00, 0x00]])),
    ...section(3, vec([...kernels.map(() => [0]), [1]])),
    ...section(7, vec([[...name("gemm"), 0x00, rowsPerBlock]])),
    ...section(10, vec([...kernels, driver()]))
  ])
}

/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

let bytes: Uint8Array | undefined | null

/** The module's bytes when this runtime can compile it (relaxed SIMD available), else undefined. */
export const fmaGemmBytes = (): Uint8Array | undefined => {
  if (bytes === undefined) {
    const candidate = moduleBytes()
    if (!WebAssembly.validate(candidate)) setFlagsFromString("--experimental-wasm-relaxed-simd")
    bytes = WebAssembly.validate(candidate) ? candidate : null
  }
  return bytes ?? undefined
}

/**
 * Packed panels per chunk: up to 1 MiB of b. Each 4-row block of a (a few KiB, in L1) meets
 * every panel of the chunk, so bigger chunks stream a fewer times; measured faster than
 * L2-sized chunks (128 KiB) by ~20% at the model's shapes.
 */
export const chunkPanels = (k: number): number => Math.max(1, Math.floor(262144 / (Math.max(1, k) * panelWidth)))

/** Floats of scratch a product with inner dimension k needs. */
export const scratchFloats = (k: number): number => Math.max(chunkPanels(k) * k * panelWidth, k * panelWidth + 40)

export type GemmFn = (
  a: number, aRow: number, aK: number, b: number, bRow: number, bTransposed: number, c: number, cRow: number,
  m: number, k: number, n: number, scratch: number, chunk: number, bias: number, alpha: number
) => void

/** The GEMM bound to `memory` (a wasm backend's), or undefined without relaxed SIMD. */
export const fmaGemm = (memory: WasmMemory): GemmFn | undefined => {
  const code = fmaGemmBytes()
  if (code === undefined) return undefined
  const instance = new WebAssembly.Instance(new WebAssembly.Module(code), { env: { memory } })
  return instance.exports["gemm"] as GemmFn
}
