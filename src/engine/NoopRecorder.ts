/**
 * Keeps a workspace's no-op snapshot (NoopSnapshot.ts) in step with `cairn run`: removed before
 * any run that may change something, so a run that stops halfway leaves none behind, and
 * written again by a run that selected every stage, found every one fresh and changed nothing.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Context, Effect } from "effect"
import type { Graph } from "../graph/Graph.js"
import type { TappedOutput } from "../report/OutputTap.js"
import { formatDuration } from "../report/Duration.js"
import type { RunSummary } from "./Executor.js"
import { buildFiles, writeSnapshot } from "./NoopSnapshot.js"

export { fastPathDisabled, isModulePipeline } from "./NoopSnapshot.js"
import { paramsPathFor, type WorkspacePaths } from "./Workspace.js"

/**
 * The cairn build this process runs from, when it is the bundle bin/cairn.cjs starts (the only
 * build the fast path reads snapshots for). Unset, no snapshot is written.
 */
export interface NoopBuildFiles {
  /** The launcher script, bin/cairn.cjs. */
  readonly script: string
  /** dist/bin, holding the bundles. */
  readonly distBin: string
}

export const NoopBuild = Context.Reference<NoopBuildFiles | undefined>("cairn/NoopBuild", { defaultValue: () => undefined })

export const forgetNoopSnapshot = (paths: WorkspacePaths) =>
  Effect.ignore(Effect.try(() => fs.rmSync(paths.noopSnapshot, { force: true })))

export interface NoopRun {
  readonly paths: WorkspacePaths
  readonly graph: Graph
  readonly summary: RunSummary
  readonly output: TappedOutput
  /** Before the run read any input. */
  readonly startedAtMs: number
  readonly argv: ReadonlyArray<string>
}

/**
 * Writes the snapshot for a run that changed nothing. Failing to write one only costs the next
 * run its fast path, so errors are dropped.
 */
export const recordNoopSnapshot = (run: NoopRun) =>
  Effect.gen(function*() {
    const build = yield* NoopBuild
    if (build === undefined || !run.summary.noop || run.summary.statuses.size !== run.graph.stages.size) return
    if (!run.output.exact()) return
    const stages = [...run.graph.stages.values()]
    const ws = run.graph.workspace
    const roots = [
      run.paths.pipelineFile,
      paramsPathFor(run.graph.pipeline),
      run.paths.lockFile,
      ...stages.flatMap((s) => [...s.deps, ...s.outs, ...s.metrics].map((p) => path.join(ws, p)))
    ]
    yield* Effect.ignore(Effect.try(() =>
      writeSnapshot({
        file: run.paths.noopSnapshot,
        argv: run.argv,
        cwd: process.cwd(),
        env: process.env,
        declaredEnv: stages.flatMap((s) => s.env),
        build: buildFiles(build.script, build.distBin),
        roots,
        startedAtMs: run.startedAtMs,
        stdout: run.output.stdout(),
        stderr: run.output.stderr(),
        durationText: formatDuration(run.summary.durationMs)
      })
    ))
  })
