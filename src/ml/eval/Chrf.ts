/**
 * chrF exactly as sacrebleu 2.6.0's `CHRF()` computes it with its defaults:
 * character n-grams up to 6, no word n-grams, beta 2, whitespace removed
 * before counting, mixed case, and effective-order averaging (orders where
 * either side has no n-grams are left out) rather than epsilon smoothing.
 * With several references a segment keeps the statistics of the reference
 * that gives it the best chrF, as sacrebleu does.
 *
 * Characters are code points, not UTF-16 units, so an emoji is one character
 * here as it is in Python.
 */
import { type Counts, overlapCount, totalCount } from "./internal/NgramCounts.js"
import { pyRemoveWhitespace } from "./internal/PythonText.js"
import { referenceSets } from "./internal/References.js"
import { sumRows } from "./internal/StatRows.js"
import { SACREBLEU_VERSION } from "./Bleu.js"

export const CHRF_CHAR_ORDER = 6
export const CHRF_BETA = 2

/** `[hyp, ref, match]` counts for each order 1..6. */
export const CHRF_STATS_WIDTH = 3 * CHRF_CHAR_ORDER

// N-grams are sliced from the string between code-point boundaries: the same
// keys as joining code points, without building an array per n-gram (chrF
// spends most of its time here).
const charNgrams = (text: string): Array<Counts> => {
  const line = pyRemoveWhitespace(text)
  const starts: Array<number> = []
  for (let i = 0; i < line.length; i++) {
    const unit = line.charCodeAt(i)
    const isLowSurrogate = unit >= 0xdc00 && unit <= 0xdfff
    const afterHigh = i > 0 && line.charCodeAt(i - 1) >= 0xd800 && line.charCodeAt(i - 1) <= 0xdbff
    if (!(isLowSurrogate && afterHigh)) starts.push(i)
  }
  starts.push(line.length)
  const chars = starts.length - 1
  return Array.from({ length: CHRF_CHAR_ORDER }, (_, order) => {
    const n = order + 1
    const counts: Counts = new Map()
    for (let i = 0; i + n <= chars; i++) {
      const key = line.slice(starts[i], starts[i + n])
      counts.set(key, (counts.get(key) ?? 0) + 1)
    }
    return counts
  })
}

/** chrF (0–100) from (summed) statistics. */
export const chrfFromStats = (stats: ReadonlyArray<number>): number => {
  const factor = CHRF_BETA ** 2
  let avgPrec = 0
  let avgRec = 0
  let effectiveOrder = 0
  for (let i = 0; i < CHRF_CHAR_ORDER; i++) {
    const nHyp = stats[3 * i]!
    const nRef = stats[3 * i + 1]!
    const nMatch = stats[3 * i + 2]!
    if (nHyp > 0 && nRef > 0) {
      avgPrec += nMatch / nHyp
      avgRec += nMatch / nRef
      effectiveOrder++
    }
  }
  if (effectiveOrder === 0) return 0
  avgPrec /= effectiveOrder
  avgRec /= effectiveOrder
  if (avgPrec + avgRec === 0) return 0
  const score = ((1 + factor) * avgPrec * avgRec) / (factor * avgPrec + avgRec)
  return 100 * score
}

const matchStats = (hyp: ReadonlyArray<Counts>, ref: ReadonlyArray<Counts>): Array<number> =>
  hyp.flatMap((hypCounts, i) => {
    const refCounts = ref[i]!
    // sacrebleu counts no hypothesis n-grams of an order the reference lacks.
    return [refCounts.size > 0 ? totalCount(hypCounts) : 0, totalCount(refCounts), overlapCount(hypCounts, refCounts)]
  })

/** Statistics of one segment against the best of its (non-empty list of) references. */
export const chrfSegmentStats = (hyp: string, refs: ReadonlyArray<string>): Array<number> => {
  const hypNgrams = charNgrams(hyp)
  let best: Array<number> = []
  let bestScore = -1
  for (const ref of refs) {
    const stats = matchStats(hypNgrams, charNgrams(ref))
    const score = chrfFromStats(stats)
    if (score > bestScore) {
      bestScore = score
      best = stats
    }
  }
  return best
}

/** `sacrebleu.sentence_chrf(hyp, refs)`. */
export const sentenceChrf = (hyp: string, refs: ReadonlyArray<string>): number =>
  chrfFromStats(chrfSegmentStats(hyp, referenceSets([refs]).segments[0]!))

/** `sacrebleu.CHRF().corpus_score`; `refs[i]` holds the references of `hyps[i]`. */
export const corpusChrf = (hyps: ReadonlyArray<string>, refs: ReadonlyArray<ReadonlyArray<string>>): number => {
  if (hyps.length !== refs.length) throw new RangeError(`${hyps.length} hypotheses but ${refs.length} reference sets`)
  const { segments } = referenceSets(refs)
  return chrfFromStats(sumRows(hyps.map((hyp, i) => chrfSegmentStats(hyp, segments[i]!)), CHRF_STATS_WIDTH))
}

/** sacrebleu's chrF signature; identical for sentence and corpus scores. */
export const chrfSignature = (nrefs: number | "var"): string =>
  `nrefs:${nrefs}|case:mixed|eff:yes|nc:${CHRF_CHAR_ORDER}|nw:0|space:no|version:${SACREBLEU_VERSION}`
