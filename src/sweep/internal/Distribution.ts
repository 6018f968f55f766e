/**
 * Drawing one value of a parameter, with W&B's semantics: int_uniform is inclusive of both
 * bounds, log_uniform_values is uniform in log space between the given values, and the q_
 * variants round to the nearest multiple of q (default 1).
 *
 * One deliberate difference: W&B may round a q_ value to a multiple just outside [min, max]
 * (min 0.5, q 1 can give 0); here the value moves to the nearest multiple inside the bounds when
 * one exists, so a trial never runs with a value outside the declared range.
 */
import type { JsonValue, Parameter } from "../SweepSpec.js"
import type { Rng } from "./Prng.js"

/** Strip float noise from k·q (0.30000000000000004 → 0.3) so ids and tables stay readable. */
const clean = (x: number): number => Number(x.toPrecision(12))

export const quantize = (x: number, q: number, min: number, max: number): number => {
  const eps = q * 1e-9
  let k = Math.round(x / q)
  if (k * q < min - eps && Math.ceil(min / q - 1e-9) * q <= max + eps) k = Math.ceil(min / q - 1e-9)
  if (k * q > max + eps && Math.floor(max / q + 1e-9) * q >= min - eps) k = Math.floor(max / q + 1e-9)
  return clean(k * q)
}

/** Every multiple of q inside [min, max], ascending: how a grid enumerates q_uniform. */
export const multiplesWithin = (min: number, max: number, q: number): ReadonlyArray<number> => {
  const out: Array<number> = []
  const first = Math.ceil(min / q - 1e-9)
  const last = Math.floor(max / q + 1e-9)
  for (let k = first; k <= last; k++) out.push(clean(k * q))
  return out
}

export const sampleParameter = (p: Parameter, rng: Rng): JsonValue => {
  switch (p.distribution) {
    case "constant":
      return p.value
    case "categorical":
      return p.values[rng.int(p.values.length)]!
    case "int_uniform":
      return p.min + rng.int(p.max - p.min + 1)
    case "uniform":
      return p.min + rng.next() * (p.max - p.min)
    case "q_uniform":
      return quantize(p.min + rng.next() * (p.max - p.min), p.q, p.min, p.max)
    case "log_uniform_values":
      return logUniform(p.min, p.max, rng.next())
    case "q_log_uniform_values":
      return quantize(logUniform(p.min, p.max, rng.next()), p.q, p.min, p.max)
  }
}

const logUniform = (min: number, max: number, u: number): number => {
  const lo = Math.log(min)
  // exp(log(max)) can land a hair above max; keep the value inside the declared range.
  return Math.min(max, Math.max(min, Math.exp(lo + u * (Math.log(max) - lo))))
}

/**
 * A numeric parameter seen as an interval of the real line, the space TPE models it in:
 * log space for log distributions, and integer/q steps widened by half a step on each side so
 * the end values get their fair share of mass.
 */
export interface NumericSpace {
  readonly low: number
  readonly high: number
  readonly toSpace: (value: number) => number
  readonly fromSpace: (x: number) => number
}

export const numericSpace = (p: Parameter): NumericSpace | undefined => {
  switch (p.distribution) {
    case "constant":
    case "categorical":
      return undefined
    case "uniform":
      return { low: p.min, high: p.max, toSpace: (v) => v, fromSpace: (x) => Math.min(p.max, Math.max(p.min, x)) }
    case "int_uniform":
      return {
        low: p.min - 0.5,
        high: p.max + 0.5,
        toSpace: (v) => v,
        fromSpace: (x) => Math.min(p.max, Math.max(p.min, Math.round(x)))
      }
    case "q_uniform":
      return {
        low: p.min - p.q / 2,
        high: p.max + p.q / 2,
        toSpace: (v) => v,
        fromSpace: (x) => quantize(x, p.q, p.min, p.max)
      }
    case "log_uniform_values":
      return {
        low: Math.log(p.min),
        high: Math.log(p.max),
        toSpace: Math.log,
        fromSpace: (x) => Math.min(p.max, Math.max(p.min, Math.exp(x)))
      }
    case "q_log_uniform_values":
      return {
        low: Math.log(p.min),
        high: Math.log(p.max),
        toSpace: Math.log,
        fromSpace: (x) => quantize(Math.exp(x), p.q, p.min, p.max)
      }
  }
}
