/**
 * BLEU exactly as sacrebleu 2.6.0 computes it with its defaults: 13a
 * tokenisation, mixed case, `exp` smoothing (NIST method 3), brevity penalty
 * against the closest reference length, n-gram clipping against the maximum
 * count over references. Corpus BLEU sums the per-segment statistics first;
 * sentence BLEU uses effective order, as `sacrebleu.sentence_bleu` does, so a
 * one-word exact match scores 100.
 *
 * Statistics are kept as sacrebleu's flat vector
 * `[hypLen, refLen, correct1..4, total1..4]`, which is what bootstrap
 * resampling sums.
 */
import { type Counts, ngramCounts } from "./internal/NgramCounts.js"
import { pyRstrip } from "./internal/PythonText.js"
import { referenceSets } from "./internal/References.js"
import { sumRows } from "./internal/StatRows.js"
import { tokenize13a } from "./internal/Tokenizer13a.js"

export const BLEU_MAX_ORDER = 4

/** Length of a statistics vector: `[hypLen, refLen, correct1..4, total1..4]`. */
export const BLEU_STATS_WIDTH = 2 + 2 * BLEU_MAX_ORDER

export const SACREBLEU_VERSION = "2.6.0"

export interface BleuScore {
  /** 0–100. */
  readonly score: number
  readonly counts: ReadonlyArray<number>
  readonly totals: ReadonlyArray<number>
  readonly precisions: ReadonlyArray<number>
  readonly bp: number
  readonly sysLen: number
  readonly refLen: number
}

export type BleuStats = ReadonlyArray<number>

const tokens = (segment: string): Array<string> => tokenize13a(pyRstrip(segment))

const allNgrams = (words: ReadonlyArray<string>): Array<Counts> =>
  Array.from({ length: BLEU_MAX_ORDER }, (_, i) => ngramCounts(words, i + 1))

// Ties go to the shorter reference.
const closestRefLen = (hypLen: number, refLens: ReadonlyArray<number>): number => {
  let closestDiff = -1
  let closestLen = -1
  for (const refLen of refLens) {
    const diff = Math.abs(hypLen - refLen)
    if (closestDiff === -1 || diff < closestDiff) {
      closestDiff = diff
      closestLen = refLen
    } else if (diff === closestDiff && refLen < closestLen) {
      closestLen = refLen
    }
  }
  return closestLen
}

/** Sufficient statistics of one segment; `refs` must be non-empty (see `referenceSets`). */
export const bleuSegmentStats = (hyp: string, refs: ReadonlyArray<string>): Array<number> => {
  const refLens: Array<number> = []
  const maxRefCounts: Array<Counts> = Array.from({ length: BLEU_MAX_ORDER }, () => new Map())
  for (const ref of refs) {
    const words = tokens(ref)
    refLens.push(words.length)
    allNgrams(words).forEach((counts, order) => {
      const merged = maxRefCounts[order]!
      for (const [gram, count] of counts) merged.set(gram, Math.max(merged.get(gram) ?? 0, count))
    })
  }
  const hypWords = tokens(hyp)
  const correct = new Array<number>(BLEU_MAX_ORDER).fill(0)
  const total = new Array<number>(BLEU_MAX_ORDER).fill(0)
  allNgrams(hypWords).forEach((counts, order) => {
    const refCounts = maxRefCounts[order]!
    for (const [gram, count] of counts) {
      total[order]! += count
      const refCount = refCounts.get(gram)
      if (refCount !== undefined) correct[order]! += Math.min(count, refCount)
    }
  })
  return [hypWords.length, closestRefLen(hypWords.length, refLens), ...correct, ...total]
}

// sacrebleu floors log(0) to this instead of -Infinity.
const flooredLog = (x: number): number => (x === 0 ? -9999999999 : Math.log(x))

/** BLEU from (summed) statistics, following sacrebleu's `compute_bleu` step by step. */
export const bleuFromStats = (stats: BleuStats, effectiveOrder: boolean): BleuScore => {
  const sysLen = stats[0]!
  const refLen = stats[1]!
  const counts = stats.slice(2, 2 + BLEU_MAX_ORDER)
  const totals = stats.slice(2 + BLEU_MAX_ORDER, 2 + 2 * BLEU_MAX_ORDER)
  const bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - refLen / sysLen) : 0) : 1
  const precisions = new Array<number>(BLEU_MAX_ORDER).fill(0)
  const result = (score: number): BleuScore => ({ score, counts, totals, precisions, bp, sysLen, refLen })
  if (!counts.some((c) => c !== 0)) return result(0)

  let smooth = 1
  let order = BLEU_MAX_ORDER
  for (let n = 1; n <= BLEU_MAX_ORDER; n++) {
    if (totals[n - 1] === 0) break
    if (effectiveOrder) order = n
    if (counts[n - 1] === 0) {
      smooth *= 2
      precisions[n - 1] = 100 / (smooth * totals[n - 1]!)
    } else {
      precisions[n - 1] = (100 * counts[n - 1]!) / totals[n - 1]!
    }
  }
  let logSum = 0
  for (let i = 0; i < order; i++) logSum += flooredLog(precisions[i]!)
  return result(bp * Math.exp(logSum / order))
}

/** `sacrebleu.sentence_bleu(hyp, refs)`: effective order, exp smoothing. */
export const sentenceBleu = (hyp: string, refs: ReadonlyArray<string>): BleuScore =>
  bleuFromStats(bleuSegmentStats(hyp, referenceSets([refs]).segments[0]!), true)

/**
 * `sacrebleu.BLEU().corpus_score`. `refs[i]` holds the references of `hyps[i]`
 * (per segment, unlike sacrebleu's per-stream layout).
 */
export const corpusBleu = (hyps: ReadonlyArray<string>, refs: ReadonlyArray<ReadonlyArray<string>>): BleuScore => {
  if (hyps.length !== refs.length) throw new RangeError(`${hyps.length} hypotheses but ${refs.length} reference sets`)
  const { segments } = referenceSets(refs)
  const rows = hyps.map((hyp, i) => bleuSegmentStats(hyp, segments[i]!))
  return bleuFromStats(sumRows(rows, BLEU_STATS_WIDTH), false)
}

/** sacrebleu's signature string, e.g. `nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`. */
export const bleuSignature = (nrefs: number | "var", effectiveOrder: boolean): string =>
  `nrefs:${nrefs}|case:mixed|eff:${effectiveOrder ? "yes" : "no"}|tok:13a|smooth:exp|version:${SACREBLEU_VERSION}`
