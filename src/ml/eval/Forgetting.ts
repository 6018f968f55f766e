/**
 * The forgetting report: what fine-tuning gained on the new tasks and lost on the earlier
 * ones, model by model, against the model it started from.
 *
 * Input is a score per (model, test set, metric). Test sets are grouped as `old` (held-out
 * tasks the baseline already knew) and `new` (the tasks fine-tuning taught); with several sets
 * in a group the group's value is their unweighted mean. `gained` is the improvement on `new`
 * and `lost` the degradation on `old`, both signed so that positive means "gained" and "lost"
 * in plain words, whichever direction the metric runs (perplexity: lower is better).
 */

/** Scores by model, then test set, then metric. */
export type ScoreTable = Readonly<Record<string, Readonly<Record<string, Readonly<Record<string, number>>>>>>

export interface ForgettingOptions {
  readonly baseline: string
  readonly old: ReadonlyArray<string>
  readonly new: ReadonlyArray<string>
  readonly metrics: ReadonlyArray<string>
}

export interface ForgettingRow {
  readonly model: string
  readonly metric: string
  readonly oldBaseline: number
  readonly oldTuned: number
  readonly newBaseline: number
  readonly newTuned: number
  /** Improvement on the new tasks (positive = better than the baseline). */
  readonly gained: number
  /** Degradation on the old tasks (positive = worse than the baseline). */
  readonly lost: number
}

export interface ForgettingReport {
  readonly baseline: string
  readonly old: ReadonlyArray<string>
  readonly new: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ForgettingRow>
}

/** Metrics where a smaller value is better. */
export const lowerIsBetter = (metric: string): boolean => /perplexity|nll|loss/i.test(metric)

const groupValue = (table: ScoreTable, model: string, sets: ReadonlyArray<string>, metric: string): number => {
  const values = sets.map((s) => table[model]?.[s]?.[metric]).filter((v): v is number => typeof v === "number")
  return values.length === sets.length && values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : Number.NaN
}

export const forgettingReport = (table: ScoreTable, options: ForgettingOptions): ForgettingReport => {
  if (table[options.baseline] === undefined) throw new Error(`forgetting: no scores for the baseline model ${options.baseline}`)
  const rows: Array<ForgettingRow> = []
  for (const model of Object.keys(table)) {
    if (model === options.baseline) continue
    for (const metric of options.metrics) {
      const oldBaseline = groupValue(table, options.baseline, options.old, metric)
      const oldTuned = groupValue(table, model, options.old, metric)
      const newBaseline = groupValue(table, options.baseline, options.new, metric)
      const newTuned = groupValue(table, model, options.new, metric)
      const sign = lowerIsBetter(metric) ? -1 : 1
      rows.push({
        model,
        metric,
        oldBaseline,
        oldTuned,
        newBaseline,
        newTuned,
        gained: sign * (newTuned - newBaseline),
        lost: sign * (oldBaseline - oldTuned)
      })
    }
  }
  return { baseline: options.baseline, old: options.old, new: options.new, rows }
}

const num = (x: number): string => (Number.isFinite(x) ? (Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(3)) : "–")
const signed = (x: number): string => (Number.isFinite(x) ? (x > 0 ? "+" : x < 0 ? "−" : "±") + num(Math.abs(x)) : "–")

/** One Markdown table: a row per tuned model and metric. */
export const forgettingMarkdown = (report: ForgettingReport): string => {
  const oldName = report.old.join(", ")
  const newName = report.new.join(", ")
  const lines = [
    `Baseline: **${report.baseline}**. Old tasks (held out, known before): ${oldName}. New tasks (fine-tuned on): ${newName}.`,
    "`gained`: how much better the tuned model is than the baseline on the new tasks; `lost`: how much worse on the old tasks (for perplexity, lower is better, so these are baseline − tuned and tuned − baseline).",
    "",
    `| model | metric | old: ${report.baseline} → tuned | new: ${report.baseline} → tuned | gained | lost |`,
    "|---|---|---:|---:|---:|---:|",
    ...report.rows.map((r) =>
      `| ${r.model} | ${r.metric} | ${num(r.oldBaseline)} → ${num(r.oldTuned)} | ${num(r.newBaseline)} → ${num(r.newTuned)} | ${signed(r.gained)} | ${signed(r.lost)} |`
    )
  ]
  return lines.join("\n") + "\n"
}
