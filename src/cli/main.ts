/**
 * The `cairn` command. Each subcommand lives in `commands/`; this file only assembles them and
 * hands the process to the Effect runtime, which turns SIGINT/SIGTERM into interruption (exit 130).
 */
import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import { StageWorkerPath } from "../engine/Executor.js"
import { Command } from "effect/cli"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeServices from "@effect/platform-node/NodeServices"
import { dagCommand } from "./commands/Dag.js"
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

// Bundled, the worker sits beside this file; compiled but unbundled, under engine/internal.
const bundledWorker = fileURLToPath(new URL("./stage-worker.js", import.meta.url))

// make-style `-j4` is split into `-j 4`, which the flag parser understands.
const argv = process.argv.slice(2).flatMap((a) => /^-j\d+$/.test(a) ? ["-j", a.slice(2)] : [a])

Command.runWith(cairn, { version: "0.1.0" })(argv).pipe(
  Effect.provide(NodeServices.layer),
  fs.existsSync(bundledWorker) ? Effect.provideService(StageWorkerPath, bundledWorker) : (e) => e,
  NodeRuntime.runMain
)
