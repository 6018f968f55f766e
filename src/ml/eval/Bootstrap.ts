/**
 * Seeded percentile-bootstrap confidence intervals for corpus-level metrics.
 *
 * Each replicate resamples segment indices with replacement and recomputes the
 * corpus metric from its sufficient statistics (BLEU from summed n-gram
 * counts, perplexity from summed NLL and token counts, a mean from summed
 * values), never by averaging sentence-level scores, which would be a
 * different statistic. All metrics of one call share the same resamples, so
 * their intervals are paired. The interval is the (alpha/2, 1 − alpha/2)
 * percentile pair with numpy's default linear interpolation, as rouge_score's
 * BootstrapAggregator reports it.
 */
import { mulberry32 } from "../../core/Random.js"

export interface BootstrapOptions {
  /** Number of bootstrap replicates. */
  readonly samples: number
  /** PRNG seed; same seed and data → same interval. */
  readonly seed: number
  /** 1 − confidence level; default 0.05 (a 95% interval). */
  readonly alpha?: number
}

export interface Interval {
  readonly low: number
  readonly high: number
}

/** numpy.percentile(sorted, q) with the default linear method, q in [0, 1]. */
export const percentile = (sorted: ReadonlyArray<number>, q: number): number => {
  if (sorted.length === 0) return Number.NaN
  const position = q * (sorted.length - 1)
  const lower = Math.floor(position)
  const upper = Math.min(lower + 1, sorted.length - 1)
  const fraction = position - lower
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * fraction
}

const validate = (n: number, options: BootstrapOptions): number => {
  const alpha = options.alpha ?? 0.05
  if (!Number.isInteger(options.samples) || options.samples < 1) {
    throw new RangeError(`bootstrap samples must be a positive integer, got ${options.samples}`)
  }
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`bootstrap alpha must be in (0, 1), got ${alpha}`)
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`bootstrap needs at least one segment, got ${n}`)
  return alpha
}

/**
 * Runs `options.samples` replicates over `n` segments. `replicate` receives the
 * resampled indices (length n, with repeats) and returns every metric's value
 * on that resample; non-finite values (e.g. a resample with no tokens) are
 * left out of the percentiles.
 */
export const bootstrapIntervals = <K extends string>(
  n: number,
  options: BootstrapOptions,
  replicate: (indices: Uint32Array) => Readonly<Record<K, number>>
): Record<K, Interval> => {
  const alpha = validate(n, options)
  const random = mulberry32(options.seed)
  const indices = new Uint32Array(n)
  const values = new Map<K, Array<number>>()
  for (let s = 0; s < options.samples; s++) {
    for (let k = 0; k < n; k++) indices[k] = Math.floor(random() * n)
    const result = replicate(indices)
    for (const key of Object.keys(result) as Array<K>) {
      let list = values.get(key)
      if (list === undefined) values.set(key, (list = []))
      const v = result[key]
      if (Number.isFinite(v)) list.push(v)
    }
  }
  const intervals = {} as Record<K, Interval>
  for (const [key, list] of values) {
    list.sort((a, b) => a - b)
    intervals[key] = { low: percentile(list, alpha / 2), high: percentile(list, 1 - alpha / 2) }
  }
  return intervals
}
