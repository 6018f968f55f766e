/**
 * Seeded, serialisable randomness for everything the ML toolkit draws: weight initialisation,
 * dropout masks, data order and sampling.
 *
 * TensorFlow.js random ops keep hidden state and differ between backends, so nothing here uses
 * them. The generator is xoshiro128** (four 32-bit words of state, exported by `state()` so a
 * checkpoint can restore it exactly). Streams that must not depend on each other (dropout at
 * step 7 vs. the data order) are derived from the run seed with {@link deriveSeed} instead of
 * drawing from one shared generator, so adding a draw in one place never shifts another.
 */

/** SplitMix32 step: spreads a 32-bit seed into well-mixed state words. */
const splitMix32 = (x: number): number => {
  let z = (x + 0x9e3779b9) | 0
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

/** Hash a seed and a path of integer keys into a new 32-bit seed (order-sensitive). */
export const deriveSeed = (seed: number, ...keys: ReadonlyArray<number>): number => {
  let h = splitMix32(seed >>> 0)
  for (const key of keys) h = splitMix32((h ^ Math.imul(key >>> 0, 0x27d4eb2d)) >>> 0)
  return h
}

export class Rng {
  private s0: number
  private s1: number
  private s2: number
  private s3: number

  private constructor(s0: number, s1: number, s2: number, s3: number) {
    this.s0 = s0
    this.s1 = s1
    this.s2 = s2
    this.s3 = s3
  }

  static seeded(seed: number): Rng {
    let x = seed >>> 0
    const words: Array<number> = []
    for (let i = 0; i < 4; i++) {
      x = splitMix32(x)
      words.push(x)
    }
    // xoshiro must not start from the all-zero state.
    if ((words[0]! | words[1]! | words[2]! | words[3]!) === 0) words[0] = 1
    return new Rng(words[0]!, words[1]!, words[2]!, words[3]!)
  }

  static fromState(state: ReadonlyArray<number>): Rng {
    if (state.length !== 4) throw new Error(`Rng state needs 4 words, got ${state.length}`)
    return new Rng(state[0]! >>> 0, state[1]! >>> 0, state[2]! >>> 0, state[3]! >>> 0)
  }

  state(): [number, number, number, number] {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0]
  }

  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0
    const t = this.s1 << 9
    this.s2 ^= this.s0
    this.s3 ^= this.s1
    this.s1 ^= this.s2
    this.s0 ^= this.s3
    this.s2 ^= t
    this.s3 = rotl(this.s3, 11)
    return result
  }

  /** Uniform in [0, 1) with 32 bits of resolution. */
  next(): number {
    return this.nextUint32() / 4294967296
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /** Standard normal by Box-Muller; one value per call so the state stays four words. */
  normal(): number {
    const u = 1 - this.next() // (0, 1]: log(0) would be -Infinity
    const v = this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  /** Fisher-Yates shuffle in place. */
  shuffle<T>(items: Array<T>): Array<T> {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1)
      const tmp = items[i]!
      items[i] = items[j]!
      items[j] = tmp
    }
    return items
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))

/** `n` draws from N(0, std²) as float32, e.g. for weight initialisation. */
export const normalArray = (rng: Rng, n: number, std: number): Float32Array => {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = rng.normal() * std
  return out
}

/** `n` draws from U(-bound, bound) as float32. */
export const uniformArray = (rng: Rng, n: number, bound: number): Float32Array => {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = (rng.next() * 2 - 1) * bound
  return out
}

/**
 * An inverted-dropout mask: each element is 0 with probability `rate`, else 1/(1-rate).
 * Generated in JS from a seed so every backend sees the same mask for the same seed.
 */
export const dropoutMask = (n: number, rate: number, seed: number): Float32Array => {
  const out = new Float32Array(n)
  const keep = 1 / (1 - rate)
  const threshold = rate * 4294967296
  const rng = Rng.seeded(seed)
  for (let i = 0; i < n; i++) out[i] = rng.nextUint32() < threshold ? 0 : keep
  return out
}
