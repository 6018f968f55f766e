/**
 * A sweep laid over the pipeline's graph: which stages a trial runs, which of those every trial
 * shares (no parameter reaches them, so they have one key for all trials), and the checks that
 * name a bad parameter or metric before anything runs.
 *
 * A parameter reaches the stages the engine would apply it to (`buildGraph`): a key of the params
 * file reaches every stage that reads it (or a key above or below it); otherwise `<stage>.<path>`
 * goes into a `uses:` stage's `with:`. Everything downstream of a reached stage is reached too.
 */
import { isFound, lookup } from "../../config/Params.js"
import type { Graph } from "../../graph/Graph.js"
import { parameterKeys, type SweepSpec, type SweepSpecIssue } from "../SweepSpec.js"
import { splitMetricName } from "./TrialMetrics.js"

export interface SweepLayout {
  /** The swept stage and its downstream, in graph order; consumers of sweep results excluded. */
  readonly trialStages: ReadonlyArray<string>
  /** Stages a trial needs that no parameter reaches: run once, in the main workspace. */
  readonly shared: ReadonlyArray<string>
  /** Where the objective comes from. */
  readonly metric: { readonly stage: string; readonly key: string }
}

/** The built-in stage that aggregates sweep results; it and its consumers never run in a trial. */
const AGGREGATE = "sweep"

const closure = (start: Iterable<string>, next: (name: string) => ReadonlyArray<string>): Set<string> => {
  const seen = new Set<string>()
  const stack = [...start]
  while (stack.length > 0) {
    const n = stack.pop()!
    if (seen.has(n)) continue
    seen.add(n)
    stack.push(...next(n))
  }
  return seen
}

const overlaps = (a: string, b: string): boolean => a === b || a.startsWith(b + ".") || b.startsWith(a + ".")

export const layoutSweep = (spec: SweepSpec, graph: Graph): SweepLayout | ReadonlyArray<SweepSpecIssue> => {
  const issues: Array<SweepSpecIssue> = []
  const at = (p: string, message: string, parameter?: string) =>
    issues.push({ sweep: spec.name, path: `sweeps.${spec.name}.${p}`, message, ...(parameter ? { parameter } : {}) })
  const names = [...graph.stages.keys()]
  if (!graph.stages.has(spec.stage)) {
    at("stage", `no stage named ${JSON.stringify(spec.stage)} (stages: ${graph.order.join(", ")})`)
    return issues
  }
  const down = (n: string) => graph.downstream.get(n) ?? []
  const up = (n: string) => graph.stages.get(n)?.upstream ?? []
  const aggregates = closure(names.filter((n) => graph.stages.get(n)!.builtin?.name === AGGREGATE), down)
  const trialSet = new Set([...closure([spec.stage], down)].filter((n) => !aggregates.has(n)))
  const trialStages = graph.order.filter((n) => trialSet.has(n))
  const needed = closure(trialStages, up)

  const reached = new Set<string>()
  const groupKeys = new Set(spec.group ? Object.keys(spec.group.options[0] ?? {}) : [])
  for (const key of parameterKeys(spec)) {
    const where = groupKeys.has(key) ? "parameters._" : `parameters.${key}`
    const parameter = groupKeys.has(key) ? "_" : key
    const head = key.split(".")[0]!
    const direct: Array<string> = []
    if (isFound(lookup(graph.params, key))) {
      for (const [name, node] of graph.stages) if (Object.keys(node.params).some((k) => overlaps(k, key))) direct.push(name)
      if (direct.length === 0) {
        at(where, `no stage reads param ${key}: list it in a stage's \`params:\` or use \${${key}} in its command`, parameter)
        continue
      }
    } else if (graph.stages.get(head)?.kind === "builtin") {
      direct.push(head)
    } else {
      at(
        where,
        `${key} is neither a key of the params file nor <stage>.<path> into a \`uses:\` stage's \`with:\`` +
          (graph.stages.get(head)?.kind === "cmd" ? ` (${head} is a cmd stage: sweep a params-file key its command reads)` : ""),
        parameter
      )
      continue
    }
    const hits = closure(direct, down)
    if (![...hits].some((n) => needed.has(n))) {
      at(where, `${key} changes no stage a trial runs (${[...needed].join(", ")})`, parameter)
    }
    for (const n of hits) reached.add(n)
  }

  const metric = splitMetricName(spec.metric.name, names)
  if (metric === undefined) {
    at("metric.name", `${spec.metric.name} names no stage: write <stage>.<key>, e.g. ${trialStages.at(-1)}.loss`)
  } else if (!trialSet.has(metric.stage)) {
    at("metric.name", `stage ${metric.stage} does not run in a trial: the metric must come from ${spec.stage} or a stage downstream of it`)
  } else if (graph.stages.get(metric.stage)!.metrics.length === 0) {
    at("metric.name", `stage ${metric.stage} declares no metrics files to read ${metric.key} from`)
  }
  if (issues.length > 0 || metric === undefined) return issues
  return {
    trialStages,
    shared: graph.order.filter((n) => needed.has(n) && !reached.has(n)),
    metric
  }
}
