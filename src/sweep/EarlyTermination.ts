/**
 * Early termination of trials from the metric they report at each evaluation.
 *
 * `iteration` is the 1-based count of evaluations a trial has reported, the unit W&B counts in
 * (one logged metric row = one iteration) and the unit `min_iter`/`max_iter` are written in.
 *
 * Hyperband follows W&B's `hyperband_stopping`:
 * - bands are `trunc(min_iter·eta^k)` for k = 0, 1, …, or with `max_iter` and `s`,
 *   `trunc(max_iter/eta^k)` for k = 1..s while ≥ 1;
 * - the threshold of band b is taken over every trial that reached b (finished ones too):
 *   sort their metric at b best-first and take the element at index ⌊n/eta⌋;
 * - a trial is judged at the last band it has reached; it stops if its value is worse than that
 *   band's threshold. Strict (W&B's schema default) judges its value at the band; non-strict
 *   judges its best value so far, which stops fewer trials.
 * W&B re-judges a running trial on every poll; so does this, on every call.
 *
 * ASHA (Li et al., "A System for Massively Parallel Hyperparameter Tuning", 2020), with the
 * promotion rule of Ray Tune's implementation: rungs at `min_iter·eta^k` below `max_iter`; when a
 * trial first reaches a rung its value there is recorded, and it continues only if that value is
 * at least as good as the (1 − 1/eta) quantile (linear interpolation) of all values recorded at
 * the rung, i.e. it is in the top 1/eta. A trial is judged once per rung, when it reaches it,
 * and never demoted later; call `shouldStop` after every report.
 */
import type { AshaSpec, EarlyTerminateSpec, Goal, HyperbandSpec } from "./SweepSpec.js"

export interface MetricReport {
  readonly iteration: number
  readonly metric: number
}

export interface StopDecision {
  readonly stop: boolean
  readonly reason?: string
}

export type TrialHistories = ReadonlyMap<string, ReadonlyArray<MetricReport>>

/** Reports with a finite metric, in iteration order; W&B likewise drops invalid values. */
const cleanReports = (reports: ReadonlyArray<MetricReport> | undefined): ReadonlyArray<MetricReport> =>
  (reports ?? []).filter((r) => Number.isFinite(r.metric) && Number.isFinite(r.iteration))
    .slice()
    .sort((a, b) => a.iteration - b.iteration)

/** Lower is better after this, whatever the goal: W&B negates maximised metrics the same way. */
const asLoss = (goal: Goal, metric: number): number => (goal === "maximize" ? -metric : metric)
const fromLoss = asLoss

/** Hyperband's bands up to (and including) `upTo`; with `max_iter` the list is finite anyway. */
export const hyperbandBands = (spec: HyperbandSpec, upTo: number): ReadonlyArray<number> => {
  const bands: Array<number> = []
  if (spec.minIter !== undefined) {
    // W&B builds 100 bands by repeated multiplication; only those we can reach matter.
    let band = spec.minIter
    for (let k = 0; k < 100 && Math.trunc(band) <= upTo; k++) {
      bands.push(Math.trunc(band))
      band *= spec.eta
    }
    return bands
  }
  let band = spec.maxIter ?? 0
  for (let k = 0; k < (spec.s ?? 0); k++) {
    band /= spec.eta
    if (band < 1) break
    bands.push(Math.trunc(band))
  }
  return bands.sort((a, b) => a - b)
}

/** The value a trial had at iteration b: its last report at or before b. */
const valueAt = (reports: ReadonlyArray<MetricReport>, b: number): number | undefined => {
  let v: number | undefined
  for (const r of reports) {
    if (r.iteration > b) break
    v = r.metric
  }
  return v
}

const lastIteration = (reports: ReadonlyArray<MetricReport>): number =>
  reports.length === 0 ? 0 : reports[reports.length - 1]!.iteration

/** Threshold of band b as W&B computes it, in loss units; Infinity when no trial reached b. */
export const hyperbandThreshold = (
  spec: HyperbandSpec,
  goal: Goal,
  histories: TrialHistories,
  band: number
): number => {
  const values: Array<number> = []
  for (const reports of histories.values()) {
    const clean = cleanReports(reports)
    if (lastIteration(clean) < band) continue
    const v = valueAt(clean, band)
    if (v !== undefined) values.push(asLoss(goal, v))
  }
  if (values.length === 0) return Infinity
  values.sort((a, b) => a - b)
  return values[Math.trunc((1 / spec.eta) * values.length)]!
}

const hyperbandShouldStop = (
  spec: HyperbandSpec,
  goal: Goal,
  histories: TrialHistories,
  trialId: string
): StopDecision => {
  const reports = cleanReports(histories.get(trialId))
  const reached = lastIteration(reports)
  const bands = hyperbandBands(spec, reached).filter((b) => b <= reached)
  const band = bands[bands.length - 1]
  if (band === undefined) return { stop: false }
  const threshold = hyperbandThreshold(spec, goal, histories, band)
  const value = spec.strict
    ? asLoss(goal, valueAt(reports, band)!)
    : Math.min(...reports.map((r) => asLoss(goal, r.metric)))
  if (value > threshold) {
    return {
      stop: true,
      reason: `hyperband: ${spec.strict ? "metric at" : "best metric by"} band ${band} is ${
        fromLoss(goal, value)
      }, worse than the band's threshold ${fromLoss(goal, threshold)}`
    }
  }
  return { stop: false }
}

/** ASHA's rungs: min_iter·eta^k, strictly below max_iter when one is given. */
export const ashaRungs = (spec: AshaSpec, upTo: number): ReadonlyArray<number> => {
  const rungs: Array<number> = []
  const limit = Math.min(upTo, spec.maxIter === undefined ? Infinity : spec.maxIter - 1e-9)
  for (let r = spec.minIter; r <= limit; r *= spec.eta) rungs.push(r)
  return rungs
}

/** numpy's default (linear) percentile, p in [0, 1], of sorted ascending values. */
const percentile = (sorted: ReadonlyArray<number>, p: number): number => {
  const pos = (sorted.length - 1) * p
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo)
}

/** The report with which a trial first reached `rung`, if it has. */
const reportAtRung = (reports: ReadonlyArray<MetricReport>, rung: number): MetricReport | undefined =>
  reports.find((r) => r.iteration >= rung)

const ashaShouldStop = (spec: AshaSpec, goal: Goal, histories: TrialHistories, trialId: string): StopDecision => {
  const reports = cleanReports(histories.get(trialId))
  const latest = reports[reports.length - 1]
  if (latest === undefined) return { stop: false }
  const rungs = ashaRungs(spec, latest.iteration)
  const rung = rungs[rungs.length - 1]
  // Judged only at the moment the trial reaches the rung; a promotion is never taken back.
  if (rung === undefined || reportAtRung(reports, rung) !== latest) return { stop: false }
  // Work in "higher is better" so the cutoff is the (1 − 1/eta) quantile, as in Ray Tune.
  const score = (m: number) => -asLoss(goal, m)
  const recorded: Array<number> = []
  for (const other of histories.values()) {
    const r = reportAtRung(cleanReports(other), rung)
    if (r !== undefined) recorded.push(score(r.metric))
  }
  recorded.sort((a, b) => a - b)
  const cutoff = percentile(recorded, 1 - 1 / spec.eta)
  if (score(latest.metric) < cutoff) {
    return {
      stop: true,
      reason: `asha: metric ${latest.metric} at rung ${rung} is outside the top 1/${spec.eta} of ${recorded.length} ` +
        `trials (cutoff ${goal === "maximize" ? cutoff : -cutoff})`
    }
  }
  return { stop: false }
}

/**
 * Should `trialId` stop now? `histories` holds every trial of the sweep (running, finished and
 * stopped), each with the metric reports it made so far.
 */
export const shouldStop = (
  scheduler: EarlyTerminateSpec,
  goal: Goal,
  histories: TrialHistories,
  trialId: string
): StopDecision =>
  scheduler.type === "hyperband"
    ? hyperbandShouldStop(scheduler, goal, histories, trialId)
    : ashaShouldStop(scheduler, goal, histories, trialId)
