/**
 * Precision, recall and F1 for single-label classification read out of
 * generated text: per label, micro- and macro-averaged, with the conventions
 * of scikit-learn's `precision_recall_fscore_support` (a 0/0 ratio counts as
 * 0; macro F1 is the mean of per-label F1, not the F1 of macro P and R).
 *
 * Generated answers rarely match a label string exactly, so an optional label
 * map sends raw strings ("Positive.", "pos") to canonical labels. A prediction
 * outside the label set counts against recall of the gold label but is no
 * label's false positive, as with sklearn's `labels=` argument; micro
 * precision can then exceed micro recall.
 */
import { bootstrapIntervals, type BootstrapOptions, type Interval } from "./Bootstrap.js"

export interface ClassificationOptions {
  /** Raw string → canonical label; keys match after trimming and lower-casing. */
  readonly labelMap?: Readonly<Record<string, string>>
  /** The label set; defaults to the canonical gold labels, sorted. */
  readonly labels?: ReadonlyArray<string>
  readonly bootstrap?: BootstrapOptions
}

export interface PrfSupport {
  readonly precision: number
  readonly recall: number
  readonly f1: number
  /** Number of gold items with this label. */
  readonly support: number
}

export interface ClassificationReport {
  readonly labels: ReadonlyArray<string>
  readonly perLabel: Readonly<Record<string, PrfSupport>>
  readonly micro: PrfSupport
  readonly macro: PrfSupport
  /** Fraction of items whose canonical prediction equals the canonical gold label. */
  readonly accuracy: number
  /** Bootstrap intervals of `accuracy`, `micro_f1` and `macro_f1` when asked for. */
  readonly intervals?: Readonly<Record<"accuracy" | "micro_f1" | "macro_f1", Interval>>
}

const ratio = (num: number, den: number): number => (den === 0 ? 0 : num / den)
const f1Of = (p: number, r: number): number => (p + r === 0 ? 0 : (2 * p * r) / (p + r))

/** Maps one raw string to its canonical label (the trimmed string when the map has no entry). */
export const canonicalLabel = (raw: string, labelMap?: Readonly<Record<string, string>>): string => {
  const trimmed = raw.trim()
  if (labelMap === undefined) return trimmed
  const direct = labelMap[trimmed]
  if (direct !== undefined) return direct
  const lowered = trimmed.toLowerCase()
  for (const [key, label] of Object.entries(labelMap)) if (key.trim().toLowerCase() === lowered) return label
  return trimmed
}

interface Counts {
  readonly tp: Map<string, number>
  readonly predicted: Map<string, number>
  readonly gold: Map<string, number>
  correct: number
}

const countAt = (preds: ReadonlyArray<string>, golds: ReadonlyArray<string>, indices: ArrayLike<number>): Counts => {
  const counts: Counts = { tp: new Map(), predicted: new Map(), gold: new Map(), correct: 0 }
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1)
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!
    bump(counts.predicted, preds[i]!)
    bump(counts.gold, golds[i]!)
    if (preds[i] === golds[i]) {
      bump(counts.tp, golds[i]!)
      counts.correct++
    }
  }
  return counts
}

const summarise = (labels: ReadonlyArray<string>, c: Counts, n: number) => {
  const perLabel: Record<string, PrfSupport> = {}
  let tpSum = 0
  let predSum = 0
  let goldSum = 0
  for (const label of labels) {
    const tp = c.tp.get(label) ?? 0
    const predicted = c.predicted.get(label) ?? 0
    const support = c.gold.get(label) ?? 0
    const precision = ratio(tp, predicted)
    const recall = ratio(tp, support)
    perLabel[label] = { precision, recall, f1: f1Of(precision, recall), support }
    tpSum += tp
    predSum += predicted
    goldSum += support
  }
  const microP = ratio(tpSum, predSum)
  const microR = ratio(tpSum, goldSum)
  const mean = (pick: (s: PrfSupport) => number) =>
    labels.length === 0 ? 0 : labels.reduce((sum, l) => sum + pick(perLabel[l]!), 0) / labels.length
  return {
    perLabel,
    micro: { precision: microP, recall: microR, f1: f1Of(microP, microR), support: goldSum },
    macro: { precision: mean((s) => s.precision), recall: mean((s) => s.recall), f1: mean((s) => s.f1), support: goldSum },
    accuracy: ratio(c.correct, n)
  }
}

/** Scores predictions against gold labels, both given as raw strings. */
export const classificationReport = (
  predictions: ReadonlyArray<string>,
  golds: ReadonlyArray<string>,
  options: ClassificationOptions = {}
): ClassificationReport => {
  if (predictions.length !== golds.length) {
    throw new RangeError(`${predictions.length} predictions but ${golds.length} gold labels`)
  }
  const preds = predictions.map((p) => canonicalLabel(p, options.labelMap))
  const gold = golds.map((g) => canonicalLabel(g, options.labelMap))
  const labels = options.labels ?? [...new Set(gold)].sort()
  const all = Array.from(gold, (_, i) => i)
  const report = { labels, ...summarise(labels, countAt(preds, gold, all), gold.length) }
  if (options.bootstrap === undefined) return report
  const intervals = bootstrapIntervals(gold.length, options.bootstrap, (indices) => {
    const s = summarise(labels, countAt(preds, gold, indices), indices.length)
    return { accuracy: s.accuracy, micro_f1: s.micro.f1, macro_f1: s.macro.f1 }
  })
  return { ...report, intervals }
}
