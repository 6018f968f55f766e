/**
 * `cairn dag`: the stage graph as text, Mermaid or Graphviz dot.
 */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import type { Graph } from "../../graph/Graph.js"
import { openGraph } from "../../engine/Workspace.js"
import { layerShippedStages } from "../StageRegistry.js"
import { pathsFrom, sharedFlags } from "../Common.js"
import { reportFailures } from "../ExitCode.js"

const edges = (g: Graph) => g.order.flatMap((n) => g.stages.get(n)!.upstream.map((u) => [u, n] as const))
const quote = (s: string) => JSON.stringify(s)

export const renderDag = (g: Graph, format: "text" | "mermaid" | "dot"): string => {
  if (format === "mermaid") {
    const id = (s: string) => s.replace(/[^A-Za-z0-9_]/g, "_")
    return ["flowchart TD", ...g.order.map((n) => `  ${id(n)}[${quote(n)}]`), ...edges(g).map(([a, b]) => `  ${id(a)} --> ${id(b)}`)].join("\n") + "\n"
  }
  if (format === "dot") {
    return ["digraph cairn {", "  rankdir=LR;", ...g.order.map((n) => `  ${quote(n)};`), ...edges(g).map(([a, b]) => `  ${quote(a)} -> ${quote(b)};`), "}"].join("\n") + "\n"
  }
  return g.order.map((n) => {
    const s = g.stages.get(n)!
    const what = s.kind === "cmd" ? "cmd" : `uses ${s.builtin!.name}`
    return `${n} (${what})${s.upstream.length > 0 ? ` <- ${s.upstream.join(", ")}` : ""}`
  }).join("\n") + "\n"
}

export const dagCommand = Command.make(
  "dag",
  {
    ...sharedFlags,
    format: Flag.Literals("format", ["text", "mermaid", "dot"]).pipe(Flag.withDefault("text" as const), Flag.withDescription("Output format"))
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const graph = yield* openGraph(pathsFrom(f), []).pipe(Effect.provide(layerShippedStages))
      process.stdout.write(renderDag(graph, f.format))
    }))
).pipe(Command.withDescription("Print the stage graph (text, mermaid or dot)"))
