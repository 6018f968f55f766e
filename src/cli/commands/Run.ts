/**
 * `cairn run [STAGE...]`: bring the selected stages up to date.
 */
import * as os from "node:os"
import { Clock, Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { UsageError } from "../../core/Errors.js"
import { runGraph } from "../../engine/Executor.js"
import { fastPathDisabled, forgetNoopSnapshot, isModulePipeline, recordNoopSnapshot } from "../../engine/NoopRecorder.js"
import { openGraph } from "../../engine/Workspace.js"
import { engineLayer } from "../../platform/NodeLive.js"
import { tapOutput } from "../../report/OutputTap.js"
import { Reporter } from "../../report/Reporter.js"
import { jsonFlag, parseOverrides, pathsFrom, setFlag, sharedFlags } from "../Common.js"
import { reportFailures } from "../ExitCode.js"

const parseSlots = (specs: ReadonlyArray<string>) =>
  Effect.forEach(specs, (s) => {
    const m = /^([A-Za-z0-9_-]+)=(\d+)$/.exec(s)
    return m ? Effect.succeed([m[1]!, Number(m[2])] as const) : Effect.fail(new UsageError({ reason: `--slots expects name=count, got ${JSON.stringify(s)}` }))
  }).pipe(Effect.map((pairs) => Object.fromEntries(pairs)))

const closeReporter = Effect.gen(function*() {
  yield* (yield* Reporter).close
})

export const runCommand = Command.make(
  "run",
  {
    ...sharedFlags,
    stages: Argument.String("stage").pipe(Argument.withDescription("Stages to bring up to date (default: all), with what they need"), Argument.variadic()),
    force: Flag.Boolean("force").pipe(Flag.withDefault(false), Flag.withDescription("Run the selected stages even if fresh or cached")),
    downstream: Flag.Boolean("downstream").pipe(Flag.withDefault(false), Flag.withDescription("Select the named stages and everything downstream of them")),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDefault(false), Flag.withDescription("Show what would run; change nothing")),
    jobs: Flag.Int("jobs").pipe(Flag.withAlias("j"), Flag.withDescription("Stages run at once (default: number of cores)"), Flag.optional),
    keepGoing: Flag.Boolean("keep-going").pipe(Flag.withDefault(false), Flag.withAlias("k"), Flag.withDescription("After a failure, keep running what does not depend on it")),
    slots: Flag.String("slots").pipe(Flag.withDescription("Resource slot capacity, name=count (repeatable; default 1 each)"), Flag.atLeast(0)),
    set: setFlag,
    json: jsonFlag
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      // Before any input is read: the no-op snapshot trusts no path modified after this.
      const startedAtMs = yield* Clock.currentTimeMillis
      const paths = pathsFrom(f)
      const overrides = yield* parseOverrides(f.set)
      const slots = yield* parseSlots(f.slots)
      // The fast path (bin/cairn.cjs) answers only a plain run of every stage; other runs
      // neither write a snapshot nor, unless they are dry runs, leave an old one standing.
      const recordable = f.stages.length === 0 && !f.force && !f.downstream && !f.dryRun && f.set.length === 0 && !f.json &&
        !isModulePipeline(paths.pipelineFile) && !fastPathDisabled(process.env)
      if (!f.dryRun) yield* forgetNoopSnapshot(paths)
      const program = Effect.gen(function*() {
        const output = recordable ? yield* tapOutput : undefined
        const graph = yield* openGraph(paths, overrides)
        for (const s of f.stages) {
          if (!graph.stages.has(s)) {
            return yield* new UsageError({ reason: `no stage named ${JSON.stringify(s)} in ${graph.pipeline.display} (stages: ${graph.order.join(", ")})` })
          }
        }
        const jobs = Option.getOrElse(f.jobs, () => os.availableParallelism())
        if (jobs < 1) return yield* new UsageError({ reason: "--jobs must be at least 1" })
        const summary = yield* runGraph(graph, {
          targets: f.stages,
          force: f.force,
          downstream: f.downstream,
          dryRun: f.dryRun,
          jobs,
          keepGoing: f.keepGoing,
          slots,
          lockFile: paths.lockFile,
          locksDir: paths.locksDir,
          // Overrides are for one run: recording them as the workspace's state would make the
          // next plain run look fresh against params it does not have.
          readOnlyLock: overrides.length > 0
        }).pipe(Effect.ensuring(closeReporter))
        if (output !== undefined) {
          yield* recordNoopSnapshot({ paths, graph, summary, output, startedAtMs, argv: process.argv.slice(2) })
        }
        return summary
      })
      return yield* program.pipe(Effect.scoped, Effect.provide(engineLayer(paths, { json: f.json })))
    }))
).pipe(Command.withDescription("Run stale stages; restore cached results; skip fresh ones"))
