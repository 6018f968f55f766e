/**
 * The AdamW element update as a generated WebAssembly function over two elements at a time
 * (f64x2), with exactly the operations, order and float64 precision of the JS loop in
 * AdamW.ts, so it gives the same bits (IEEE add, mul, div and sqrt are correctly rounded in
 * both). In JS the loop costs ~9 ns per parameter, mostly a scalar division and square root;
 * here two lanes share each. The update runs on the main thread between steps, while
 * data-parallel replicas wait, so its time counts twice.
 */
import {
  I32, V128, end, get, i32, add, sub, eqz, name, section, set, simd, until, uleb, vec
} from "../../backend/internal/wasmAssembler.js"

const F64 = 0x7c

const load64Zero = (offset = 0) => simd(93, 3, ...uleb(offset))
const store64Lane0 = (offset = 0) => [...simd(91, 3, ...uleb(offset)), 0]
const promoteLow = simd(95)
const demoteZero = simd(94)
const f64x2Splat = simd(20)
const f64x2Add = simd(240)
const f64x2Sub = simd(241)
const f64x2Mul = simd(242)
const f64x2Div = simd(243)
const f64x2Sqrt = simd(239)

/**
 * adamw(w, g, m, v, pairs, shrink, stepSize, c2, beta1, beta2, a1, a2, eps): for `pairs`·2
 * float32 values at byte offsets w, g, m, v:
 *   m ← beta1·m + a1·g;  v ← beta2·v + a2·g·g;  w ← w·shrink − stepSize·m / (√(v / c2) + eps)
 * with m and v kept in float64 for the w update, as in AdamW.update.
 */
const moduleBytes = (): Uint8Array => {
  const [w, g, m, v, pairs] = [0, 1, 2, 3, 4]
  const scalars = [5, 6, 7, 8, 9, 10, 11, 12] // shrink, stepSize, c2, beta1, beta2, a1, a2, eps
  const splat = (k: number) => 13 + k // the scalars as f64x2, in the same order
  const [SH, SS, C2, B1, B2, A1, A2, EP] = [0, 1, 2, 3, 4, 5, 6, 7].map(splat) as [number, number, number, number, number, number, number, number]
  const [gi, mi, vi] = [21, 22, 23]
  const locals = vec([[...uleb(11), V128]])
  const body: Array<number> = []
  scalars.forEach((p, k) => body.push(...get(p), ...f64x2Splat, ...set(splat(k))))
  const step = [
    ...get(g), ...load64Zero(), ...promoteLow, ...set(gi),
    ...get(B1), ...get(m), ...load64Zero(), ...promoteLow, ...f64x2Mul, ...get(A1), ...get(gi), ...f64x2Mul, ...f64x2Add, ...set(mi),
    ...get(B2), ...get(v), ...load64Zero(), ...promoteLow, ...f64x2Mul, ...get(A2), ...get(gi), ...f64x2Mul, ...get(gi), ...f64x2Mul, ...f64x2Add, ...set(vi),
    ...get(m), ...get(mi), ...demoteZero, ...store64Lane0(),
    ...get(v), ...get(vi), ...demoteZero, ...store64Lane0(),
    ...get(w),
    ...get(w), ...load64Zero(), ...promoteLow, ...get(SH), ...f64x2Mul,
    ...get(SS), ...get(mi), ...f64x2Mul,
    ...get(vi), ...get(C2), ...f64x2Div, ...f64x2Sqrt, ...get(EP), ...f64x2Add,
    ...f64x2Div, ...f64x2Sub, ...demoteZero, ...store64Lane0(),
    ...[w, g, m, v].flatMap((p) => [...get(p), ...i32(8), ...add, ...set(p)]),
    ...get(pairs), ...i32(1), ...sub, ...set(pairs)
  ]
  body.push(...until([...get(pairs), ...eqz], step), ...end)
  const code = [...locals, ...body]
  const type = [0x60, ...vec([...new Array(5).fill([I32]), ...new Array(8).fill([F64])]), 0]
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([type])),
    ...section(2, vec([[...name("env"), ...name("memory"), 0x02, 0x00, 0x00]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...name("adamw"), 0x00, 0]])),
    ...section(10, vec([[...uleb(code.length), ...code]]))
  ])
}

export type AdamWKernel = (
  w: number, g: number, m: number, v: number, pairs: number,
  shrink: number, stepSize: number, c2: number, beta1: number, beta2: number, a1: number, a2: number, eps: number
) => void

interface WasmApi {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer }
  Module: new (bytes: Uint8Array) => object
  Instance: new (module: object, imports: object) => { readonly exports: Record<string, unknown> }
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly

/** A memory of at least `bytes` and the update bound to it, or undefined if it cannot compile. */
export const adamwKernel = (bytes: number): { buffer: ArrayBuffer; update: AdamWKernel } | undefined => {
  try {
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) })
    const instance = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { env: { memory } })
    return { buffer: memory.buffer, update: instance.exports["adamw"] as AdamWKernel }
  } catch {
    return undefined
  }
}
