/**
 * Small seeded random streams for the data stages.
 *
 * Reproducibility is per decision, not per run: a stream is derived from the seed plus a label
 * (record id, operation, copy index), so the outcome for one record does not depend on how many
 * records came before it, on their order, or on which other operations are enabled.
 * The generator is sfc32 (passes PractRand to 2^40+ bytes, four 32-bit words of state), seeded
 * through a 32-bit string hash; streams are not cryptographic and do not need to be.
 */

import { hash32, sfc32 } from "../../core/Random.js"

export { fmix32, hash32 } from "../../core/Random.js"

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
  const next32 = sfc32(hash32(key, 0x9e3779b9), hash32(key, 0x85ebca6b), hash32(key, 0xc2b2ae35), 1)
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
