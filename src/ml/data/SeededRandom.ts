/**
 * Small seeded random streams for the data stages.
 *
 * Reproducibility is per decision, not per run: a stream is derived from the seed plus a label
 * (record id, operation, copy index), so the outcome for one record does not depend on how many
 * records came before it, on their order, or on which other operations are enabled.
 * The generator is sfc32 (passes PractRand to 2^40+ bytes, four 32-bit words of state), seeded
 * through a 32-bit string hash; streams are not cryptographic and do not need to be.
 */

/** FNV-1a over UTF-16 code units, finished with murmur3's avalanche; 32-bit unsigned. */
export const hash32 = (text: string, seed = 0x811c9dc5): number => {
  let h = seed >>> 0
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return fmix32(h)
}

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

export interface Random {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** True with probability p. */
  chance(p: number): boolean
  pick<T>(items: ReadonlyArray<T>): T
  /** Fisher–Yates shuffle of a copy. */
  shuffle<T>(items: ReadonlyArray<T>): Array<T>
}

/** A stream determined by `seed` and the labels (joined, so `("a", 1)` differs from `("a1")`). */
export const seededRandom = (seed: number | string, ...labels: ReadonlyArray<string | number>): Random => {
  const key = [String(seed), ...labels.map(String)].join("\u001f")
  let a = hash32(key, 0x9e3779b9)
  let b = hash32(key, 0x85ebca6b)
  let c = hash32(key, 0xc2b2ae35)
  let d = 1
  const next32 = (): number => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) next32() // let the seed mix in before the first draw
  const next = (): number => next32() / 4294967296
  const int = (n: number): number => Math.floor(next() * n)
  return {
    next,
    int,
    chance: (p) => next() < p,
    pick: (items) => items[int(items.length)]!,
    shuffle: (items) => {
      const out = [...items]
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(i + 1)
        const tmp = out[i]!
        out[i] = out[j]!
        out[j] = tmp
      }
      return out
    }
  }
}
