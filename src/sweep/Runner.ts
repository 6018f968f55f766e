/**
 * Runs a sweep (DESIGN.md §7). A trial is the pipeline's graph opened with the trial's parameter
 * overrides and run by the ordinary executor in a workspace of its own,
 * `.cairn/sweeps/<sweep>/trials/<id>/` (see `internal/TrialWorkspace.ts`):
 *
 *   validate → lock the sweep → plan from the journal → shared stages once, in the main workspace
 *   → trials, up to `jobs` at a time → (bayes) sequential TPE trials → results
 *
 * Stages no parameter reaches have one key in every trial. They run first, once, in the main
 * workspace (which records them in `cairn.lock` as `cairn run <stage>` would); each trial then
 * restores them from the shared store into its own workspace instead of running them again.
 * Trials write only their own workspace and lock file, never the main `cairn.lock`.
 *
 * The journal is the sweep's state: a trial is `running` from its start (with periodic
 * heartbeats, and one event per evaluation when early termination is on), then `finished`,
 * `stopped` or `failed`. The sweep holds a lock for its whole run, so a `running` trial found in
 * the journal belongs to a process that died and is run again; finished and stopped trials never
 * are. Ctrl-C marks the trials it interrupts `pending`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Clock, Data, Deferred, Effect, Result } from "effect"
import { PipelineInvalid, PipelineInvalidMany, StoreError, UsageError } from "../core/Errors.js"
import type { RunEvent } from "../core/RunEvent.js"
import { loadPipeline, type LoadedPipeline } from "../config/PipelineFile.js"
import { runGraph } from "../engine/Executor.js"
import { openGraph, type WorkspacePaths } from "../engine/Workspace.js"
import type { Graph } from "../graph/Graph.js"
import { Reporter, type ReporterShape } from "../report/Reporter.js"
import { acquireLock } from "../store/Locks.js"
import {
  appendJournal,
  foldJournal,
  journalPath,
  JournalError,
  readJournalDetailed,
  type TrialEvent,
  type TrialState
} from "./Journal.js"
import { appendStepSummary, publishResults, type Published } from "./Publish.js"
import { sweepDirectory } from "./SweepDirectory.js"
import { planResume } from "./Resume.js"
import { suggest, type TrialParams, type TrialParamValues, type TrialResult } from "./Search.js"
import { formatShard, type Shard } from "./Shard.js"
import { decodeSweep, parameterKeys, type SweepSpec, type SweepSpecIssue } from "./SweepSpec.js"
import { layoutSweep, type SweepLayout } from "./internal/SweepLayout.js"
import { makeTerminator, objectiveIn, type ProgressReport } from "./internal/Terminator.js"
import { trialMetrics } from "./internal/TrialMetrics.js"
import { hiddenPaths, mirrorWorkspace, trialDir, trialPaths } from "./internal/TrialWorkspace.js"

/** What happens to a sweep's trials, as data; the CLI renders these. */
export type SweepEvent =
  | {
    readonly _tag: "SweepPlanned"
    readonly sweep: string
    readonly method: SweepSpec["method"]
    /** The objective, `<stage>.<key>`. */
    readonly metric: string
    readonly shard?: string
    /** Trials to run now (new ones and `resumed` ones). */
    readonly run: number
    readonly resumed: number
    readonly done: number
    readonly failed: number
    /** Bayes: TPE trials to suggest after `run`. */
    readonly sequential: number
    /** Stages every trial shares, run once in the main workspace. */
    readonly shared: ReadonlyArray<string>
  }
  | { readonly _tag: "TrialStarted"; readonly id: string; readonly params: TrialParamValues; readonly resumed: boolean }
  | {
    readonly _tag: "TrialFinished"
    readonly id: string
    readonly metric?: number
    readonly durationMs: number
    readonly reason?: string
  }
  | { readonly _tag: "TrialStopped"; readonly id: string; readonly metric?: number; readonly reason: string; readonly durationMs: number }
  | { readonly _tag: "TrialFailed"; readonly id: string; readonly reason: string; readonly durationMs: number }
  | { readonly _tag: "SweepNote"; readonly message: string }

export interface SweepRunOptions {
  readonly shard?: Shard
  /** Trials run at once; each runs its stages one at a time. */
  readonly jobs: number
  /** Run `failed` trials again. */
  readonly retryFailed: boolean
  /** Period of a running trial's heartbeat in the journal. */
  readonly heartbeatMs?: number
  readonly onEvent: (event: SweepEvent) => Effect.Effect<void>
}

export interface SweepOutcome {
  readonly spec: SweepSpec
  /** Every trial the journal knows, after this run. */
  readonly state: ReadonlyMap<string, TrialState>
  readonly published: Published
  /** A sentence for the user when work is left (bayes after a sharded run). */
  readonly note?: string
}

/** Trials of the sweep that failed; the sweep still wrote its results. */
export class SweepTrialsFailed extends Data.TaggedError("SweepTrialsFailed")<{
  readonly sweep: string
  readonly failed: ReadonlyArray<string>
}> {
  override get message(): string {
    return `sweep ${this.sweep}: ${this.failed.length} trial(s) failed: ${this.failed.join(", ")} ` +
      `(see .cairn/sweeps/${this.sweep}/results.md; rerun with --retry-failed)`
  }
}

export const DEFAULT_HEARTBEAT_MS = 15_000

const iso = (ms: number): string => new Date(ms).toISOString()

/** Sweep-spec issues as pipeline errors, placed at their line in the pipeline file. */
const invalid = (pipeline: LoadedPipeline, issues: ReadonlyArray<SweepSpecIssue>): PipelineInvalidMany => {
  const locate = (issue: SweepSpecIssue) => {
    const prefix = `sweeps.${issue.sweep}`
    const rest = issue.path.startsWith(prefix + ".") ? issue.path.slice(prefix.length + 1) : ""
    const at = issue.parameter !== undefined
      ? ["sweeps", issue.sweep, "parameters", issue.parameter]
      : ["sweeps", issue.sweep, ...rest.split(".").filter((s) => s !== "")]
    return pipeline.source?.locate(at) ?? pipeline.source?.locate(at.slice(0, 3)) ?? pipeline.source?.locate(["sweeps", issue.sweep])
  }
  return new PipelineInvalidMany({
    errors: issues.map((i) => new PipelineInvalid({ file: pipeline.display, position: locate(i), field: i.path, reason: i.message }))
  })
}

/** The named sweep of the pipeline, validated on its own (not against the graph). */
export const loadSweep = (paths: WorkspacePaths, name: string) =>
  Effect.gen(function*() {
    const pipeline = yield* loadPipeline(paths.pipelineFile)
    const sweeps = pipeline.spec.sweeps ?? {}
    if (!Object.prototype.hasOwnProperty.call(sweeps, name)) {
      const known = Object.keys(sweeps)
      return yield* new UsageError({
        reason: known.length === 0
          ? `${pipeline.display} declares no sweeps (add a top-level \`sweeps:\` mapping)`
          : `no sweep named ${JSON.stringify(name)} in ${pipeline.display} (sweeps: ${known.join(", ")})`
      })
    }
    const decoded = decodeSweep(name, sweeps[name])
    if (Result.isFailure(decoded)) return yield* invalid(pipeline, decoded.failure.issues)
    return { pipeline, spec: decoded.success }
  })

const journalTry = <A>(file: string, f: () => A) =>
  Effect.try({
    try: f,
    catch: (e) => e instanceof JournalError ? e : new JournalError({ path: file, message: `${file}: ${String(e)}`, cause: e })
  })

const storeTry = <A>(where: string, f: () => A) =>
  Effect.try({ try: f, catch: (e) => new StoreError({ path: where, reason: String((e as Error)?.message ?? e) }) })

const describe = (params: TrialParamValues): string =>
  Object.entries(params).map(([k, v]) => `${k}=${typeof v === "string" && v !== "" ? v : JSON.stringify(v)}`).join(" ")

/** How one attempt at a trial ended. */
type Attempt =
  | { readonly _tag: "finished"; readonly metrics: Record<string, number>; readonly key?: string }
  | { readonly _tag: "stopped"; readonly reason: string; readonly metrics: Record<string, number>; readonly metric?: number; readonly key?: string }
  | { readonly _tag: "failed"; readonly reason: string; readonly key?: string }

/** What a trial's run has shown so far, gathered from its events. */
interface Live {
  readonly keys: Map<string, string>
  /** Latest value of every progress metric, as `<stage>.<name>`. */
  readonly progress: Record<string, number>
  objective?: number
  /** The stage whose progress reports the objective. */
  reporting?: string
  failure?: string
}

const isLayout = (l: SweepLayout | ReadonlyArray<SweepSpecIssue>): l is SweepLayout => !Array.isArray(l)

/**
 * Runs the sweep's remaining trials in the workspace of `paths` and publishes its results.
 * Fails with `SweepTrialsFailed` (after publishing) when a trial failed.
 */
export const runSweep = (paths: WorkspacePaths, name: string, options: SweepRunOptions) =>
  Effect.gen(function*() {
    const { pipeline, spec } = yield* loadSweep(paths, name)
    // openGraph stands an empty results table in for a `sweep` stage's dependency.
    const graph = yield* openGraph(paths, [])
    const layout = layoutSweep(spec, graph)
    if (!isLayout(layout)) return yield* invalid(pipeline, layout)

    return yield* Effect.scoped(Effect.gen(function*() {
      const reporter = yield* Reporter
      // One process per sweep and workspace: then a `running` trial in the journal is orphaned.
      yield* acquireLock(paths.locksDir, `sweep:${paths.root}:${name}`, (holder) =>
        reporter.note(`waiting for sweep ${name}: locked by ${holder}`))
      return yield* sweepLocked(paths, pipeline, graph, spec, layout, options)
    }))
  })

const sweepLocked = (
  paths: WorkspacePaths,
  pipeline: LoadedPipeline,
  graph: Graph,
  spec: SweepSpec,
  layout: SweepLayout,
  options: SweepRunOptions
) =>
  Effect.gen(function*() {
    const reporter = yield* Reporter
    const file = journalPath(paths.root, spec.name)
    const read = yield* journalTry(file, () => readJournalDetailed(file))
    if (read.torn.length > 0) {
      yield* options.onEvent({ _tag: "SweepNote", message: `${file}: skipped ${read.torn.length} torn line(s) left by a killed process` })
    }
    const events: Array<TrialEvent> = [...read.events]
    const shard = options.shard === undefined ? undefined : formatShard(options.shard)
    const append = (event: TrialEvent) =>
      journalTry(file, () => {
        appendJournal(file, event)
        events.push(event)
      })

    const now = yield* Clock.currentTimeMillis
    const plan = planResume(spec, foldJournal(events), {
      now,
      staleAfterMs: 0,
      ...(options.shard !== undefined ? { shard: options.shard } : {}),
      retryFailed: options.retryFailed
    })
    const pendingWork = plan.run.length + plan.sequential > 0
    yield* options.onEvent({
      _tag: "SweepPlanned",
      sweep: spec.name,
      method: spec.method,
      metric: spec.metric.name,
      ...(shard !== undefined ? { shard } : {}),
      run: plan.run.length,
      resumed: plan.resumed.length,
      done: plan.done.length,
      failed: plan.failed.length,
      sequential: plan.sequential,
      shared: pendingWork ? layout.shared : []
    })

    if (pendingWork) {
      yield* validateTrials(paths, pipeline, spec, plan.run)
      if (layout.shared.length > 0) {
        yield* runGraph(graph, {
          targets: layout.shared,
          force: false,
          downstream: false,
          dryRun: false,
          jobs: options.jobs,
          keepGoing: false,
          slots: {},
          lockFile: paths.lockFile,
          locksDir: paths.locksDir
        })
      }
    }

    const terminator = makeTerminator(spec, events)
    const stops = new Map<string, Deferred.Deferred<string>>()
    const trialSet = new Set(layout.trialStages)
    const own = [...graphOuts(graph)]
    const hidden = hiddenPaths(paths)
    const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS

    /** Forwards a trial's run events to the sweep's reporter, named `<trial>/<stage>`. */
    const trialReporter = (id: string, base: Omit<TrialEvent, "status" | "at">, live: Live): ReporterShape => {
      const forward = (e: RunEvent) => reporter.emit("stage" in e ? { ...e, stage: `${id}/${e.stage}` } as RunEvent : e)
      const onProgress = (e: Extract<RunEvent, { _tag: "Progress" }>) =>
        Effect.gen(function*() {
          for (const [k, v] of Object.entries(e.metrics ?? {})) live.progress[`${e.stage}.${k}`] = v
          const value = spec.earlyTerminate === undefined ? undefined : objectiveIn(spec.metric.name, layout.metric.key, e.metrics)
          if (value === undefined) return
          live.objective = value
          live.reporting = e.stage
          const iteration = terminator.report(id, value)
          const t = yield* Clock.currentTimeMillis
          const progress: ProgressReport = { iteration, value, ...(e.step !== undefined ? { step: e.step } : {}) }
          yield* append({ ...base, status: "running", heartbeat: iso(t), metrics: { ...live.progress }, at: iso(t), progress } as TrialEvent).pipe(
            Effect.catch((err) => reporter.emit({ _tag: "Warning", stage: `${id}/${e.stage}`, message: err.message }))
          )
          // Hyperband re-judges every running trial as thresholds move (as W&B does); ASHA judges a
          // trial only when it reaches a rung, and never demotes it later.
          const judged = spec.earlyTerminate!.type === "hyperband" ? [...stops.keys()] : [id]
          for (const other of judged) {
            const verdict = terminator.judge(other)
            const stop = stops.get(other)
            if (verdict.stop && stop !== undefined) yield* Deferred.succeed(stop, verdict.reason ?? "stopped early")
          }
        })
      return {
        emit: (e) =>
          Effect.suspend(() => {
            switch (e._tag) {
              case "Planned":
              case "Finished":
                return Effect.void
              case "Fresh":
              case "Restored":
                live.keys.set(e.stage, e.key)
                // Shared stages restored into every trial are not news.
                return trialSet.has(e.stage) ? forward(e) : Effect.void
              case "Started":
                live.keys.set(e.stage, e.key)
                return forward(e)
              case "Succeeded":
                live.keys.set(e.stage, e.key)
                // Its curve is complete: stopping the trial now (while a downstream stage runs)
                // would save nothing and lose a finished result.
                if (e.stage === live.reporting) stops.delete(id)
                return forward(e)
              case "Failed":
                live.failure ??= `stage ${e.stage} failed: ${e.reason}`
                return forward(e)
              case "Progress":
                // Forwarded first: a stop verdict interrupts this very fiber.
                return forward(e).pipe(Effect.andThen(onProgress(e)))
              default:
                return forward(e)
            }
          }),
        note: reporter.note,
        close: Effect.void
      }
    }

    /** One attempt at a trial in its own workspace; ends finished, stopped early, or failed. */
    const attempt = (t: TrialParams, base: Omit<TrialEvent, "status" | "at">, stop: Deferred.Deferred<string>) =>
      Effect.gen(function*() {
        const dir = trialDir(paths.root, spec.name, t.id)
        const tpaths = trialPaths(paths, dir)
        yield* storeTry(dir, () => mirrorWorkspace(paths.root, dir, own, hidden))
        const opened = yield* Effect.result(openGraph(tpaths, Object.entries(t.params)))
        if (Result.isFailure(opened)) return { _tag: "failed", reason: opened.failure.message } satisfies Attempt
        const trialGraph = opened.success
        const trialOwn = [...graphOuts(trialGraph)].filter((o) => !own.includes(o))
        // Overrides can move a built-in stage's outs; those paths must be the trial's own too.
        if (trialOwn.length > 0) yield* storeTry(dir, () => mirrorWorkspace(paths.root, dir, [...own, ...trialOwn], hidden))
        const live: Live = { keys: new Map(), progress: {} }
        const run = runGraph(trialGraph, {
          targets: layout.trialStages,
          force: false,
          downstream: false,
          dryRun: false,
          jobs: 1,
          keepGoing: false,
          slots: {},
          lockFile: tpaths.lockFile,
          locksDir: tpaths.locksDir
        }).pipe(
          Effect.provideService(Reporter, trialReporter(t.id, base, live)),
          Effect.map((summary) => ({ _tag: "done" as const, keys: summary.keys })),
          Effect.catch((e) => Effect.succeed({ _tag: "failed" as const, reason: live.failure ?? e.message }))
        )
        // Interrupting the run kills the trial's process tree before the race returns.
        const ended = yield* Effect.raceFirst(run, Effect.map(Deferred.await(stop), (reason) => ({ _tag: "stop" as const, reason })))
        const key = live.keys.get(spec.stage)
        switch (ended._tag) {
          case "failed":
            return { _tag: "failed", reason: ended.reason, ...(key !== undefined ? { key } : {}) } satisfies Attempt
          case "stop":
            return {
              _tag: "stopped",
              reason: ended.reason,
              metrics: { ...live.progress },
              ...(live.objective !== undefined ? { metric: live.objective } : {}),
              ...(key !== undefined ? { key } : {})
            } satisfies Attempt
          case "done": {
            const metrics = yield* trialMetrics(trialGraph, layout.trialStages, ended.keys)
            const swept = ended.keys.get(spec.stage)
            return { _tag: "finished", metrics, ...(swept !== undefined ? { key: swept } : {}) } satisfies Attempt
          }
        }
      })

    const heartbeat = (base: Omit<TrialEvent, "status" | "at">) =>
      Effect.forever(
        Effect.sleep(heartbeatMs).pipe(
          Effect.andThen(Clock.currentTimeMillis),
          Effect.flatMap((t) => append({ ...base, status: "running", heartbeat: iso(t), at: iso(t) }))
        )
      )

    const failedNow: Array<string> = []
    const runTrial = (t: TrialParams, resumed: boolean) =>
      Effect.gen(function*() {
        const t0 = yield* Clock.currentTimeMillis
        const base = { type: "trial" as const, id: t.id, params: t.params, ...(shard !== undefined ? { shard } : {}) }
        yield* append({ ...base, status: "running", at: iso(t0) })
        terminator.begin(t.id)
        yield* options.onEvent({ _tag: "TrialStarted", id: t.id, params: t.params, resumed })
        const stop = yield* Deferred.make<string>()
        stops.set(t.id, stop)
        const result = yield* attempt(t, base, stop).pipe(
          Effect.raceFirst(heartbeat(base)),
          Effect.ensuring(Effect.sync(() => stops.delete(t.id))),
          Effect.onInterrupt(() =>
            Clock.currentTimeMillis.pipe(
              Effect.flatMap((t1) => append({ ...base, status: "pending", reason: "interrupted", at: iso(t1) })),
              Effect.ignore
            )
          )
        )
        const t1 = yield* Clock.currentTimeMillis
        const durationMs = t1 - t0
        const at = iso(t1)
        switch (result._tag) {
          case "finished": {
            const metric = result.metrics[spec.metric.name]
            const reason = metric === undefined
              ? `metric ${spec.metric.name} not found among the trial's metrics (${Object.keys(result.metrics).join(", ") || "none"})`
              : undefined
            yield* append({
              ...base,
              status: "finished",
              metrics: result.metrics,
              ...(metric !== undefined ? { metric } : {}),
              ...(result.key !== undefined ? { key: result.key } : {}),
              ...(reason !== undefined ? { reason } : {}),
              durationMs,
              at
            })
            return yield* options.onEvent({
              _tag: "TrialFinished",
              id: t.id,
              ...(metric !== undefined ? { metric } : {}),
              ...(reason !== undefined ? { reason } : {}),
              durationMs
            })
          }
          case "stopped":
            yield* append({
              ...base,
              status: "stopped",
              metrics: result.metrics,
              ...(result.metric !== undefined ? { metric: result.metric } : {}),
              ...(result.key !== undefined ? { key: result.key } : {}),
              reason: result.reason,
              durationMs,
              at
            })
            return yield* options.onEvent({
              _tag: "TrialStopped",
              id: t.id,
              ...(result.metric !== undefined ? { metric: result.metric } : {}),
              reason: result.reason,
              durationMs
            })
          case "failed":
            failedNow.push(t.id)
            yield* append({ ...base, status: "failed", ...(result.key !== undefined ? { key: result.key } : {}), reason: result.reason, durationMs, at })
            return yield* options.onEvent({ _tag: "TrialFailed", id: t.id, reason: result.reason, durationMs })
        }
      })

    if (pendingWork) {
      // Live views count stage outcomes; the trials' own stages are what is left to do.
      // Trial stages are named as their events are (`<trial>/<stage>`); TPE trials are not known yet.
      const ids = [...plan.run.map((t) => t.id), ...Array.from({ length: plan.sequential }, (_, k) => `tpe-${k + 1}`)]
      const stages = ids.flatMap((id) => layout.trialStages.map((st) => `${id}/${st}`))
      yield* reporter.emit({ _tag: "Planned", stages: [...layout.shared, ...stages], jobs: options.jobs })
    }
    const resumed = new Set(plan.resumed)
    yield* Effect.forEach(plan.run, (t) => runTrial(t, resumed.has(t.id)), { concurrency: options.jobs, discard: true })

    if (plan.sequential > 0) {
      // TPE suggests one trial at a time from the results so far; a trial in flight counts as
      // known (so it is not suggested twice) but not as an observation.
      let remaining = plan.sequential
      const inFlight = new Map<string, TrialResult>()
      const pick = Effect.sync((): TrialParams | undefined => {
        if (remaining <= 0) return undefined
        const history: Array<TrialResult> = [...foldJournal(events).values()]
        for (const [id, r] of inFlight) if (!history.some((h) => h.id === id)) history.push(r)
        const next = suggest(spec, history, 1)[0]
        if (next === undefined) {
          remaining = 0
          return undefined
        }
        remaining--
        inFlight.set(next.id, { id: next.id, params: next.params, status: "running" })
        return next
      })
      const worker = Effect.gen(function*() {
        for (let next = yield* pick; next !== undefined; next = yield* pick) yield* runTrial(next, false)
      })
      yield* Effect.forEach(Array.from({ length: options.jobs }), () => worker, { concurrency: "unbounded", discard: true })
    }

    const state = foldJournal(events)
    const dir = sweepDirectory(paths.root, spec.name)
    // Charts take a second to render; a sweep with nothing to do keeps results newer than its journal.
    const published = upToDate(dir, file)
      ? { files: resultFiles(dir), notes: yield* appendStepSummary(state, spec) }
      : yield* publishResults(dir, state, spec)
    for (const message of published.notes) yield* options.onEvent({ _tag: "SweepNote", message })
    const failed = [...state.values()].filter((s) => s.status === "failed").map((s) => s.id)
    if (failed.length > 0 || failedNow.length > 0) {
      return yield* new SweepTrialsFailed({ sweep: spec.name, failed: [...new Set([...failedNow, ...failed])] })
    }
    const note = plan.sequentialNeedsSingleJob
      ? `bayes sweep ${spec.name}: this shard ran its share of the ${spec.tpe.nStartup} start-up trials; ` +
        `the sequential TPE trials need every result: \`cairn sweep collect ${spec.name} --from …\`, then \`cairn sweep ${spec.name}\` in one job`
      : undefined
    return { spec, state, published, ...(note !== undefined ? { note } : {}) } satisfies SweepOutcome
  })

const mtime = (f: string): number => fs.statSync(f, { throwIfNoEntry: false })?.mtimeMs ?? -1

const upToDate = (dir: string, journal: string): boolean => {
  const table = mtime(path.join(dir, "results.csv"))
  return table >= 0 && table >= mtime(journal)
}

const resultFiles = (dir: string): ReadonlyArray<string> =>
  fs.readdirSync(dir).filter((f) => /^(results\.|best\.json$|.*\.svg$)/.test(f)).sort().map((f) => path.join(dir, f))

/** Every out and metrics path of a graph: what a trial workspace must hold as its own. */
const graphOuts = (graph: Graph) =>
  new Set([...graph.stages.values()].flatMap((s) => [...s.outs, ...s.metrics]))

/**
 * Opens the graph of every trial about to run with its overrides, so that a value the stage's
 * schema rejects is reported (exit 2) before anything runs, naming the trial's parameters.
 */
const validateTrials = (paths: WorkspacePaths, pipeline: LoadedPipeline, spec: SweepSpec, trials: ReadonlyArray<TrialParams>) =>
  Effect.gen(function*() {
    const errors = new Map<string, PipelineInvalid>()
    for (const t of trials) {
      const opened = yield* Effect.result(openGraph(paths, Object.entries(t.params)))
      if (Result.isSuccess(opened)) continue
      const f = opened.failure
      const list = f._tag === "PipelineInvalidMany" ? f.errors : f._tag === "PipelineInvalid" ? [f] : []
      const suffix = ` (sweep ${spec.name}, trial ${t.id}: ${describe(t.params)})`
      if (list.length === 0) errors.set(f.message, new PipelineInvalid({ file: pipeline.display, field: `sweeps.${spec.name}`, reason: f.message + suffix }))
      for (const e of list) {
        const k = `${e.field}: ${e.reason}`
        if (!errors.has(k)) errors.set(k, new PipelineInvalid({ file: e.file, position: e.position, field: e.field, reason: e.reason + suffix }))
      }
    }
    // A rejected `with:` leaves its stage out of the graph, and its consumers then report missing
    // deps; the rejection is the news.
    const heads = new Set(parameterKeys(spec).map((k) => `stages.${k.split(".")[0]}.with`))
    const all = [...errors.values()]
    const direct = all.filter((e) => [...heads].some((h) => e.field === h || e.field.startsWith(h + ".")))
    if (all.length > 0) return yield* new PipelineInvalidMany({ errors: direct.length > 0 ? direct : all })
  })
