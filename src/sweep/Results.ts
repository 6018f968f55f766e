/**
 * A sweep's results: the ranked trial table (CSV, JSON, Markdown), `best.json`, the
 * `cairn sweep show --json` document and the summary for `GITHUB_STEP_SUMMARY`.
 *
 * Ranking is goal-aware: best metric first; trials without a metric follow, by id. The best
 * trial is the best *finished* one; an early-stopped trial's metric comes from a shortened run
 * and is not comparable. arquero is imported only when a table is built, so importing the sweep
 * library stays cheap for the no-op path of the CLI.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { TrialState } from "./Journal.js"
import type { TrialParamValues } from "./Search.js"
import type { Goal, JsonValue, SweepSpec } from "./SweepSpec.js"

export interface BestTrial {
  readonly id: string
  readonly params: TrialParamValues
  readonly metric: number
}

export interface SweepShowJson {
  readonly trials: ReadonlyArray<{
    readonly id: string
    readonly params: TrialParamValues
    readonly metric: number | null
    readonly status: TrialState["status"]
  }>
  readonly best: BestTrial | null
}

const hasMetric = (t: TrialState): t is TrialState & { metric: number } =>
  typeof t.metric === "number" && Number.isFinite(t.metric)

/** Trials best-first for `goal`; those without a metric last; ties by id. */
export const rankTrials = (state: ReadonlyMap<string, TrialState>, goal: Goal): ReadonlyArray<TrialState> =>
  [...state.values()].sort((a, b) => {
    const am = hasMetric(a)
    const bm = hasMetric(b)
    if (am && bm && a.metric !== b.metric) return goal === "maximize" ? b.metric - a.metric : a.metric - b.metric
    if (am !== bm) return am ? -1 : 1
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0
  })

export const bestTrial = (state: ReadonlyMap<string, TrialState>, goal: Goal): BestTrial | undefined => {
  const best = rankTrials(state, goal).find((t) => t.status === "finished" && hasMetric(t))
  return best === undefined ? undefined : { id: best.id, params: best.params, metric: best.metric! }
}

export const sweepShowJson = (state: ReadonlyMap<string, TrialState>, goal: Goal): SweepShowJson => ({
  trials: rankTrials(state, goal).map((t) => ({
    id: t.id,
    params: t.params,
    metric: hasMetric(t) ? t.metric : null,
    status: t.status
  })),
  best: bestTrial(state, goal) ?? null
})

type Cell = string | number | boolean | null

/** Table cells are scalars; lists and maps (possible categorical values) become JSON text. */
const cell = (v: JsonValue | undefined): Cell =>
  v === undefined ? null : typeof v === "object" && v !== null ? JSON.stringify(v) : v

/** Columns in order: id, one per parameter (dotted key), metric, status, durationMs, key. */
export const resultColumns = (
  state: ReadonlyMap<string, TrialState>,
  goal: Goal
): ReadonlyArray<readonly [string, ReadonlyArray<Cell>]> => {
  const rows = rankTrials(state, goal)
  const paramKeys = [...new Set(rows.flatMap((t) => Object.keys(t.params)))].sort()
  return [
    ["id", rows.map((t) => t.id)],
    ...paramKeys.map((k) => [k, rows.map((t) => cell(t.params[k]))] as const),
    ["metric", rows.map((t) => (hasMetric(t) ? t.metric : null))],
    ["status", rows.map((t) => t.status)],
    ["durationMs", rows.map((t) => t.durationMs ?? null)],
    ["key", rows.map((t) => t.key ?? null)]
  ]
}

const loadTable = async (state: ReadonlyMap<string, TrialState>, goal: Goal) => {
  const aq = await import("arquero")
  const columns = resultColumns(state, goal)
  const table = aq.table(Object.fromEntries(columns.map(([k, v]) => [k, [...v]])), columns.map(([k]) => k))
  return { aq, table }
}

export interface WrittenResults {
  readonly csv: string
  readonly json: string
  readonly markdown: string
  readonly best?: string
}

/**
 * Write `results.csv`, `results.json` (an array of rows), `results.md` and, when a trial
 * finished, `best.json` into `dir`.
 */
export const writeResults = async (
  dir: string,
  state: ReadonlyMap<string, TrialState>,
  spec: SweepSpec
): Promise<WrittenResults> => {
  const { aq, table } = await loadTable(state, spec.metric.goal)
  fs.mkdirSync(dir, { recursive: true })
  const out = {
    csv: path.join(dir, "results.csv"),
    json: path.join(dir, "results.json"),
    markdown: path.join(dir, "results.md")
  }
  fs.writeFileSync(out.csv, aq.toCSV(table) + "\n")
  fs.writeFileSync(out.json, JSON.stringify(table.objects(), null, 2) + "\n")
  fs.writeFileSync(out.markdown, aq.toMarkdown(table))
  const best = bestTrial(state, spec.metric.goal)
  if (best === undefined) return out
  const bestPath = path.join(dir, "best.json")
  fs.writeFileSync(bestPath, JSON.stringify(best, null, 2) + "\n")
  return { ...out, best: bestPath }
}

/** Markdown for `GITHUB_STEP_SUMMARY`: a heading, the best trial, the ranked table. */
export const summaryMarkdown = async (state: ReadonlyMap<string, TrialState>, spec: SweepSpec): Promise<string> => {
  const { aq, table } = await loadTable(state, spec.metric.goal)
  const best = bestTrial(state, spec.metric.goal)
  const counts = new Map<string, number>()
  for (const t of state.values()) counts.set(t.status, (counts.get(t.status) ?? 0) + 1)
  const tally = [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([s, n]) => `${n} ${s}`).join(", ")
  const lines = [
    `### Sweep \`${spec.name}\` (${spec.method}, ${spec.metric.goal} \`${spec.metric.name}\`)`,
    "",
    `${state.size} trial(s): ${tally || "none yet"}.`,
    "",
    best === undefined
      ? "No trial has finished yet."
      : `**Best:** \`${best.id}\` with ${spec.metric.name} = ${best.metric} — ` +
        Object.entries(best.params).map(([k, v]) => `\`${k}=${JSON.stringify(v)}\``).join(", "),
    "",
    aq.toMarkdown(table)
  ]
  return lines.join("\n")
}
