/**
 * Which stages a set of changed paths affects, on the graph: the stages reading them, and their
 * downstream cone; and which stages a pipeline edit changed.
 */
import * as path from "node:path"
import type { Graph, StageNode } from "../../graph/Graph.js"
import { within } from "../../graph/WorkspacePath.js"

/** Workspace-relative POSIX form of an absolute path ("" for the root, `../x` outside it). */
export const relative = (workspace: string, abs: string): string => path.relative(workspace, abs).split(path.sep).join("/")

/** Stages in `scope` that read `rel`: a dep is the path, lies inside it, or is a directory holding it. */
export const readersOf = (graph: Graph, scope: ReadonlySet<string>, rel: string): Array<string> =>
  graph.order.filter((name) =>
    scope.has(name) && graph.stages.get(name)!.deps.some((d) => within(rel, d) || within(d, rel))
  )

/** The stages and everything downstream of them, restricted to `scope`, in topological order. */
export const coneOf = (graph: Graph, scope: ReadonlySet<string>, stages: Iterable<string>): Array<string> => {
  const seen = new Set<string>()
  const walk = (name: string) => {
    if (seen.has(name) || !scope.has(name)) return
    seen.add(name)
    for (const d of graph.downstream.get(name) ?? []) walk(d)
  }
  for (const s of stages) walk(s)
  return graph.order.filter((s) => seen.has(s))
}

/** Everything about a stage that changes what it does or what it needs; file order aside. */
const signature = (s: StageNode): string =>
  JSON.stringify({
    kind: s.kind,
    cmd: s.cmd ?? null,
    builtin: s.builtin !== undefined ? `${s.builtin.name}@${s.builtin.version}` : null,
    with: s.with ?? null,
    deps: s.deps,
    outs: s.outs,
    metrics: s.metrics,
    params: Object.entries(s.params).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
    env: s.env,
    resources: Object.entries(s.resources).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0),
    upstream: [...s.upstream].sort()
  })

export interface GraphDiff {
  readonly added: ReadonlyArray<string>
  readonly changed: ReadonlyArray<string>
  readonly removed: ReadonlyArray<string>
}

/** Stages a reload added, changed (any field, a param value, an upstream edge) or removed. */
export const diffGraphs = (before: Graph, after: Graph): GraphDiff => ({
  added: after.order.filter((s) => !before.stages.has(s)),
  changed: after.order.filter((s) => before.stages.has(s) && signature(before.stages.get(s)!) !== signature(after.stages.get(s)!)),
  removed: before.order.filter((s) => !after.stages.has(s))
})
