/**
 * Seeded pseudo-random numbers: sfc32 (Chris Doty-Humphrey's Small Fast Counting generator),
 * seeded through splitmix32 from a hash of a label path.
 *
 * Every draw in a sweep comes from its own labelled stream, e.g. (seed, "trial", 7, "tune.lr"),
 * so one trial's value of one parameter does not depend on how many trials or parameters came
 * before it: extending `run_cap`, or adding a parameter, leaves the existing draws unchanged.
 */
import { hash32, sfc32 as sfc32Words } from "../../core/Random.js"

export interface Rng {
  /** Uniform in [0, 1). */
  readonly next: () => number
  /** Uniform integer in [0, n). */
  readonly int: (n: number) => number
}

const sfc32 = (a: number, b: number, c: number, d: number): Rng => {
  const next32 = sfc32Words(a, b, c, d)
  const next = (): number => next32() / 4294967296
  return { next, int: (n) => Math.floor(next() * n) }
}

const splitmix32 = (seed: number): (() => number) => {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) | 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** The stream named by `path`; the same path always yields the same sequence. */
export const rngFor = (...path: ReadonlyArray<string | number>): Rng => {
  const mix = splitmix32(hash32(path.join("\u0000")))
  const rng = sfc32(mix(), mix(), mix(), mix())
  // sfc32's first outputs are correlated with its seed words; discard a few, as its author advises.
  for (let i = 0; i < 12; i++) rng.next()
  return rng
}
