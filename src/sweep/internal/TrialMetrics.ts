/**
 * Metrics of a trial, named `<stage>.<dotted key>` the way a sweep's `metric.name` is written
 * (`eval.rougeL`): the numbers in each stage's metrics files, from its run record, else from the
 * files in the trial's workspace.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import type { Graph } from "../../graph/Graph.js"
import { ArtifactStore } from "../../store/ArtifactStore.js"

/** Numeric leaves of a JSON value as dotted keys (`{rouge: {L: 0.4}}` → `rouge.L`). */
export const numericLeaves = (value: unknown, prefix: string, out: Record<string, number> = {}): Record<string, number> => {
  if (typeof value === "number" && Number.isFinite(value)) out[prefix] = value
  else if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) numericLeaves(v, `${prefix}.${k}`, out)
  }
  return out
}

/**
 * Splits `eval.rouge.L` into a stage and a key. Stage names may contain dots, so the longest
 * stage name that prefixes the metric wins.
 */
export const splitMetricName = (
  name: string,
  stages: Iterable<string>
): { readonly stage: string; readonly key: string } | undefined => {
  let best: string | undefined
  for (const s of stages) {
    if (name.startsWith(s + ".") && name.length > s.length + 1 && (best === undefined || s.length > best.length)) best = s
  }
  return best === undefined ? undefined : { stage: best, key: name.slice(best.length + 1) }
}

const readJson = (file: string): unknown => {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"))
  } catch {
    return undefined
  }
}

/** Every numeric metric the given stages of a trial produced. */
export const trialMetrics = (graph: Graph, stages: Iterable<string>, keys: ReadonlyMap<string, string>) =>
  Effect.gen(function*() {
    const store = yield* ArtifactStore
    const out: Record<string, number> = {}
    for (const name of stages) {
      const node = graph.stages.get(name)
      if (node === undefined || node.metrics.length === 0) continue
      const key = keys.get(name)
      const record = key === undefined ? undefined : yield* store.readRecord(key)
      for (const file of node.metrics) {
        const value = record?.metrics[file] ?? readJson(path.join(graph.workspace, file))
        numericLeaves(value, name, out)
      }
    }
    return out
  })
