/**
 * (Re)loads the pipeline into a graph. A YAML pipeline goes through `openGraph` as for `run`. A
 * module pipeline is evaluated in a fresh worker thread: this process's module cache would hand
 * back the first version of the module (and of everything it imports) on every reload.
 */
import * as fs from "node:fs"
import { pathToFileURL } from "node:url"
import { Worker } from "node:worker_threads"
import { Effect } from "effect"
import { PipelineInvalid, PipelineInvalidMany } from "../../core/Errors.js"
import { compiledModuleFor, displayPath, validateSpec } from "../../config/PipelineFile.js"
import { ensureSweepResults, loadParamsFor, openGraph, type WorkspacePaths } from "../../engine/Workspace.js"
import { buildGraph } from "../../graph/Graph.js"

/**
 * Structured clone carries the spec back; a spec holding functions fails here, as it should.
 * The dynamic import is spelled in two parts because the CLI bundle routes every `import(` it
 * sees through a hook of its launcher (rolldown.config.mjs), which a worker thread does not have.
 */
const DYNAMIC_IMPORT = "imp" + "ort"
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads")
${DYNAMIC_IMPORT}(workerData.url).then(
  (m) => parentPort.postMessage({ ok: true, spec: m.default }),
  (e) => parentPort.postMessage({ ok: false, error: String((e && e.message) || e) }))
`

const evaluateModule = (file: string, display: string) =>
  Effect.callback<unknown, PipelineInvalid>((resume) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { url: pathToFileURL(file).href } })
    const fail = (reason: string) => resume(Effect.fail(new PipelineInvalid({ file: display, field: "(module)", reason })))
    worker.once("message", (m: { ok: boolean; spec?: unknown; error?: string }) => {
      void worker.terminate()
      if (m.ok) resume(Effect.succeed(m.spec))
      else fail(`cannot load: ${m.error}`)
    })
    worker.once("error", (e) => fail(`cannot load: ${e.message}`))
    return Effect.promise(() => worker.terminate())
  })

const loadModuleGraph = (paths: WorkspacePaths) =>
  Effect.gen(function*() {
    const file = paths.pipelineFile
    const display = displayPath(file)
    if (!fs.existsSync(file)) return yield* new PipelineInvalid({ file: display, field: "(file)", reason: "pipeline file not found" })
    const compiled = compiledModuleFor(file)
    if (compiled === undefined) {
      return yield* new PipelineInvalid({
        file: display,
        field: "(file)",
        reason: "no compiled JavaScript for this TypeScript pipeline: run `npm run build` (tsc), or pass the .js file"
      })
    }
    const value = yield* evaluateModule(compiled, display)
    const spec = validateSpec(value, display, undefined)
    if (spec instanceof PipelineInvalidMany) return yield* spec
    const pipeline = { file, display, spec, source: undefined }
    const params = yield* loadParamsFor(pipeline)
    yield* ensureSweepResults(paths.root, pipeline)
    return yield* buildGraph(pipeline, {
      workspace: paths.root,
      params,
      overrides: [],
      reserved: [paths.cacheDir, paths.pipelineFile, paths.lockFile]
    })
  })

export const loadGraph = (paths: WorkspacePaths) =>
  /\.(c|m)?[jt]s$/.test(paths.pipelineFile) ? loadModuleGraph(paths) : openGraph(paths, [])
