/**
 * Which trials a sweep runs: grid, random and bayes (TPE) search.
 *
 * Everything here is a pure function of (spec, history, seed), so every process, shard and
 * resumed run agrees on the trials. Trial ids are content hashes:
 * - grid: `t` + sha256(params)[:12]. A point keeps its id when the grid is extended, so
 *   extending a grid runs only the new points.
 * - random and bayes: `t` + sha256({index, params})[:12]. The index keeps two draws that happen
 *   to coincide distinct; the params make a changed search space yield new ids rather than
 *   silently reusing results of the old one.
 * Random draw i is taken from its own seeded stream, so raising `run_cap` adds trials without
 * changing the first ones. Bayes starts with `tpe.n_startup` random trials (identical to the
 * random method's first draws), then asks TPE for one trial at a time.
 */
import { contentId } from "./internal/CanonicalJson.js"
import { sampleParameter } from "./internal/Distribution.js"
import { gridPoints } from "./internal/Grid.js"
import { rngFor } from "./internal/Prng.js"
import { type Observation, tpeSuggest } from "./internal/Tpe.js"
import type { TrialStatus } from "./Journal.js"
import type { JsonValue, SweepSpec } from "./SweepSpec.js"

/** A trial's parameter overrides: dotted key (`tune.lr`) → value. */
export type TrialParamValues = Readonly<Record<string, JsonValue>>

export interface TrialParams {
  readonly id: string
  /** Position in the grid, or the draw number for random and bayes. */
  readonly index: number
  readonly params: TrialParamValues
  /** How the trial was chosen: a grid point, a random draw, a bayes start-up draw, or TPE. */
  readonly origin: "grid" | "random" | "startup" | "tpe"
}

/** What search needs to know about a trial that already exists. */
export interface TrialResult {
  readonly id: string
  readonly params: TrialParamValues
  readonly status: TrialStatus
  readonly metric?: number
}

const sortedParams = (params: Record<string, JsonValue>): TrialParamValues => {
  const out: Record<string, JsonValue> = {}
  for (const k of Object.keys(params).sort()) out[k] = params[k]!
  return out
}

export const gridTrialId = (params: TrialParamValues): string => contentId("t", params)
export const drawnTrialId = (index: number, params: TrialParamValues): string => contentId("t", { index, params })

/** The whole grid in W&B order, truncated to `run_cap` if one is set. */
export const gridTrials = (spec: SweepSpec): ReadonlyArray<TrialParams> => {
  const points = gridPoints(spec)
  const capped = spec.runCap === undefined ? points : points.slice(0, spec.runCap)
  return capped.map((p, index) => {
    const params = sortedParams({ ...p })
    return { id: gridTrialId(params), index, params, origin: "grid" }
  })
}

/** Random draw `index`: each parameter from its own stream (seed, "trial", index, key). */
export const randomTrial = (
  spec: SweepSpec,
  index: number,
  seed: number = spec.seed,
  origin: "random" | "startup" = "random"
): TrialParams => {
  const params: Record<string, JsonValue> = {}
  for (const p of spec.parameters) params[p.key] = sampleParameter(p, rngFor(seed, "trial", index, p.key))
  if (spec.group) {
    Object.assign(params, spec.group.options[rngFor(seed, "trial", index, "_").int(spec.group.options.length)]!)
  }
  const sorted = sortedParams(params)
  return { id: drawnTrialId(index, sorted), index, params: sorted, origin }
}

/** How many start-up (random) trials a bayes sweep runs before TPE takes over. */
export const startupCount = (spec: SweepSpec): number => Math.min(spec.tpe.nStartup, spec.runCap ?? Infinity)

/**
 * The trials the spec fixes without any results: the (capped) grid, every random draw up to
 * `run_cap`, or the start-up draws of a bayes sweep. These are what shards split between them.
 */
export const plannedTrials = (spec: SweepSpec, seed: number = spec.seed): ReadonlyArray<TrialParams> => {
  switch (spec.method) {
    case "grid":
      return gridTrials(spec)
    case "random":
      return Array.from({ length: spec.runCap ?? 0 }, (_, i) => randomTrial(spec, i, seed))
    case "bayes":
      return Array.from({ length: startupCount(spec) }, (_, i) => randomTrial(spec, i, seed, "startup"))
  }
}

/** Finished (or early-stopped) trials with a finite metric, as losses (lower is better). */
export const observationsOf = (spec: SweepSpec, history: ReadonlyArray<TrialResult>): ReadonlyArray<Observation> =>
  history.flatMap((t) =>
    (t.status === "finished" || t.status === "stopped") && typeof t.metric === "number" && Number.isFinite(t.metric)
      ? [{ params: t.params, loss: spec.metric.goal === "maximize" ? -t.metric : t.metric }]
      : []
  )

/**
 * The next `count` trials not already in `history` (fewer when the sweep is exhausted).
 * Deterministic given its inputs. For bayes, missing start-up trials come first; after them
 * each suggestion is a TPE step over the finished trials in `history`.
 */
export const suggest = (
  spec: SweepSpec,
  history: ReadonlyArray<TrialResult>,
  count: number,
  seed: number = spec.seed
): ReadonlyArray<TrialParams> => {
  const known = new Set(history.map((t) => t.id))
  const fresh = plannedTrials(spec, seed).filter((t) => !known.has(t.id)).slice(0, count)
  if (spec.method !== "bayes" || fresh.length === count) return fresh

  const startupIds = new Set(plannedTrials(spec, seed).map((t) => t.id))
  const sequentialSoFar = [...known].filter((id) => !startupIds.has(id)).length
  const nStartup = startupCount(spec)
  const room = (spec.runCap ?? Infinity) - nStartup - sequentialSoFar
  const observations = observationsOf(spec, history)
  const out = [...fresh]
  for (let k = 0; k < Math.min(count - fresh.length, room); k++) {
    const index = nStartup + sequentialSoFar + k
    if (observations.length === 0) {
      out.push(randomTrial(spec, index, seed, "startup"))
      continue
    }
    const params = sortedParams(tpeSuggest(spec, observations, rngFor(seed, "tpe", index)))
    out.push({ id: drawnTrialId(index, params), index, params, origin: "tpe" })
  }
  return out
}
