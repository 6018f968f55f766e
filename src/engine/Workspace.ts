/**
 * Everything a command needs to know about where it runs: the workspace root (`-C`, else the
 * current directory), the pipeline file (`-f`, else `cairn.yaml`), its params file, lock file,
 * and the store (`--cache-dir`, else `$CAIRN_CACHE_DIR`, else `<workspace>/cache`).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { PipelineInvalid } from "../core/Errors.js"
import { type LoadedParams, loadParams } from "../config/Params.js"
import { loadPipeline, type LoadedPipeline, specCacheIn } from "../config/PipelineFile.js"
import { buildGraph } from "../graph/Graph.js"
import { lockPathFor } from "../store/LockFile.js"
import { ensureResultsFile, sweepDirectory } from "../sweep/SweepDirectory.js"
import { noopSnapshotFile, resolveLocation, type WorkspaceOptions } from "./WorkspaceLocation.js"

export type { WorkspaceOptions }

export interface WorkspacePaths {
  readonly root: string
  readonly pipelineFile: string
  readonly cacheDir: string
  readonly lockFile: string
  readonly locksDir: string
  readonly statCache: string
  /** The record of the last run that found everything fresh (NoopSnapshot.ts). */
  readonly noopSnapshot: string
}

export const resolvePaths = (o: WorkspaceOptions): WorkspacePaths => {
  const { root, pipelineFile, cacheDir } = resolveLocation(o)
  return {
    root,
    pipelineFile,
    cacheDir,
    lockFile: lockPathFor(pipelineFile),
    locksDir: path.join(cacheDir, "locks"),
    statCache: path.join(cacheDir, "state", "stat-cache.json"),
    noopSnapshot: noopSnapshotFile(cacheDir, pipelineFile)
  }
}

/** The params file a pipeline names, else `params.yaml` beside it (read only if it exists). */
export const paramsPathFor = (pipeline: LoadedPipeline): string =>
  pipeline.spec.params !== undefined
    ? path.resolve(path.dirname(pipeline.file), pipeline.spec.params)
    : path.join(path.dirname(pipeline.file), "params.yaml")

export const loadParamsFor = (pipeline: LoadedPipeline): Effect.Effect<LoadedParams | undefined, PipelineInvalid> =>
  Effect.suspend(() => {
    const declared = pipeline.spec.params
    const abs = paramsPathFor(pipeline)
    if (declared === undefined && !fs.existsSync(abs)) return Effect.succeed(undefined)
    const display = path.relative(process.cwd(), abs) || abs
    const loaded = loadParams(abs, display.length < abs.length ? display : abs)
    if (loaded instanceof PipelineInvalid) {
      return Effect.fail(declared !== undefined && !fs.existsSync(abs)
        ? new PipelineInvalid({ file: pipeline.display, position: pipeline.source?.locate(["params"]), field: "params", reason: `params file ${declared} not found` })
        : loaded)
    }
    return Effect.succeed(loaded)
  })

/**
 * A `sweep` stage depends on its sweep's results table, which only `cairn sweep` writes: an empty
 * table stands in until then, so the rest of the pipeline can be shown and run before any sweep
 * (the `sweep` stage itself then fails, saying which sweep to run). Where it cannot be written,
 * the graph reports the missing dependency as usual.
 */
export const ensureSweepResults = (root: string, pipeline: LoadedPipeline) =>
  Effect.ignore(Effect.try(() => {
    for (const name of Object.keys(pipeline.spec.sweeps ?? {})) ensureResultsFile(sweepDirectory(root, name))
  }))

/** Loads the pipeline and builds its graph with the given overrides. */
export const openGraph = (paths: WorkspacePaths, overrides: ReadonlyArray<readonly [string, unknown]>) =>
  Effect.gen(function*() {
    const pipeline = yield* loadPipeline(paths.pipelineFile, specCacheIn(path.join(paths.cacheDir, "state")))
    const params = yield* loadParamsFor(pipeline)
    yield* ensureSweepResults(paths.root, pipeline)
    return yield* buildGraph(pipeline, {
      workspace: paths.root,
      params,
      overrides,
      reserved: [paths.cacheDir, paths.pipelineFile, paths.lockFile]
    })
  })
