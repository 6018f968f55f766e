/**
 * Tree-structured Parzen Estimator (Bergstra, Bardenet, Bengio & Kégl, 2011), the model behind
 * `method: bayes`.
 *
 * Observations are split at the gamma quantile of the loss into "good" and "bad"; each
 * parameter gets one density per side: l(x) from the good, g(x) from the bad. Numeric
 * parameters use adaptive Parzen windows as in hyperopt (a truncated normal per observation,
 * bandwidth = distance to the farther neighbour, clipped, plus a wide prior kernel), in log
 * space for log distributions; categorical choices and the `_` group use smoothed counts with a
 * uniform prior. Candidates are drawn from l and the one with the largest l(x)/g(x), the
 * expected-improvement maximiser, is suggested. Parameters are modelled independently, as in
 * the paper's tree with no conditional nodes.
 */
import type { JsonValue, Parameter, SweepSpec } from "../SweepSpec.js"
import { canonicalJson } from "./CanonicalJson.js"
import { type NumericSpace, numericSpace } from "./Distribution.js"
import type { Rng } from "./Prng.js"
import { sampleTruncatedNormal, truncatedNormalLogPdf } from "./TruncatedNormal.js"

export interface Observation {
  readonly params: Readonly<Record<string, JsonValue>>
  /** Smaller is better: the metric, negated when the goal is maximize. */
  readonly loss: number
}

type Params = Record<string, JsonValue>

/** One modelled dimension: draw from l, score a draw by log l − log g, write it into params. */
interface Dimension<X> {
  readonly sample: (rng: Rng) => X
  readonly score: (x: X) => number
  readonly write: (x: X, into: Params) => void
}

interface Mixture {
  readonly mus: ReadonlyArray<number>
  readonly sigmas: ReadonlyArray<number>
  readonly weights: ReadonlyArray<number>
}

/** hyperopt's adaptive Parzen estimator with a prior kernel of weight 1. */
const parzen = (observed: ReadonlyArray<number>, low: number, high: number): Mixture => {
  const priorMu = (low + high) / 2
  const priorSigma = high - low
  const points = [...observed.map((mu) => ({ mu, prior: false })), { mu: priorMu, prior: true }]
    .sort((a, b) => a.mu - b.mu)
  const n = points.length
  const minSigma = priorSigma / Math.min(100, 1 + n)
  const sigmas = points.map((p, i) => {
    if (p.prior) return priorSigma
    let s: number
    if (n <= 2) s = priorSigma
    else if (i === 0) s = points[1]!.mu - p.mu
    else if (i === n - 1) s = p.mu - points[n - 2]!.mu
    else s = Math.max(p.mu - points[i - 1]!.mu, points[i + 1]!.mu - p.mu)
    return Math.min(priorSigma, Math.max(minSigma, s))
  })
  return { mus: points.map((p) => p.mu), sigmas, weights: points.map(() => 1 / n) }
}

const mixtureLogPdf = (m: Mixture, x: number, low: number, high: number): number => {
  const terms = m.mus.map((mu, i) => Math.log(m.weights[i]!) + truncatedNormalLogPdf(x, mu, m.sigmas[i]!, low, high))
  const top = Math.max(...terms)
  if (top === -Infinity) return -Infinity
  return top + Math.log(terms.reduce((acc, t) => acc + Math.exp(t - top), 0))
}

const pickWeighted = (rng: Rng, weights: ReadonlyArray<number>): number => {
  let u = rng.next() * weights.reduce((a, b) => a + b, 0)
  for (let i = 0; i < weights.length; i++) {
    u -= weights[i]!
    if (u < 0) return i
  }
  return weights.length - 1
}

const numericDimension = (
  key: string,
  space: NumericSpace,
  good: ReadonlyArray<Observation>,
  bad: ReadonlyArray<Observation>
): Dimension<number> => {
  const observed = (obs: ReadonlyArray<Observation>) =>
    obs.flatMap((o) => {
      const v = o.params[key]
      if (typeof v !== "number") return []
      const x = space.toSpace(v)
      return Number.isFinite(x) ? [Math.min(space.high, Math.max(space.low, x))] : []
    })
  const l = parzen(observed(good), space.low, space.high)
  const g = parzen(observed(bad), space.low, space.high)
  return {
    sample: (rng) => {
      const i = pickWeighted(rng, l.weights)
      return sampleTruncatedNormal(rng, l.mus[i]!, l.sigmas[i]!, space.low, space.high)
    },
    score: (x) => mixtureLogPdf(l, x, space.low, space.high) - mixtureLogPdf(g, x, space.low, space.high),
    write: (x, into) => {
      into[key] = space.fromSpace(x)
    }
  }
}

/** Smoothed counts: p(c) = (count(c) + 1/k) / (n + 1), hyperopt's prior weight 1. */
const categoricalDimension = (
  k: number,
  indexOf: (params: Observation["params"]) => number,
  good: ReadonlyArray<Observation>,
  bad: ReadonlyArray<Observation>,
  write: (i: number, into: Params) => void
): Dimension<number> => {
  const probs = (obs: ReadonlyArray<Observation>) => {
    const counts = new Array<number>(k).fill(1 / k)
    let n = 1
    for (const o of obs) {
      const i = indexOf(o.params)
      if (i >= 0) {
        counts[i]! += 1
        n += 1
      }
    }
    return counts.map((c) => c / n)
  }
  const l = probs(good)
  const g = probs(bad)
  return { sample: (rng) => pickWeighted(rng, l), score: (i) => Math.log(l[i]!) - Math.log(g[i]!), write }
}

const dimensionFor = (
  p: Parameter,
  good: ReadonlyArray<Observation>,
  bad: ReadonlyArray<Observation>
): Dimension<number> | undefined => {
  if (p.distribution === "constant") return undefined
  if (p.distribution === "categorical") {
    const keys = p.values.map(canonicalJson)
    return categoricalDimension(
      keys.length,
      (params) => (p.key in params ? keys.indexOf(canonicalJson(params[p.key])) : -1),
      good,
      bad,
      (i, into) => {
        into[p.key] = p.values[i]!
      }
    )
  }
  return numericDimension(p.key, numericSpace(p)!, good, bad)
}

/**
 * Split observations at the gamma quantile: the best ceil(gamma·n) form l(x), the rest g(x).
 * Ties keep history order, so the split is deterministic.
 */
export const splitObservations = (
  observations: ReadonlyArray<Observation>,
  gamma: number
): { readonly good: ReadonlyArray<Observation>; readonly bad: ReadonlyArray<Observation> } => {
  const sorted = observations.map((o, i) => ({ o, i })).sort((a, b) => a.o.loss - b.o.loss || a.i - b.i).map((x) => x.o)
  const nGood = Math.max(1, Math.ceil(gamma * sorted.length))
  return { good: sorted.slice(0, nGood), bad: sorted.slice(nGood) }
}

/** One TPE suggestion: the candidate from l(x) with the largest l(x)/g(x). */
export const tpeSuggest = (spec: SweepSpec, observations: ReadonlyArray<Observation>, rng: Rng): Params => {
  const { good, bad } = splitObservations(observations, spec.tpe.gamma)
  const dims: Array<Dimension<number>> = []
  const fixed: Params = {}
  for (const p of spec.parameters) {
    if (p.distribution === "constant") fixed[p.key] = p.value
    const d = dimensionFor(p, good, bad)
    if (d) dims.push(d)
  }
  const group = spec.group
  if (group) {
    const optionKeys = group.options.map((o) => canonicalJson(o))
    dims.push(categoricalDimension(
      group.options.length,
      (params) => {
        const keys = Object.keys(group.options[0]!)
        const picked: Record<string, JsonValue> = {}
        for (const k of keys) if (k in params) picked[k] = params[k]!
        return optionKeys.indexOf(canonicalJson(picked))
      },
      good,
      bad,
      (i, into) => Object.assign(into, group.options[i]!)
    ))
  }

  let best: { xs: Array<number>; score: number } | undefined
  for (let c = 0; c < spec.tpe.candidates; c++) {
    const xs = dims.map((d) => d.sample(rng))
    const score = dims.reduce((acc, d, i) => acc + d.score(xs[i]!), 0)
    if (best === undefined || score > best.score) best = { xs, score }
  }
  const params: Params = { ...fixed }
  dims.forEach((d, i) => d.write(best!.xs[i]!, params))
  return params
}
