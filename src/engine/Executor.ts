/**
 * The executor (DESIGN.md §6): every selected stage is a fiber; a stage waits for its upstream
 * stages' Deferreds, then walks the checklist
 *
 *   deps done → hash inputs → fresh? → cached? → run → verify inputs unchanged → save objects →
 *   write record last
 *
 * Only the "run" step takes a job slot (and the stage's resource slots), so checking hundreds of
 * fresh stages never queues behind a long-running one. A failure stops new work (or, with
 * `keepGoing`, only the failed stage's downstream); interruption kills process trees and
 * discards partial outs. `cairn.lock` is updated once, at the end, under the store lock, even
 * when the run fails or is interrupted.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { type Cause, Context, Deferred, Effect, Exit, Ref, Semaphore } from "effect"
import { runsIsolated } from "../core/BuiltinStage.js"
import { RunFailed, StageFailed, type StoreError } from "../core/Errors.js"
import type { RunEvent } from "../core/RunEvent.js"
import { interpolate, paramEnvName, renderValue } from "../config/Params.js"
import { FileHasher } from "../fingerprint/FileHasher.js"
import type { PreImage } from "../fingerprint/Fingerprint.js"
import type { Graph, StageNode } from "../graph/Graph.js"
import { selectStages } from "../graph/Graph.js"
import { Reporter } from "../report/Reporter.js"
import { ArtifactStore, type OutEntry, type RunRecord, type StagedOut } from "../store/ArtifactStore.js"
import { acquireLock, type HeldLock } from "../store/Locks.js"
import { type LockEntry, readLockFile, updateLockFile } from "../store/LockFile.js"
import { assessStage, hashDeps, judgeKey } from "./Assess.js"
import { makeOutputFiles, type OutputFiles } from "./internal/OutputFiles.js"
import { type JobPool, Launcher, runProcess, withJob } from "./ProcessRunner.js"

export interface RunOptions {
  readonly targets: ReadonlyArray<string>
  readonly force: boolean
  readonly downstream: boolean
  readonly dryRun: boolean
  readonly jobs: number
  readonly keepGoing: boolean
  /** Capacity per resource slot name; a slot not named here has capacity 1. */
  readonly slots: Readonly<Record<string, number>>
  readonly lockFile: string
  readonly locksDir: string
  /** Do not write cairn.lock (sweep trials run with overrides that are not the workspace's). */
  readonly readOnlyLock?: boolean
  /**
   * Watch mode: completes when the stage's running command must be given up because its inputs
   * changed. The stage is stopped as on Ctrl-C (process tree killed, partial outs discarded) and
   * its downstream in this run is skipped, while the rest of the run goes on.
   */
  readonly abandon?: (stage: string) => Effect.Effect<void>
  /** Watch mode: true for a stage that already failed with this key; it waits for an input to change. */
  readonly holdFailed?: (stage: string, key: string) => boolean
}

export type StageStatus = "fresh" | "restored" | "ran" | "failed" | "skipped" | "would-run" | "interrupted" | "ran-uncached"

export interface RunSummary {
  readonly ok: boolean
  readonly statuses: ReadonlyMap<string, StageStatus>
  readonly keys: ReadonlyMap<string, string>
  /** As reported in the run's summary line. */
  readonly durationMs: number
  /** Every selected stage was fresh and cairn.lock needed no update: the run changed nothing. */
  readonly noop: boolean
}

/** Lines of a failed stage's output shown with the failure. */
const LOG_TAIL_LINES = 20

/**
 * The script that hosts isolated stages. The bundled CLI ships it beside itself; the compiled
 * library has it under `internal/`.
 */
export const StageWorkerPath = Context.Reference<string>("cairn/StageWorkerPath", {
  defaultValue: () => fileURLToPath(new URL("./internal/StageWorker.js", import.meta.url))
})

interface StageRun {
  /** `cancelled`: dropped while it waited for a job, when a failure stopped new work. */
  readonly outcome: "ok" | "failed" | "cancelled"
  readonly reason?: string
  readonly logTail: ReadonlyArray<string>
  readonly log: string
  readonly backend?: string
}

/**
 * A command's progress line, `::metric loss=0.42 acc=0.9 step=100` (optionally `total=N`): every
 * other `name=number` pair is a metric. Sweeps stop trials early on these (docs/sweeps.md).
 */
export const parseMetricLine = (line: string): Omit<Extract<RunEvent, { _tag: "Progress" }>, "_tag" | "stage"> | undefined => {
  const m = /^::metric\s+(.*)$/.exec(line.trim())
  if (m === null) return undefined
  let step: number | undefined
  let total: number | undefined
  const metrics: Record<string, number> = {}
  for (const pair of m[1]!.split(/\s+/)) {
    const eq = pair.indexOf("=")
    const value = Number(pair.slice(eq + 1))
    if (eq <= 0 || eq === pair.length - 1 || !Number.isFinite(value)) continue
    const name = pair.slice(0, eq)
    if (name === "step") step = value
    else if (name === "total") total = value
    else metrics[name] = value
  }
  if (step === undefined && Object.keys(metrics).length === 0) return undefined
  return {
    ...(step !== undefined ? { step } : {}),
    ...(total !== undefined ? { total } : {}),
    ...(Object.keys(metrics).length > 0 ? { metrics } : {})
  }
}

/**
 * Runs the stage's command or built-in on one of the pool's jobs, streaming its output as events;
 * `started` runs once it has a job and has started.
 */
const execute = (graph: Graph, stage: StageNode, lock: HeldLock, pool: JobPool, output: OutputFiles, started: Effect.Effect<void>) =>
  Effect.gen(function*() {
    const reporter = yield* Reporter
    const lines: Array<string> = []
    const pending: Array<RunEvent> = []
    // Output arrives on node callbacks; queue it and flush from the fiber.
    const onLine = (line: string) => {
      lines.push(line)
      pending.push({ _tag: "Output", stage: stage.name, line })
      // Commands have no IPC channel; they report progress as `::metric` lines instead.
      const progress = stage.kind === "cmd" ? parseMetricLine(line) : undefined
      if (progress !== undefined) pending.push({ _tag: "Progress", stage: stage.name, ...progress })
    }
    const flush = Effect.suspend(() => Effect.forEach(pending.splice(0), reporter.emit, { discard: true }))
    const paramEnv = Object.fromEntries(Object.entries(stage.params).map(([k, v]) => [paramEnvName(k), renderValue(v)]))
    // Added to the pool's environment (the run's copy of process.env).
    const env = { ...paramEnv, CAIRN_STAGE: stage.name, CAIRN_WORKSPACE: graph.workspace }
    let backend: string | undefined
    const result = yield* Effect.gen(function*() {
      if (stage.kind === "cmd") {
        const resolve = (key: string) => stage.params[key]
        const cmd = stage.cmd!
        return yield* runProcess(pool, {
          command: typeof cmd === "string" ? interpolate(cmd, resolve, true) : interpolate(String(cmd[0]), resolve, false),
          args: typeof cmd === "string" ? [] : cmd.slice(1).map((a) => interpolate(String(a), resolve, false)),
          shell: typeof cmd === "string",
          cwd: graph.workspace,
          env,
          output,
          onLine,
          onSpawn: (pid) => lock.setChild(pid),
          ...(lock.groupLog !== undefined ? { groupLog: lock.groupLog } : {})
        }, started)
      }
      const builtin = stage.builtin!
      if (runsIsolated(builtin, stage.with)) {
        const workerPath = yield* StageWorkerPath
        let failure: string | undefined
        const exit = yield* runProcess(pool, {
          command: process.execPath,
          args: [workerPath],
          shell: false,
          ipc: true,
          cwd: graph.workspace,
          env,
          output,
          onLine,
          ...(lock.groupLog !== undefined ? { groupLog: lock.groupLog } : {}),
          onSpawn: (pid, child) => {
            lock.setChild(pid)
            // Stages with an IPC channel start in this process, so their ChildProcess is at hand.
            child!.send({ builtin: builtin.name, stage: stage.name, params: stage.with, workspace: graph.workspace })
          },
          onMessage: (m) => {
            const msg = m as { type: string; line?: string; message?: string; backend?: string } & Record<string, unknown>
            if (msg.type === "log") onLine(msg.line!)
            else if (msg.type === "progress") {
              const { type: _t, ...p } = msg
              pending.push({ _tag: "Progress", stage: stage.name, ...p })
            } else if (msg.type === "backend") backend = msg.backend
            else if (msg.type === "error") failure = msg.message
          }
        }, started).pipe(Effect.ensuring(flush))
        return failure !== undefined && exit !== "cancelled" ? { exitCode: 1, signal: null, failure } : exit
      }
      // In-process built-in: cheap stages (data wrangling) skip a process start.
      const exit = yield* withJob(pool, Effect.andThen(started, Effect.exit(builtin.run({
        stage: stage.name,
        params: stage.with,
        workspace: graph.workspace,
        resolve: (rel) => path.resolve(graph.workspace, rel),
        log: (line) => Effect.sync(() => onLine(line)).pipe(Effect.andThen(flush)),
        progress: (p) => reporter.emit({ _tag: "Progress", stage: stage.name, ...p }),
        setBackend: (b) => Effect.sync(() => void (backend = b))
      }))))
      if (exit === undefined) return "cancelled" as const
      if (Exit.isSuccess(exit)) return { exitCode: 0, signal: null }
      const err = exit.cause.reasons.find((r) => r._tag === "Fail") as { error?: { message?: string } } | undefined
      // No typed failure: a defect or an interruption, which must propagate as such.
      if (err === undefined) return yield* Effect.failCause(exit.cause as Cause.Cause<never>)
      return { exitCode: 1, signal: null, failure: err.error?.message ?? "failed" }
    }).pipe(
      // Flush output while the stage runs, so long stages stream their logs.
      Effect.raceFirst(Effect.forever(Effect.andThen(Effect.sleep("100 millis"), flush)).pipe(Effect.as(undefined as never))),
      Effect.ensuring(flush)
    )
    if (result === "cancelled") return { outcome: "cancelled", logTail: [], log: "" } satisfies StageRun
    const tail = lines.slice(-LOG_TAIL_LINES)
    const log = lines.length > 0 ? lines.join("\n") + "\n" : ""
    const failure = (result as { failure?: string }).failure
    if (failure !== undefined) return { outcome: "failed", reason: failure, logTail: tail, log, backend } satisfies StageRun
    if (result.exitCode !== 0) {
      const reason = result.signal !== null ? `killed by ${result.signal}` : `exit code ${result.exitCode}`
      return { outcome: "failed", reason, logTail: tail, log, backend } satisfies StageRun
    }
    return { outcome: "ok", logTail: tail, log, backend } satisfies StageRun
  })

/** Removes a file or directory. Before a first run nothing is there, which costs no exception. */
const removePath = (abs: string) => {
  const stat = fs.lstatSync(abs, { throwIfNoEntry: false })
  if (stat !== undefined) fs.rmSync(abs, { recursive: stat.isDirectory(), force: true })
}

const removeOuts = (graph: Graph, stage: StageNode) =>
  Effect.gen(function*() {
    const hasher = yield* FileHasher
    for (const o of [...stage.outs, ...stage.metrics]) {
      const abs = path.join(graph.workspace, o)
      removePath(abs)
      yield* hasher.forget(abs)
    }
  })

const readMetrics = (graph: Graph, stage: StageNode): Record<string, unknown> =>
  Object.fromEntries(stage.metrics.map((m) => {
    try {
      return [m, JSON.parse(fs.readFileSync(path.join(graph.workspace, m), "utf8"))]
    } catch {
      return [m, null]
    }
  }))

export const runGraph = (graph: Graph, options: RunOptions) =>
  Effect.gen(function*() {
    const reporter = yield* Reporter
    const store = yield* ArtifactStore
    const hasher = yield* FileHasher
    const started = Date.now()
    const selected = selectStages(graph, options.targets, options.downstream)
    const order = graph.order.filter((s) => selected.has(s))
    const lockData = readLockFile(options.lockFile)
    const lockUpdates = new Map<string, LockEntry>()
    const statuses = new Map<string, StageStatus>()
    const keys = new Map<string, string>()
    const slotSems = new Map<string, Semaphore.Semaphore>()
    for (const name of order) {
      for (const slot of Object.keys(graph.stages.get(name)!.resources)) {
        if (!slotSems.has(slot)) slotSems.set(slot, yield* Semaphore.make(Math.max(1, options.slots[slot] ?? 1)))
      }
    }
    const stopping = yield* Ref.make(false)
    const done = new Map<string, Deferred.Deferred<boolean>>()
    for (const name of order) done.set(name, yield* Deferred.make<boolean>())
    // Copied once: every read of process.env goes through the runtime, one variable at a time.
    const pool = (yield* Launcher).openPool({ limit: Math.max(1, options.jobs), env: { ...process.env }, stopOnFailure: !options.keepGoing })
    const output = makeOutputFiles(store.tmpDir)
    /** After a failure without --keep-going: no stage starts, and what waits for a job is dropped. */
    const stopNewWork = Effect.suspend(() => {
      if (options.keepGoing) return Effect.void
      pool.stop()
      return Ref.set(stopping, true)
    })

    yield* reporter.emit({ _tag: "Planned", stages: order, jobs: options.jobs })

    /** Holds the stage's resource slots (the job itself is taken from the pool, as it starts). */
    const withSlots = <A, E, R>(stage: StageNode, eff: Effect.Effect<A, E, R>) =>
      Object.entries(stage.resources).reduce(
        (acc, [slot, n]) => slotSems.get(slot)!.withPermits(Math.min(n, options.slots[slot] ?? 1))(acc),
        eff
      )

    /** One stage's checklist. Returns true when its outs are in place for downstream stages. */
    const stageFlow = (name: string) =>
      Effect.gen(function*() {
        const stage = graph.stages.get(name)!
        // 1. deps done
        for (const up of stage.upstream) {
          const d = done.get(up)
          if (d !== undefined && !(yield* Deferred.await(d))) {
            statuses.set(name, "skipped")
            yield* reporter.emit({ _tag: "Skipped", stage: name, reason: `upstream stage ${up} did not complete` })
            return false
          }
        }
        // A dry run cannot know whether a rerun upstream will reproduce its bytes; say so.
        const rerunUp = options.dryRun ? stage.upstream.filter((u) => statuses.get(u) === "would-run") : []
        if (rerunUp.length > 0) {
          statuses.set(name, "would-run")
          yield* reporter.emit({ _tag: "WouldRun", stage: name, reason: `upstream would rerun: ${rerunUp.join(", ")}; reruns unless their outputs come out identical` })
          return true
        }
        // 2-3. hash inputs, fresh? A fresh stage needs no lock: nothing will be written, and a
        // lock file per stage would dominate a no-op run.
        const quick = options.force ? undefined : yield* assessStage(stage, graph.workspace, lockData.stages[name], pool.options.env)
        if (quick?.state === "fresh") {
          statuses.set(name, "fresh")
          keys.set(name, quick.key)
          if (lockData.stages[name]?.key !== quick.key) {
            lockUpdates.set(name, { key: quick.key, deps: quick.preImage.deps, params: quick.preImage.params, outs: quick.outs })
          }
          yield* reporter.emit({ _tag: "Fresh", stage: name, key: quick.key })
          return true
        }
        return yield* Effect.scoped(Effect.gen(function*() {
          const lock = yield* acquireLock(options.locksDir, `stage:${graph.workspace}:${name}`, (holder) =>
            reporter.emit({ _tag: "Waiting", stage: name, holder }))
          // 3-4 again under the lock: another run may have brought the stage up to date meanwhile.
          // The key stands: an input that changes from here on is caught after the run (step 6).
          const a = quick !== undefined
            ? yield* judgeKey(stage, graph.workspace, lockData.stages[name], quick.key, quick.preImage)
            : yield* assessStage(stage, graph.workspace, lockData.stages[name], pool.options.env)
          keys.set(name, a.key)
          const lockEntry = (outs: Readonly<Record<string, string>>): LockEntry => ({
            key: a.key,
            deps: a.preImage.deps,
            params: a.preImage.params,
            outs
          })
          if (!options.force) {
            if (a.state === "fresh") {
              statuses.set(name, "fresh")
              if (lockData.stages[name]?.key !== a.key) lockUpdates.set(name, lockEntry(a.outs))
              yield* reporter.emit({ _tag: "Fresh", stage: name, key: a.key })
              return true
            }
            if (a.state === "restorable" && !options.dryRun) {
              const restored = yield* restoreRecord(graph, stage, a.record)
              if (restored) {
                statuses.set(name, "restored")
                lockUpdates.set(name, lockEntry(Object.fromEntries(Object.entries(a.record.outs).map(([p, o]) => [p, o.hash]))))
                return true
              }
            }
          }
          const reason = options.force ? "forced" : a.state === "stale" ? a.reason : a.state === "uncached" ? "no outs: always runs" : "cached outputs unusable"
          if (options.holdFailed?.(name, a.key) === true) {
            statuses.set(name, "skipped")
            yield* reporter.emit({ _tag: "Skipped", stage: name, reason: "failed with these inputs; waiting for one to change" })
            return false
          }
          if (options.dryRun) {
            statuses.set(name, "would-run")
            yield* reporter.emit({ _tag: "WouldRun", stage: name, reason: a.state === "restorable" ? "restore from cache" : reason })
            return true
          }
          if (yield* Ref.get(stopping)) return yield* skipAfterFailure(name)
          // 5. run
          return yield* runAndSave(stage, a.key, a.preImage, reason, lock, (outs) => lockUpdates.set(name, lockEntry(outs)), Effect.asVoid(Deferred.succeed(done.get(name)!, true)))
        }))
      })

    const skipAfterFailure = (name: string) =>
      Effect.gen(function*() {
        statuses.set(name, "skipped")
        yield* reporter.emit({ _tag: "Skipped", stage: name, reason: "run stopped after a failure (use --keep-going to continue)" })
        return false
      })

    const restoreRecord = (graph_: Graph, stage: StageNode, record: RunRecord) =>
      Effect.gen(function*() {
        const t0 = Date.now()
        for (const [out, entry] of Object.entries(record.outs)) {
          const abs = path.join(graph_.workspace, out)
          const current = yield* hasher.hash(abs)
          if (current.type !== "missing" && current.hash === entry.hash) continue
          const ok = yield* store.restore(out, entry, abs).pipe(
            Effect.as(true),
            Effect.catchTags({
              ObjectCorrupt: (e) => reporter.emit({ _tag: "Warning", stage: stage.name, message: `${e.message}; the stage will rerun` }).pipe(Effect.as(false)),
              StoreError: (e) => reporter.emit({ _tag: "Warning", stage: stage.name, message: `restore failed: ${e.message}; the stage will rerun` }).pipe(Effect.as(false))
            })
          )
          yield* hasher.forget(abs)
          if (!ok) return false
        }
        const log = record.log !== null ? (yield* store.readBlob(record.log))?.toString("utf8") ?? "" : ""
        yield* reporter.emit({ _tag: "Restored", stage: stage.name, key: record.key, log, durationMs: Date.now() - t0 })
        return true
      })

    const runAndSave = (
      stage: StageNode,
      key: string,
      preImage: PreImage,
      reason: string,
      lock: HeldLock,
      setLock: (outs: Readonly<Record<string, string>>) => void,
      /** The outs are in place and hashed: downstream stages may start. */
      outsReady: Effect.Effect<void>
    ) =>
      Effect.gen(function*() {
        const name = stage.name
        // A job (and any resource slot) is held while the stage's process runs, not while its
        // outputs are saved: saving waits on the disk, and the next command can use the CPU meanwhile.
        let t0 = Date.now()
        const run = yield* withSlots(stage, Effect.gen(function*() {
          yield* removeOuts(graph, stage)
          // Parent directories exist before the stage starts, as make and DVC users expect.
          for (const o of [...stage.outs, ...stage.metrics]) {
            const dir = path.dirname(path.join(graph.workspace, o))
            if (!fs.existsSync(dir)) fs.mkdirSync(dir, { recursive: true })
          }
          const started = Effect.suspend(() => {
            t0 = Date.now()
            return reporter.emit({ _tag: "Started", stage: name, key, reason })
          })
          const exec = execute(graph, stage, lock, pool, output, started).pipe(
            Effect.onInterrupt(() =>
              removeOuts(graph, stage).pipe(
                Effect.andThen(Effect.sync(() => statuses.set(name, "interrupted"))),
                Effect.andThen(reporter.emit({ _tag: "Interrupted", stage: name }))
              )
            )
          )
          // The race awaits the loser's interruption, so the process tree is gone before the lock is released.
          return options.abandon === undefined ? yield* exec : yield* Effect.raceFirst(exec, Effect.as(options.abandon(name), undefined))
        }))
        if (run === undefined) return false
        const fail = (why: string, tail: ReadonlyArray<string>) =>
          Effect.gen(function*() {
            statuses.set(name, "failed")
            yield* reporter.emit({ _tag: "Failed", stage: name, reason: why, logTail: tail, durationMs: Date.now() - t0 })
            yield* stopNewWork
            return false
          })
        if (run.outcome === "cancelled") return yield* skipAfterFailure(name)
        if (run.outcome === "failed") return yield* fail(run.reason!, run.logTail)
        // 6. verify inputs unchanged during the run
        const depsAfter = yield* hashDeps(stage, graph.workspace)
        const changed = Object.keys(preImage.deps).filter((d) => depsAfter[d] !== preImage.deps[d])
        const outs = [...stage.outs, ...stage.metrics]
        const missing = outs.filter((p) => !fs.existsSync(path.join(graph.workspace, p)))
        if (missing.length > 0) return yield* fail(`did not produce ${missing.join(", ")}`, run.logTail)
        if (stage.outs.length + stage.metrics.length === 0 || changed.length > 0) {
          if (changed.length > 0) {
            yield* reporter.emit({ _tag: "Warning", stage: name, message: `input changed while the stage ran: ${changed.join(", ")}; result not cached` })
          }
          statuses.set(name, "ran-uncached")
          yield* reporter.emit({ _tag: "Succeeded", stage: name, key, durationMs: Date.now() - t0, cached: false })
          return true
        }
        // 7. save objects (hashing outs as they are copied), then the record last. The command's
        // work is done: an interruption (Ctrl-C) waits the moment the save takes rather than lose it.
        return yield* Effect.uninterruptible(Effect.gen(function*() {
          const saved: Record<string, OutEntry> = {}
          const staged: Array<StagedOut> = []
          yield* Effect.forEach(outs, (p) =>
            Effect.gen(function*() {
              const out = yield* store.stage(path.join(graph.workspace, p))
              staged.push(out)
              saved[p] = out.entry
              // Downstream stages hash these files as deps: let them find the hashes.
              yield* hasher.remember(out.files)
            }), { discard: true }).pipe(Effect.onError(() => Effect.sync(() => staged.forEach((o) => o.abort()))))
          // Downstream stages need the outs and their hashes, not the store's copies: they start
          // while the copies reach the disk.
          yield* outsReady
          yield* Effect.forEach(staged, (o) => o.commit, { discard: true }).pipe(Effect.ensuring(Effect.sync(() => staged.forEach((o) => o.abort()))))
          const logHash = run.log === "" ? null : yield* store.putBlob(run.log)
          const durationMs = Date.now() - t0
          yield* store.writeRecord({
            v: 1,
            key,
            stage: name,
            preImage,
            outs: saved,
            metrics: readMetrics(graph, stage),
            log: logHash,
            startedAt: new Date(t0).toISOString(),
            durationMs,
            ...(run.backend !== undefined ? { backend: run.backend } : { backend: "process" })
          })
          setLock(Object.fromEntries(Object.entries(saved).map(([p, e]) => [p, e.hash])))
          statuses.set(name, "ran")
          yield* reporter.emit({ _tag: "Succeeded", stage: name, key, durationMs, cached: true })
          return true
        }))
      }).pipe(
        Effect.catchTag("StoreError", (e: StoreError) =>
          Effect.gen(function*() {
            statuses.set(stage.name, "failed")
            yield* reporter.emit({ _tag: "Failed", stage: stage.name, reason: e.message, logTail: [], durationMs: 0 })
            yield* stopNewWork
            return false
          }))
      )

    const writeLock = Effect.suspend(() => {
      if (options.dryRun || options.readOnlyLock === true || lockUpdates.size === 0) return hasher.flush
      return Effect.scoped(Effect.gen(function*() {
        yield* acquireLock(options.locksDir, `lockfile:${options.lockFile}`, () => reporter.note(`waiting for ${options.lockFile}`))
        updateLockFile(options.lockFile, lockUpdates, new Set(graph.stages.keys()))
      })).pipe(Effect.andThen(hasher.flush))
    })

    yield* Effect.forEach(order, (name) =>
      stageFlow(name).pipe(
        Effect.onExit((exit) => Deferred.succeed(done.get(name)!, Exit.isSuccess(exit) && exit.value === true))
      ), { concurrency: "unbounded", discard: true }).pipe(Effect.ensuring(writeLock), Effect.ensuring(Effect.sync(() => {
        pool.close()
        output.close()
      })))

    const counts: Record<string, number> = {}
    for (const s of statuses.values()) counts[s] = (counts[s] ?? 0) + 1
    const failed = [...statuses].filter(([, s]) => s === "failed").map(([n]) => n)
    const durationMs = Date.now() - started
    yield* reporter.emit({ _tag: "Finished", ok: failed.length === 0, durationMs, counts })
    if (failed.length > 0) return yield* new RunFailed({ failed })
    const noop = !options.dryRun && lockUpdates.size === 0 && order.every((s) => statuses.get(s) === "fresh")
    return { ok: true, statuses, keys, durationMs, noop } satisfies RunSummary
  })

export { StageFailed }
