/**
 * The human-facing side of `cairn score`: parsing the `--metrics` list and
 * rendering a `ScoreResult` as a plain-text table (the `--json` form is the
 * result itself). Output depends only on the result, so it diffs cleanly.
 */
import { METRIC_NAMES, type MetricName, ScoreInputError, type ScoreResult } from "./Score.js"

/** Parses `rouge,bleu` (commas and/or spaces); `all` selects every metric. */
export const parseMetricNames = (list: string): Array<MetricName> => {
  const names = list
    .split(/[\s,]+/)
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s.length > 0)
  if (names.includes("all")) return [...METRIC_NAMES]
  const unknown = names.filter((s) => !METRIC_NAMES.includes(s as MetricName))
  if (unknown.length > 0) {
    throw new ScoreInputError(`unknown metric ${unknown.map((u) => `"${u}"`).join(", ")} (known: ${METRIC_NAMES.join(", ")}, all)`)
  }
  if (names.length === 0) throw new ScoreInputError("no metrics selected")
  return METRIC_NAMES.filter((m) => names.includes(m))
}

// BLEU and chrF live on 0–100 and are conventionally shown with 2 decimals;
// the 0–1 metrics need 4 to show the same resolution.
const HUNDRED_SCALE = new Set(["bleu", "chrf"])

const formatValue = (metric: string, value: number): string =>
  Number.isFinite(value) ? value.toFixed(HUNDRED_SCALE.has(metric) ? 2 : 4) : "n/a"

const pad = (s: string, width: number): string => s + " ".repeat(Math.max(0, width - s.length))

export const formatScoreTable = (result: ScoreResult): string => {
  const metrics = Object.keys(result.corpus)
  const confidence = result.bootstrap === undefined ? undefined : `${Math.round((1 - result.bootstrap.alpha) * 1000) / 10}% CI`
  const header = ["metric", "corpus", ...(confidence === undefined ? [] : [confidence])]
  const rows = metrics.map((m) => {
    const cells = [m, formatValue(m, result.corpus[m]!)]
    const interval = result.intervals?.[m]
    if (confidence !== undefined) {
      cells.push(interval === undefined ? "" : `[${formatValue(m, interval.low)}, ${formatValue(m, interval.high)}]`)
    }
    return cells
  })
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)))
  const line = (cells: ReadonlyArray<string>) => cells.map((cell, c) => pad(cell, widths[c]!)).join("  ").trimEnd()
  const out = [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)]
  out.push("", `segments: ${result.sentences.length}`)

  const d = result.bleuDetail
  if (d !== undefined) {
    const ratio = d.refLen > 0 ? d.sysLen / d.refLen : 0
    out.push(
      `BLEU ${d.precisions.map((p) => p.toFixed(1)).join("/")} ` +
        `(BP = ${d.bp.toFixed(3)} ratio = ${ratio.toFixed(3)} hyp_len = ${d.sysLen} ref_len = ${d.refLen})`
    )
  }
  const names = Object.keys(result.signatures)
  if (names.length > 0) {
    const w = Math.max(...names.map((s) => s.length))
    out.push("", "signatures:", ...names.map((s) => `  ${pad(s, w)}  ${result.signatures[s]}`))
  }
  return out.join("\n") + "\n"
}
