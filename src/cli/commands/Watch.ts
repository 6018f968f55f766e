/**
 * `cairn watch [STAGE...]`: bring the selected stages up to date, then rerun what each save
 * affects until Ctrl-C.
 */
import * as os from "node:os"
import { Effect, Layer, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { UsageError } from "../../core/Errors.js"
import { engineLayer } from "../../platform/NodeLive.js"
import { pathsFrom, sharedFlags } from "../Common.js"
import { reportFailures } from "../ExitCode.js"

export const watchCommand = Command.make(
  "watch",
  {
    ...sharedFlags,
    stages: Argument.String("stage").pipe(Argument.withDescription("Stages to keep up to date (default: all), with what they need"), Argument.variadic()),
    debounce: Flag.Int("debounce").pipe(
      Flag.withDefault(100),
      Flag.withDescription("Milliseconds of quiet after a change before rerunning; changes closer together make one rerun")
    ),
    jobs: Flag.Int("jobs").pipe(Flag.withAlias("j"), Flag.withDescription("Stages run at once (default: number of cores)"), Flag.optional),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("Stream run and watch events as JSON lines (for editors)"))
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const paths = pathsFrom(f)
      if (f.debounce < 0) return yield* new UsageError({ reason: "--debounce must be at least 0" })
      const jobs = Option.getOrElse(f.jobs, () => os.availableParallelism())
      if (jobs < 1) return yield* new UsageError({ reason: "--jobs must be at least 1" })
      // Loaded on use: the watcher (and chokidar) stay off the start-up path of other commands.
      const { watch } = yield* Effect.promise(() => import("../../watch/Watcher.js"))
      const { WatchView } = yield* Effect.promise(() => import("../../watch/WatchView.js"))
      return yield* watch({ paths, targets: f.stages, debounceMs: f.debounce, jobs }).pipe(
        Effect.scoped,
        Effect.provide(Layer.merge(engineLayer(paths, { json: f.json }), WatchView.layerAuto(f.json)))
      )
    }))
).pipe(Command.withDescription("Rerun the stages each save affects, until Ctrl-C"))
