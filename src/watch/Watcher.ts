/**
 * `cairn watch`: keeps the selected stages up to date while files change, rerunning exactly what a
 * save affects — the stages that read a changed path, and everything downstream of them.
 *
 *               change                     window quiet
 *  ┌──────────┐ ─────► ┌────────────┐ ───────────────────► ┌─────────┐  every run done,
 *  │ watching │        │ debouncing │                      │ running │  nothing queued
 *  └──────────┘ ◄───── └────────────┘                      └─────────┘ ─────► watching
 *              nothing   ↺ change                     change │     ▲
 *              affected    (the window restarts)             ▼     │ window quiet, and no run in
 *                                                      ┌────────┐  │ flight holds a stage the
 *                                                      │ queued │ ─┘ rerun needs
 *                                                      └────────┘
 *                                                       ↺ change
 *
 * Changes coalesce while they come less than `--debounce` ms apart (a burst of saves is one
 * rerun), though never for more than MAX_WAIT_WINDOWS windows. When the window closes, running
 * stages in the affected cone are interrupted — their process trees killed, partial outs
 * discarded — while unaffected stages keep running. Each rerun is a `runGraph` over the cone and
 * what it needs (up-to-date upstream stages are found fresh, not rerun), so several runs can be in
 * flight, never two holding one stage. A pipeline or params edit reloads the graph and reruns the
 * stages it added or changed; an invalid edit is reported and the last valid graph stays in force.
 *
 * No loops: outs, the store and the lock file are never watched, so cairn's own writes trigger
 * nothing; a stage that failed is held until its key changes (an input, a param, its command).
 */
import { Clock, Deferred, Effect, FiberHandle, FiberSet, Queue, Result } from "effect"
import { UsageError } from "../core/Errors.js"
import type { RunEvent } from "../core/RunEvent.js"
import { runGraph } from "../engine/Executor.js"
import type { WorkspacePaths } from "../engine/Workspace.js"
import { type Graph, selectStages } from "../graph/Graph.js"
import { Reporter } from "../report/Reporter.js"
import type { WatchState } from "./WatchEvent.js"
import { WatchView } from "./WatchView.js"
import { coneOf, diffGraphs, readersOf, relative } from "./internal/Cone.js"
import { makeFileWatch } from "./internal/FileWatch.js"
import { loadGraph } from "./internal/LoadGraph.js"
import { watchListFor } from "./internal/WatchList.js"

export { WatcherFailed } from "./internal/FileWatch.js"

export interface WatchOptions {
  readonly paths: WorkspacePaths
  /** Stages to keep up to date, with what they need (none: all). */
  readonly targets: ReadonlyArray<string>
  readonly debounceMs: number
  /** Stages running at once, per run. */
  readonly jobs: number
}

/** A steady stream of saves still reruns at least this often, counted in debounce windows. */
const MAX_WAIT_WINDOWS = 10

type Message =
  | { readonly _tag: "Changed"; readonly path: string }
  | { readonly _tag: "Quiet"; readonly generation: number }
  | { readonly _tag: "Settled" }
  | { readonly _tag: "Ended"; readonly run: number }
  | { readonly _tag: "WatcherError"; readonly message: string }

/** A run in flight: the stages it selected and those it has finished with. */
interface InFlight {
  readonly selected: ReadonlySet<string>
  readonly settled: Set<string>
}

/** Events after which a run no longer touches the stage. */
const SETTLING: ReadonlySet<RunEvent["_tag"]> = new Set(["Fresh", "Restored", "Succeeded", "Failed", "Skipped", "Interrupted", "WouldRun"])

const checkTargets = (graph: Graph, targets: ReadonlyArray<string>) => {
  const missing = targets.filter((t) => !graph.stages.has(t))
  return missing.length === 0 ? Effect.void : Effect.fail(new UsageError({
    reason: `no stage named ${missing.map((m) => JSON.stringify(m)).join(", ")} in ${graph.pipeline.display} (stages: ${graph.order.join(", ")})`
  }))
}

export const watch = (options: WatchOptions) =>
  Effect.gen(function*() {
    const view = yield* WatchView
    const { paths, targets } = options
    let graph = yield* loadGraph(paths)
    yield* checkTargets(graph, targets)
    let scope = selectStages(graph, targets, false)
    let list = watchListFor(graph, scope, paths)
    // Registered first so that it runs last, after the runs in flight were stopped.
    yield* Effect.addFinalizer(() => view.watch({ _tag: "WatchStopped" }))

    const inbox = yield* Queue.unbounded<Message>()
    const runs = yield* FiberSet.make<void, never>()
    const timer = yield* FiberHandle.make<void, never>()

    const inFlight = new Map<number, InFlight>()
    /** Absolute paths changed in the open debounce window. */
    const changed = new Set<string>()
    let windowOpenedAt = 0
    let generation = 0
    /** Stages affected by closed windows, waiting for the stages they need to be released. */
    const queued = new Set<string>()
    let runCount = 0
    let phase: WatchState | undefined
    /** Interrupt signals of the stages executing now, in any run. */
    const executing = new Map<string, Deferred.Deferred<void>>()
    const startedKey = new Map<string, string>()
    /** Stages whose last run failed, with the key they failed with. */
    const failedKey = new Map<string, string>()

    const fileWatch = yield* makeFileWatch({
      paths: list.paths,
      ignored: (abs) => list.ignored(abs),
      onChange: (abs) => void Queue.offerUnsafe(inbox, { _tag: "Changed", path: abs }),
      onError: (message) => void Queue.offerUnsafe(inbox, { _tag: "WatcherError", message })
    })

    const abandon = (stage: string) =>
      Effect.suspend(() => {
        const signal = Deferred.makeUnsafe<void>()
        executing.set(stage, signal)
        return Deferred.await(signal).pipe(
          Effect.ensuring(Effect.sync(() => {
            if (executing.get(stage) === signal) executing.delete(stage)
          }))
        )
      })

    /** Follows a run's events: what it has finished with, and which keys failed. */
    const track = (run: InFlight, e: RunEvent) => {
      if (e._tag === "Started") startedKey.set(e.stage, e.key)
      else if (e._tag === "Failed") {
        const key = startedKey.get(e.stage)
        if (key !== undefined) failedKey.set(e.stage, key)
      } else if (e._tag === "Succeeded" || e._tag === "Fresh" || e._tag === "Restored") failedKey.delete(e.stage)
      if (SETTLING.has(e._tag) && "stage" in e && e.stage !== undefined) run.settled.add(e.stage)
    }

    const startRun = (stages: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        const id = ++runCount
        const run: InFlight = { selected: selectStages(graph, stages, false), settled: new Set() }
        inFlight.set(id, run)
        // The state changes before the run's first event, so a reader sees them in that order.
        yield* publishPhase
        const reporter = Reporter.of({
          emit: (e) =>
            Effect.suspend(() => {
              track(run, e)
              return view.run(id, e)
            }).pipe(Effect.andThen(SETTLING.has(e._tag) ? Queue.offer(inbox, { _tag: "Settled" }) : Effect.void)),
          note: view.note,
          close: Effect.void
        })
        yield* FiberSet.run(
          runs,
          runGraph(graph, {
            targets: stages,
            force: false,
            downstream: false,
            dryRun: false,
            jobs: options.jobs,
            // Each stage stands on its own in watch mode: a failure must not hold back unrelated work.
            keepGoing: true,
            slots: {},
            lockFile: paths.lockFile,
            locksDir: paths.locksDir,
            abandon,
            holdFailed: (stage, key) => failedKey.get(stage) === key
          }).pipe(
            Effect.provideService(Reporter, reporter),
            // Failed stages were reported as they failed; the session goes on either way.
            Effect.catch((e) => e._tag === "RunFailed" ? Effect.void : view.watch({ _tag: "WatchWarning", message: e.message })),
            Effect.catchDefect((d) => view.watch({ _tag: "WatchWarning", message: `run ${id} crashed: ${String(d)}` })),
            Effect.asVoid,
            Effect.ensuring(Queue.offer(inbox, { _tag: "Ended", run: id }))
          )
        )
      })

    /** Loads the edited pipeline; on success it replaces the graph and the watched paths. */
    const reload = (file: string) => Effect.gen(function*() {
      const loaded = yield* Effect.result(loadGraph(paths).pipe(
        Effect.tap((g) => checkTargets(g, targets)),
        // A file caught mid-replace can throw while it is read; that is an invalid edit too.
        Effect.catchDefect((d) => Effect.fail(new UsageError({ reason: `${file}: cannot load: ${String(d)}` })))
      ))
      if (Result.isFailure(loaded)) {
        yield* view.watch({ _tag: "WatchInvalid", file, message: loaded.failure.message })
        return undefined
      }
      const diff = diffGraphs(graph, loaded.success)
      graph = loaded.success
      scope = selectStages(graph, targets, false)
      list = watchListFor(graph, scope, paths)
      yield* fileWatch.update(list.paths)
      yield* view.watch({
        _tag: "WatchReloaded",
        file,
        ...diff,
        stages: graph.order.filter((s) => scope.has(s)),
        paths: list.paths.length
      })
      return diff
    })

    const onChanged = (abs: string) =>
      Effect.gen(function*() {
        const rel = relative(paths.root, abs)
        if (list.ignored(abs) || (!list.reloadOn.has(abs) && readersOf(graph, scope, rel).length === 0)) return
        const now = yield* Clock.currentTimeMillis
        if (changed.size === 0) windowOpenedAt = now
        changed.add(abs)
        const delay = Math.max(0, Math.min(options.debounceMs, windowOpenedAt + options.debounceMs * MAX_WAIT_WINDOWS - now))
        const mine = ++generation
        yield* FiberHandle.run(timer, Effect.sleep(delay).pipe(Effect.andThen(Queue.offer(inbox, { _tag: "Quiet", generation: mine })), Effect.asVoid))
      })

    /** The window closed: work out what the batch affects, interrupt it where it runs, queue it. */
    const onQuiet = Effect.gen(function*() {
      const batch = [...changed].sort()
      changed.clear()
      const affected = new Set<string>()
      let removed: ReadonlyArray<string> = []
      const edited = batch.filter((p) => list.reloadOn.has(p))
      if (edited.length > 0) {
        const diff = yield* reload(edited.map((p) => relative(paths.root, p)).join(", "))
        if (diff !== undefined) {
          for (const s of [...diff.added, ...diff.changed]) affected.add(s)
          removed = diff.removed
        }
      }
      for (const abs of batch) for (const s of readersOf(graph, scope, relative(paths.root, abs))) affected.add(s)
      const cone = coneOf(graph, scope, affected)
      const interrupting = [...cone, ...removed].filter((s) => executing.has(s))
      if (cone.length === 0 && interrupting.length === 0) return
      yield* view.watch({ _tag: "WatchTriggered", paths: batch.map((p) => relative(paths.root, p)), stages: cone, interrupting })
      for (const s of interrupting) yield* Deferred.succeed(executing.get(s)!, undefined)
      for (const s of cone) queued.add(s)
    })

    /** Starts the queued rerun unless a window is open or a run in flight still holds a stage it needs. */
    const tryLaunch = Effect.suspend(() => {
      if (queued.size === 0 || changed.size > 0) return Effect.void
      const stages = graph.order.filter((s) => queued.has(s) && scope.has(s))
      const needs = selectStages(graph, stages, false)
      for (const run of inFlight.values()) {
        for (const s of run.selected) if (!run.settled.has(s) && needs.has(s)) return Effect.void
      }
      queued.clear()
      return stages.length === 0 ? Effect.void : startRun(stages)
    })

    const publishPhase = Effect.suspend(() => {
      const waiting = changed.size > 0 || queued.size > 0
      const next: WatchState = inFlight.size === 0 ? (waiting ? "debouncing" : "watching") : waiting ? "queued" : "running"
      if (next === phase) return Effect.void
      phase = next
      return view.watch({ _tag: "WatchState", state: next })
    })

    const handle = (m: Message) => {
      switch (m._tag) {
        case "Changed":
          return onChanged(m.path)
        case "Quiet":
          return m.generation === generation && changed.size > 0 ? onQuiet : Effect.void
        case "Settled":
          return Effect.void
        case "Ended":
          return Effect.sync(() => void inFlight.delete(m.run))
        case "WatcherError":
          return view.watch({ _tag: "WatchWarning", message: m.message })
      }
    }

    yield* view.watch({
      _tag: "WatchStarted",
      pipeline: graph.pipeline.display,
      stages: graph.order.filter((s) => scope.has(s)),
      paths: list.paths.length,
      debounceMs: options.debounceMs
    })
    yield* startRun(graph.order.filter((s) => scope.has(s)))
    yield* publishPhase
    return yield* Effect.forever(
      Queue.take(inbox).pipe(
        Effect.flatMap(handle),
        Effect.andThen(tryLaunch),
        Effect.andThen(publishPhase)
      )
    )
  })
