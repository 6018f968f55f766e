/**
 * `cairn sweep NAME` runs (or resumes) a sweep; `cairn sweep collect NAME --from DIR…` merges
 * the journals of sharded jobs; `cairn sweep show NAME` prints the ranked trials.
 */
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Option, Result } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { UsageError } from "../../core/Errors.js"
import { engineLayer } from "../../platform/NodeLive.js"
import { Reporter } from "../../report/Reporter.js"
import { acquireLock } from "../../store/Locks.js"
import { CollectError, collectJournals } from "../../sweep/Collect.js"
import { foldJournal, journalPath, JournalError, readJournal, type TrialState } from "../../sweep/Journal.js"
import { publishResults, type Published } from "../../sweep/Publish.js"
import { sweepDirectory } from "../../sweep/SweepDirectory.js"
import { bestTrial, rankTrials, sweepShowJson } from "../../sweep/Results.js"
import { loadSweep, runSweep, type SweepEvent } from "../../sweep/Runner.js"
import { parseShard, type Shard } from "../../sweep/Shard.js"
import type { SweepSpec } from "../../sweep/SweepSpec.js"
import { jsonFlag, pathsFrom, sharedFlags } from "../Common.js"
import { reportFailures } from "../ExitCode.js"

const write = (line: string) => Effect.sync(() => void process.stdout.write(line + "\n"))

const seconds = (ms: number) => (ms < 1000 ? `${Math.round(ms)}ms` : `${(ms / 1000).toFixed(1)}s`)
const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toPrecision(4))
const value = (v: unknown) => (typeof v === "string" && v !== "" ? v : JSON.stringify(v))
const paramText = (params: Readonly<Record<string, unknown>>) =>
  Object.entries(params).map(([k, v]) => `${k}=${value(v)}`).join(" ")

/** A sweep event as a line for people; `metric` names the objective. */
const plainLine = (e: SweepEvent, metric: string): string => {
  switch (e._tag) {
    case "SweepPlanned": {
      const parts = [`${e.run} trial(s) to run${e.resumed > 0 ? ` (${e.resumed} resumed)` : ""}`]
      if (e.done > 0) parts.push(`${e.done} already done`)
      if (e.failed > 0) parts.push(`${e.failed} failed earlier (not retried)`)
      if (e.sequential > 0) parts.push(`${e.sequential} sequential (TPE)`)
      const shared = e.shared.length > 0 ? `; shared stages: ${e.shared.join(", ")}` : ""
      return `sweep ${e.sweep} (${e.method}${e.shard !== undefined ? `, shard ${e.shard}` : ""}): ${parts.join(", ")}${shared}`
    }
    case "TrialStarted":
      return `trial     ${e.id} ${e.resumed ? "resumed" : "started"} ${paramText(e.params)}`
    case "TrialFinished":
      return `trial     ${e.id} finished in ${seconds(e.durationMs)}: ` +
        (e.metric !== undefined ? `${metric}=${num(e.metric)}` : `no metric (${e.reason ?? "not reported"})`)
    case "TrialStopped":
      return `trial     ${e.id} stopped early after ${seconds(e.durationMs)}` +
        `${e.metric !== undefined ? ` at ${metric}=${num(e.metric)}` : ""}: ${e.reason}`
    case "TrialFailed":
      return `trial     ${e.id} FAILED after ${seconds(e.durationMs)}: ${e.reason}`
    case "SweepNote":
      return `note      ${e.message}`
  }
}

/**
 * One JSON object per event with `--json`; otherwise lines through the reporter, which keeps a
 * live TTY view intact around them.
 */
const makeRenderer = (json: boolean) =>
  Effect.gen(function*() {
    const reporter = yield* Reporter
    let metric = "metric"
    return (e: SweepEvent): Effect.Effect<void> => {
      if (json) return write(JSON.stringify(e))
      if (e._tag === "SweepPlanned") metric = e.metric
      return reporter.note(plainLine(e, metric))
    }
  })

/** A path as the user would type it: relative to the current directory when inside it. */
const shown = (file: string) => {
  const rel = path.relative(process.cwd(), file)
  return rel.startsWith("..") || path.isAbsolute(rel) ? file : rel
}

const counts = (state: ReadonlyMap<string, TrialState>) => {
  const out: Record<string, number> = {}
  for (const t of state.values()) out[t.status] = (out[t.status] ?? 0) + 1
  return out
}

/** The closing lines: tallies, the best trial, where the results are. */
const summarize = (spec: SweepSpec, state: ReadonlyMap<string, TrialState>, published: Published, json: boolean, note?: string) => {
  const best = bestTrial(state, spec.metric.goal)
  if (json) {
    return write(JSON.stringify({
      _tag: "SweepFinished",
      sweep: spec.name,
      counts: counts(state),
      best: best ?? null,
      files: published.files,
      ...(note !== undefined ? { note } : {})
    }))
  }
  const tally = Object.entries(counts(state)).map(([s, n]) => `${n} ${s}`).join(", ") || "no trials"
  const lines = [
    `sweep ${spec.name}: ${tally}`,
    best === undefined
      ? "no finished trial yet"
      : `best      ${best.id} ${spec.metric.name}=${num(best.metric)} ${paramText(best.params)}`,
    `results   ${published.files.map(shown).join(", ")}`,
    ...(note !== undefined ? [`note      ${note}`] : [])
  ]
  return write(lines.join("\n"))
}

const shardFlag = Flag.String("shard").pipe(
  Flag.withDescription("Run this job's share of the sweep, i/n (1-based, as CI matrices count)"),
  Flag.optional
)

const closeReporter = Effect.gen(function*() {
  yield* (yield* Reporter).close
})

const runSweepCommand = (f: {
  readonly name: string
  readonly shard: Option.Option<string>
  readonly jobs: Option.Option<number>
  readonly retryFailed: boolean
  readonly json: boolean
} & Parameters<typeof pathsFrom>[0]) =>
  Effect.gen(function*() {
    const paths = pathsFrom(f)
    let shard: Shard | undefined
    if (Option.isSome(f.shard)) {
      const parsed = parseShard(f.shard.value)
      if (Result.isFailure(parsed)) return yield* new UsageError({ reason: parsed.failure.message })
      shard = parsed.success
    }
    const jobs = Option.getOrElse(f.jobs, () => os.availableParallelism())
    if (jobs < 1) return yield* new UsageError({ reason: "--jobs must be at least 1" })
    const program = Effect.gen(function*() {
      const outcome = yield* runSweep(paths, f.name, {
        ...(shard !== undefined ? { shard } : {}),
        jobs,
        retryFailed: f.retryFailed,
        onEvent: yield* makeRenderer(f.json)
      }).pipe(Effect.ensuring(closeReporter))
      yield* summarize(outcome.spec, outcome.state, outcome.published, f.json, outcome.note)
    })
    return yield* program.pipe(Effect.provide(engineLayer(paths, { json: f.json })))
  })

const readState = (file: string) =>
  Effect.try({
    try: () => foldJournal(readJournal(file)),
    catch: (e) => e instanceof JournalError ? e : new JournalError({ path: file, message: String(e), cause: e })
  })

const collectCommand = Command.make(
  "collect",
  {
    ...sharedFlags,
    name: Argument.String("name").pipe(Argument.withDescription("The sweep, as named under `sweeps:`")),
    dirs: Argument.String("dir").pipe(Argument.withDescription("More shard workspaces or journal files"), Argument.variadic()),
    from: Flag.String("from").pipe(
      Flag.withDescription("A shard's workspace directory or its journal file (repeatable)"),
      Flag.atLeast(0)
    ),
    json: jsonFlag
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const paths = pathsFrom(f)
      const sources = [...f.from, ...f.dirs]
      if (sources.length === 0) return yield* new UsageError({ reason: "sweep collect needs at least one --from DIR (a shard's workspace or journal)" })
      const { spec } = yield* loadSweep(paths, f.name)
      const target = journalPath(paths.root, spec.name)
      const merged = yield* Effect.scoped(Effect.gen(function*() {
        // A sweep running here appends to the journal that collect replaces.
        yield* acquireLock(paths.locksDir, `sweep:${paths.root}:${spec.name}`, (holder) =>
          Effect.sync(() => void process.stderr.write(`waiting for sweep ${spec.name}: locked by ${holder}\n`)))
        return yield* Effect.try({
          try: () => collectJournals(sources, target, spec),
          catch: (e) =>
            e instanceof CollectError
              ? new UsageError({ reason: e.message })
              : e instanceof JournalError
              ? e
              : new JournalError({ path: target, message: String(e), cause: e })
        })
      }))
      const state = yield* readState(target)
      const published = yield* publishResults(sweepDirectory(paths.root, spec.name), state, spec)
      if (f.json) {
        yield* write(JSON.stringify({ _tag: "Collected", ...merged }))
      } else {
        const empty = merged.empty.length > 0 ? ` (${merged.empty.length} source(s) without a journal: ${merged.empty.join(", ")})` : ""
        yield* write(
          `collected ${merged.sources.length} journal(s) into ${shown(merged.journal)}: ` +
            `${merged.trials} trial(s), ${merged.added} new event(s), ${merged.duplicates} duplicate(s)${empty}`
        )
        for (const n of published.notes) yield* write(`note      ${n}`)
      }
      yield* summarize(spec, state, published, f.json, merged.note)
    }))
).pipe(Command.withDescription("Merge the journals of sharded sweep jobs and write the results"))

/** A plain-text table: rank, id, one column per parameter, metric, status. */
const table = (spec: SweepSpec, state: ReadonlyMap<string, TrialState>): string => {
  const rows = rankTrials(state, spec.metric.goal)
  const keys = [...new Set(rows.flatMap((t) => Object.keys(t.params)))].sort()
  const header = ["#", "id", ...keys, spec.metric.name, "status"]
  const body = rows.map((t, i) => [
    String(i + 1),
    t.id,
    ...keys.map((k) => (t.params[k] === undefined ? "" : value(t.params[k]))),
    typeof t.metric === "number" ? num(t.metric) : "-",
    t.status
  ])
  const widths = header.map((h, c) => Math.max(h.length, ...body.map((r) => r[c]!.length)))
  return [header, ...body].map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join("  ").trimEnd()).join("\n")
}

const showCommand = Command.make(
  "show",
  {
    ...sharedFlags,
    name: Argument.String("name").pipe(Argument.withDescription("The sweep, as named under `sweeps:`")),
    json: jsonFlag
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const paths = pathsFrom(f)
      const { spec } = yield* loadSweep(paths, f.name)
      const file = journalPath(paths.root, spec.name)
      const state = yield* readState(file)
      if (f.json) return yield* write(JSON.stringify(sweepShowJson(state, spec.metric.goal)))
      if (state.size === 0) return yield* write(`sweep ${spec.name} has no trials yet (run \`cairn sweep ${spec.name}\`)`)
      const best = bestTrial(state, spec.metric.goal)
      yield* write(`sweep ${spec.name} (${spec.method}, ${spec.metric.goal} ${spec.metric.name}): ${state.size} trial(s)`)
      yield* write(table(spec, state))
      if (best !== undefined) yield* write(`best: ${best.id} ${spec.metric.name}=${num(best.metric)} ${paramText(best.params)}`)
    }))
).pipe(Command.withDescription("Print a sweep's trials ranked by its metric"))

export const sweepCommand = Command.make(
  "sweep",
  {
    ...sharedFlags,
    name: Argument.String("name").pipe(Argument.withDescription("The sweep to run, as named under `sweeps:`")),
    shard: shardFlag,
    jobs: Flag.Int("jobs").pipe(Flag.withAlias("j"), Flag.withDescription("Trials run at once (default: number of cores)"), Flag.optional),
    retryFailed: Flag.Boolean("retry-failed").pipe(Flag.withDefault(false), Flag.withDescription("Run trials that failed before again")),
    json: jsonFlag
  },
  (f) => reportFailures(runSweepCommand(f))
).pipe(
  Command.withDescription("Run or resume a sweep: grid, random or Bayesian search with early termination"),
  Command.withSubcommands([collectCommand, showCommand])
)
