/**
 * The `cairn` command. Each subcommand lives in `commands/`; this file only assembles them and
 * hands the process to the Effect runtime, which turns SIGINT/SIGTERM into interruption (exit 130).
 */
import type { ChildProcess } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Layer, Scope, Terminal } from "effect"
import { StageWorkerPath } from "../engine/Executor.js"
import { NoopBuild } from "../engine/NoopRecorder.js"
import { bundledLauncher, Launcher } from "../engine/ProcessRunner.js"
import { CliError, Command } from "effect/cli"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeChildProcessSpawner from "@effect/platform-node/NodeChildProcessSpawner"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeStdio from "@effect/platform-node/NodeStdio"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import { dagCommand } from "./commands/Dag.js"
import { EXIT_INPUT } from "./ExitCode.js"
import { dataCommand } from "./commands/Data.js"
import { scoreCommand } from "./commands/Score.js"
import { gcCommand } from "./commands/Gc.js"
import { metricsCommand } from "./commands/Metrics.js"
import { paramsCommand } from "./commands/Params.js"
import { plotsCommand } from "./commands/Plots.js"
import { runCommand } from "./commands/Run.js"
import { statusCommand } from "./commands/Status.js"
import { sweepCommand } from "./commands/Sweep.js"
import { watchCommand } from "./commands/Watch.js"

const cairn = Command.make("cairn").pipe(
  Command.withDescription("Pipeline runner for instruction fine-tuning experiments"),
  Command.withSubcommands([runCommand, statusCommand, dagCommand, paramsCommand, metricsCommand, gcCommand, scoreCommand, dataCommand, watchCommand, sweepCommand, plotsCommand])
)

/**
 * A Terminal that opens stdin only when something reads from it (a prompt): opening it costs a few
 * milliseconds of every start, and `run` never reads it.
 */
const lazyTerminal = Layer.effect(
  Terminal.Terminal,
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const real = yield* Effect.cached(NodeTerminal.make().pipe(Scope.provide(scope)))
    return Terminal.make({
      columns: Effect.flatMap(real, (t) => t.columns),
      rows: Effect.flatMap(real, (t) => t.rows),
      size: Effect.flatMap(real, (t) => t.size),
      readInput: Effect.flatMap(real, (t) => t.readInput),
      readLine: Effect.flatMap(real, (t) => t.readLine),
      display: (text) => Effect.flatMap(real, (t) => t.display(text))
    })
  })
)

/** NodeServices.layer, with the lazy Terminal. */
const nodeServices = Layer.provideMerge(
  NodeChildProcessSpawner.layer,
  Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, NodeStdio.layer, lazyTerminal)
)

// Bundled, the worker sits beside this file; compiled but unbundled, under engine/internal.
const bundledWorker = fileURLToPath(new URL("./stage-worker.js", import.meta.url))
// Stage commands start from a small launcher process when the bundle ships one (see Launcher.ts).
// bin/cairn.cjs may have started it already, while this bundle loaded.
const launcher = bundledLauncher(
  fileURLToPath(new URL("./launcher.cjs", import.meta.url)),
  (globalThis as { __cairnLauncher?: ChildProcess }).__cairnLauncher
)

// make-style `-j4` is split into `-j 4`, which the flag parser understands.
const argv = process.argv.slice(2).flatMap((a) => /^-j\d+$/.test(a) ? ["-j", a.slice(2)] : [a])

const bundled = fs.existsSync(bundledWorker)

/** A malformed command line, after effect/cli has printed the help and the error. */
const isUsageError = (e: unknown): boolean => CliError.isCliError(e) && e._tag === "ShowHelp" && e.errors.length > 0

Command.runWith(cairn, { version: "0.1.0" })(argv).pipe(
  // Bad input, like a malformed pipeline file: exit 2 (effect/cli's own code is 1, a failed stage's).
  Effect.catchIf(isUsageError, () => Effect.sync(() => void (process.exitCode = EXIT_INPUT))),
  Effect.provide(nodeServices),
  bundled ? Effect.provideService(StageWorkerPath, bundledWorker) : (e) => e,
  // The bundle as bin/cairn.cjs starts it is the build no-op snapshots are written for.
  bundled && process.argv[1] !== undefined
    ? Effect.provideService(NoopBuild, { script: process.argv[1], distBin: path.dirname(bundledWorker) })
    : (e) => e,
  launcher !== undefined ? Effect.provideService(Launcher, launcher) : (e) => e,
  NodeRuntime.runMain
)
