/**
 * What to watch for a graph: every dep that no stage produces (files and directories), the
 * pipeline file, its params file, and for a TS/JS pipeline the workspace modules it is built from.
 * Outs, metrics, the store and the lock file are never watched: cairn writes them itself, and a
 * write of its own must not start another run.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { Graph } from "../../graph/Graph.js"
import { within } from "../../graph/WorkspacePath.js"
import type { WorkspacePaths } from "../../engine/Workspace.js"
import { relative } from "./Cone.js"
import { compiledModuleFor } from "../../config/PipelineFile.js"

export interface WatchList {
  /** Absolute paths handed to the file watcher. */
  readonly paths: ReadonlyArray<string>
  /** Absolute paths whose change reloads the pipeline. */
  readonly reloadOn: ReadonlySet<string>
  /** True for a path cairn itself writes. */
  readonly ignored: (abs: string) => boolean
}

/** Where the params file is, loaded or not (the same rule as `loadParamsFor`). */
export const paramsFileOf = (graph: Graph): string => {
  const dir = path.dirname(graph.pipeline.file)
  const declared = graph.pipeline.spec.params
  return declared !== undefined ? path.resolve(dir, declared) : path.join(dir, "params.yaml")
}

const isModule = (file: string) => /\.(c|m)?[jt]s$/.test(file)

/** Relative `import`/`export … from`/`import()` specifiers of a module's text. */
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)["'](\.{1,2}\/[^"']+)["']/g

/**
 * The TypeScript sources and compiled modules a module pipeline is built from: the pipeline file
 * and the relative imports it reaches inside the workspace, each as its `.ts` source and its
 * emitted `.js`, and the same from the compiled module the pipeline runs as (which `tsc` may emit
 * under `dist/`, after the source was saved: that write is the one that must reload).
 */
export const moduleSources = (entry: string, workspace: string): Array<string> => {
  const compiled = compiledModuleFor(entry)
  const roots = [workspace, ...(compiled !== undefined ? [path.dirname(compiled)] : [])]
  const seen = new Set<string>()
  const visit = (file: string) => {
    const inside = roots.some((r) => !relative(r, file).startsWith(".."))
    if (seen.has(file) || !inside || !fs.existsSync(file)) return
    seen.add(file)
    const text = fs.readFileSync(file, "utf8")
    for (const m of text.matchAll(SPECIFIER)) {
      const target = path.resolve(path.dirname(file), m[1]!)
      visit(target)
      // `./x.js` in a TypeScript source names `./x.ts`.
      visit(target.replace(/\.(c|m)?js$/, ".$1ts"))
    }
    if (/\.(c|m)?ts$/.test(file)) visit(file.replace(/\.(c|m)?ts$/, ".$1js"))
  }
  visit(entry)
  if (compiled !== undefined) visit(compiled)
  return [...seen].sort()
}

export const watchListFor = (graph: Graph, scope: ReadonlySet<string>, paths: WorkspacePaths): WatchList => {
  const workspace = graph.workspace
  const written = [...graph.stages.values()].flatMap((s) => [...s.outs, ...s.metrics])
  const deps = new Set<string>()
  for (const name of scope) {
    for (const d of graph.stages.get(name)!.deps) {
      // An upstream out reruns through its producer, not through the watcher.
      if (!written.some((w) => within(d, w))) deps.add(path.join(workspace, d))
    }
  }
  const reloadOn = new Set([paths.pipelineFile, paramsFileOf(graph)])
  if (isModule(paths.pipelineFile)) for (const f of moduleSources(paths.pipelineFile, workspace)) reloadOn.add(f)
  const ignored = (abs: string): boolean => {
    if (within(abs, paths.cacheDir) || abs === paths.lockFile) return true
    const rel = relative(workspace, abs)
    return !rel.startsWith("..") && rel !== "" && written.some((w) => within(rel, w))
  }
  return { paths: [...new Set([...deps, ...reloadOn])].sort(), reloadOn, ignored }
}
