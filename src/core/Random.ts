/**
 * Seeded pseudo-random primitives shared by every part of cairn that must be reproducible
 * (data splits and augmentation, sweep draws and shards, bootstrap resampling, synthetic data).
 * None of this is cryptographic; what matters is that the same seed gives the same stream on
 * every platform, forever: stage outputs, trial ids and shard assignments depend on it.
 */

/** murmur3's 32-bit finaliser: every input bit affects every output bit. */
export const fmix32 = (x: number): number => {
  let h = x | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/**
 * FNV-1a over UTF-16 code units, finished with fmix32; 32-bit unsigned. Plain FNV-1a's low bits
 * depend on little more than the parity of the characters, which would make `hash mod n`
 * lopsided for small n; the finaliser spreads every input bit over the whole word.
 */
export const hash32 = (text: string, seed = 0x811c9dc5): number => {
  let h = seed >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return fmix32(h)
}

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator; passes PractRand to 2^40+ bytes):
 * a generator of unsigned 32-bit integers from four words of state.
 */
export const sfc32 = (a: number, b: number, c: number, d: number): (() => number) => () => {
  const t = (((a + b) | 0) + d) | 0
  d = (d + 1) | 0
  a = b ^ (b >>> 9)
  b = (c + (c << 3)) | 0
  c = (c << 21) | (c >>> 11)
  c = (c + t) | 0
  return t >>> 0
}

/** mulberry32: one word of state, floats in [0, 1); adequate for resampling and toy data. */
export const mulberry32 = (seed: number): (() => number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
