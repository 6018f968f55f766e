/**
 * Planning a (re)started sweep from its journal: which trials to run now.
 *
 * - never rerun a finished or early-stopped trial;
 * - rerun a trial left `running` by a process that died (heartbeat older than `staleAfterMs`);
 *   a fresh heartbeat means another process is on it, so leave it alone;
 * - rerun `pending` trials (planned, never started) and, with `retryFailed`, failed ones;
 * - everything the spec now plans that the journal has never seen is new. Ids are hashes of
 *   params, so raising `run_cap` or adding grid values yields exactly the added trials.
 * Bayes sweeps also report how many sequential TPE trials remain; those are suggested one at a
 * time by `suggest` as results arrive, and never inside a shard.
 */
import type { TrialState } from "./Journal.js"
import { plannedTrials, startupCount, type TrialParams } from "./Search.js"
import { inShard, type Shard } from "./Shard.js"
import type { SweepSpec } from "./SweepSpec.js"

export interface ResumeOptions {
  /** Current time in ms since the epoch (passed in so planning stays pure). */
  readonly now: number
  /**
   * A `running` trial whose last heartbeat is older than this is taken as orphaned.
   * Default 10 minutes; 0 when the caller holds the sweep lock and knows nobody else runs.
   */
  readonly staleAfterMs?: number
  readonly shard?: Shard
  readonly retryFailed?: boolean
}

export interface ResumePlan {
  /** Trials to run now, in planned order: retried ones keep their recorded params. */
  readonly run: ReadonlyArray<TrialParams>
  /** Ids in `run` that the journal already knew (orphaned running, pending, retried failed). */
  readonly resumed: ReadonlyArray<string>
  /** Finished or stopped: never rerun. */
  readonly done: ReadonlyArray<string>
  /** Failed and not retried. */
  readonly failed: ReadonlyArray<string>
  /** Running with a fresh heartbeat: owned by another live process. */
  readonly active: ReadonlyArray<string>
  /** Bayes only: TPE trials still to suggest after `run` (0 inside a shard). */
  readonly sequential: number
  /** True when a sharded bayes job left sequential trials for a single unsharded job. */
  readonly sequentialNeedsSingleJob: boolean
}

export const DEFAULT_STALE_AFTER_MS = 10 * 60_000

export const planResume = (
  spec: SweepSpec,
  state: ReadonlyMap<string, TrialState>,
  options: ResumeOptions
): ResumePlan => {
  const staleAfter = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS
  const run: Array<TrialParams> = []
  const resumed: Array<string> = []
  const done: Array<string> = []
  const failed: Array<string> = []
  const active: Array<string> = []

  const consider = (trial: TrialParams): void => {
    const s = state.get(trial.id)
    if (s === undefined) {
      run.push(trial)
      return
    }
    switch (s.status) {
      case "finished":
      case "stopped":
        done.push(s.id)
        return
      case "failed":
        if (options.retryFailed) {
          run.push({ ...trial, params: s.params })
          resumed.push(s.id)
        } else failed.push(s.id)
        return
      case "pending":
        run.push({ ...trial, params: s.params })
        resumed.push(s.id)
        return
      case "running": {
        const beat = Date.parse(s.heartbeat ?? s.updatedAt)
        if (Number.isNaN(beat) || options.now - beat >= staleAfter) {
          run.push({ ...trial, params: s.params })
          resumed.push(s.id)
        } else active.push(s.id)
        return
      }
    }
  }

  const planned = plannedTrials(spec)
  for (const t of planned) if (inShard(t.id, options.shard)) consider(t)

  let sequential = 0
  if (spec.method === "bayes") {
    const plannedIds = new Set(planned.map((t) => t.id))
    // Sequential trials exist only in the journal: their params came from TPE at the time.
    const sequentialKnown = [...state.values()].filter((s) => !plannedIds.has(s.id))
    if (options.shard === undefined) {
      sequentialKnown.forEach((s, i) =>
        consider({ id: s.id, index: startupCount(spec) + i, params: s.params, origin: "tpe" })
      )
    }
    sequential = Math.max(0, (spec.runCap ?? 0) - startupCount(spec) - sequentialKnown.length)
  }
  const sharded = options.shard !== undefined
  return {
    run,
    resumed,
    done,
    failed,
    active,
    sequential: sharded ? 0 : sequential,
    sequentialNeedsSingleJob: sharded && sequential > 0
  }
}
