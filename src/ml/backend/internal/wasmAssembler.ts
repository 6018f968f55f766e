/**
 * A few WebAssembly encoders and instruction emitters, enough to generate the small kernels
 * cairn compiles at run time (the relaxed-SIMD GEMM, the AdamW update) without a toolchain.
 * Each emitter returns the instruction's bytes; see the WebAssembly binary format spec.
 */

export const uleb = (n: number): Array<number> => {
  const out: Array<number> = []
  do {
    let byte = n & 0x7f
    n >>>= 7
    if (n !== 0) byte |= 0x80
    out.push(byte)
  } while (n !== 0)
  return out
}

export const sleb = (n: number): Array<number> => {
  const out: Array<number> = []
  for (;;) {
    const byte = n & 0x7f
    n >>= 7
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte)
      return out
    }
    out.push(byte | 0x80)
  }
}

export const vec = (items: ReadonlyArray<ReadonlyArray<number>>): Array<number> => [...uleb(items.length), ...items.flat()]
export const name = (s: string): Array<number> => vec([...Buffer.from(s)].map((b) => [b]))
export const section = (id: number, body: ReadonlyArray<number>): Array<number> => [id, ...uleb(body.length), ...body]

export const I32 = 0x7f
export const F32 = 0x7d
export const V128 = 0x7b
export const VOID = 0x40

export const get = (i: number) => [0x20, ...uleb(i)]
export const set = (i: number) => [0x21, ...uleb(i)]
export const i32 = (v: number) => [0x41, ...sleb(v)]
export const add = [0x6a]
export const sub = [0x6b]
export const mul = [0x6c]
export const and = [0x71]
export const shrU = [0x76]
export const eqz = [0x45]
export const eq = [0x46]
export const ltU = [0x49]
export const gtU = [0x4b]
export const geU = [0x4f]
export const select = [0x1b]
export const block = [0x02, VOID]
export const loop = [0x03, VOID]
export const ifThen = [0x04, VOID]
export const orElse = [0x05]
export const end = [0x0b]
export const br = (depth: number) => [0x0c, ...uleb(depth)]
export const brIf = (depth: number) => [0x0d, ...uleb(depth)]
export const call = (fn: number) => [0x10, ...uleb(fn)]
export const f32Load = (offset = 0) => [0x2a, 2, ...uleb(offset)]
export const f32Store = (offset = 0) => [0x38, 2, ...uleb(offset)]
export const simd = (code: number, ...immediates: Array<number>) => [0xfd, ...uleb(code), ...immediates]
export const v128Load = (offset = 0) => simd(0, 4, ...uleb(offset))
export const v128Load32Splat = simd(9, 2, 0)
export const v128Store = (offset = 0) => simd(11, 4, ...uleb(offset))
export const v128Zero = simd(12, ...new Array<number>(16).fill(0))
export const relaxedMadd = simd(0x105) // a·b + c, fused where the CPU has FMA
export const f32x4Splat = simd(19)
export const f32x4Mul = simd(230)

/** `while (!(cond)) { body }`, i.e. a loop left when `exit` (an i32 condition) is true. */
export const until = (exit: ReadonlyArray<number>, body: ReadonlyArray<number>) => [...block, ...loop, ...exit, ...brIf(1), ...body, ...br(0), ...end, ...end]
