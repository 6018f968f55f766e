/**
 * Chart rows from the files the ML stages write: loss curves from a training stage's
 * `metrics.jsonl`, metric bars from an evaluate stage's `metrics.json`. Shared by the evaluate
 * stage and `cairn plots`; plain data in, plain rows out (rendering is src/report/Plots.ts).
 */
import type { LossRow, MetricBarRow } from "../../report/Plots.js"

/** Train and validation loss rows of one `metrics.jsonl` (lines without a number are skipped). */
export const lossRows = (jsonl: string, run?: string): Array<LossRow> => {
  const rows: Array<LossRow> = []
  for (const line of jsonl.split("\n")) {
    if (line.trim() === "") continue
    let record: { step?: unknown; loss?: unknown; evalLoss?: unknown }
    try {
      record = JSON.parse(line) as typeof record
    } catch {
      continue
    }
    if (typeof record.step !== "number") continue
    const at = { step: record.step, ...(run === undefined ? {} : { run }) }
    if (typeof record.loss === "number" && Number.isFinite(record.loss)) rows.push({ ...at, split: "train", loss: record.loss })
    if (typeof record.evalLoss === "number" && Number.isFinite(record.evalLoss)) rows.push({ ...at, split: "validation", loss: record.evalLoss })
  }
  return rows
}

/** The shape of the evaluate stage's metrics.json that the bars need. */
export interface EvalMetricsFile {
  readonly models: Readonly<Record<string, {
    readonly sets: Readonly<Record<string, {
      readonly metrics: Readonly<Record<string, number>>
      readonly tasks?: Readonly<Record<string, { readonly metrics: Readonly<Record<string, number>> }>>
    }>>
  }>>
}

/**
 * A metric as a bar: perplexity spans orders of magnitude (an untrained model's is in the
 * thousands), which flattens every other bar, so it is drawn as its log, the mean NLL per token.
 */
export const barValue = (metric: string, value: number): { readonly metric: string; readonly value: number } =>
  metric === "perplexity" ? { metric: "log perplexity (NLL/token)", value: Math.log(value) } : { metric, value }

/** Groups shown per task when there are at most this many (set, task) pairs, else per set. */
const MAX_TASK_GROUPS = 12

/**
 * One bar per (model, group, metric): groups are the tasks of every test set when few enough
 * (named `task`, or `set/task` where a task name occurs in several sets), else the sets.
 */
export const metricBarRows = (file: EvalMetricsFile, metrics?: ReadonlyArray<string>): Array<MetricBarRow> => {
  const keep = (m: string) => metrics === undefined || metrics.includes(m)
  const models = Object.entries(file.models)
  const pairs = new Map<string, Set<string>>()
  for (const [, m] of models) {
    for (const [set, s] of Object.entries(m.sets)) {
      for (const task of Object.keys(s.tasks ?? {})) {
        if (!pairs.has(task)) pairs.set(task, new Set())
        pairs.get(task)!.add(set)
      }
    }
  }
  const perTask = [...pairs.values()].reduce((n, sets) => n + sets.size, 0) <= MAX_TASK_GROUPS && pairs.size > 0
  const rows: Array<MetricBarRow> = []
  for (const [model, m] of models) {
    for (const [set, s] of Object.entries(m.sets)) {
      const groups: Array<[string, Readonly<Record<string, number>>]> = perTask
        ? Object.entries(s.tasks ?? {}).map(([task, t]) => [pairs.get(task)!.size > 1 ? `${set}/${task}` : task, t.metrics])
        : [[set, s.metrics]]
      for (const [group, values] of groups) {
        for (const [metric, value] of Object.entries(values)) {
          if (keep(metric) && Number.isFinite(value)) rows.push({ model, task: group, ...barValue(metric, value) })
        }
      }
    }
  }
  return rows
}
