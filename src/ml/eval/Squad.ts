/**
 * SQuAD v1.1 exact match and token F1, as the official `evaluate-v1.1.py`
 * computes them: lower-case, strip ASCII punctuation, drop the articles
 * a/an/the, collapse whitespace; the best score over the gold answers.
 *
 * v1.1 returns F1 = 0 whenever no token overlaps, including when both sides
 * normalise to nothing (EM is then 1). The v2.0 script scores that case 1;
 * this module keeps v1.1's answer because that is what v1.1 numbers mean.
 */
import { pySplit } from "./internal/PythonText.js"

// Python's string.punctuation. Curly quotes and other non-ASCII punctuation
// survive normalisation, as they do in the official script.
const ASCII_PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g

// Python's `\b` is Unicode-aware (word characters are letters, digits and the
// underscore of any script); JS's is ASCII-only, which would strip "the" out
// of words such as "éthe". Spell the boundary out instead.
const ARTICLES = /(?<![\p{L}\p{N}_])(?:a|an|the)(?![\p{L}\p{N}_])/gu

/** `normalize_answer` of evaluate-v1.1.py. */
export const normalizeAnswer = (s: string): string =>
  pySplit(s.toLowerCase().replace(ASCII_PUNCTUATION, "").replace(ARTICLES, " ")).join(" ")

/** 1 when the normalised strings are equal, else 0. */
export const squadExactMatch = (prediction: string, gold: string): number =>
  normalizeAnswer(prediction) === normalizeAnswer(gold) ? 1 : 0

/** Token-level F1 between normalised strings (bag of tokens, clipped counts). */
export const squadF1 = (prediction: string, gold: string): number => {
  const predTokens = pySplit(normalizeAnswer(prediction))
  const goldTokens = pySplit(normalizeAnswer(gold))
  const goldCounts = new Map<string, number>()
  for (const t of goldTokens) goldCounts.set(t, (goldCounts.get(t) ?? 0) + 1)
  let same = 0
  for (const t of predTokens) {
    const left = goldCounts.get(t) ?? 0
    if (left > 0) {
      same++
      goldCounts.set(t, left - 1)
    }
  }
  if (same === 0) return 0
  const precision = same / predTokens.length
  const recall = same / goldTokens.length
  return (2 * precision * recall) / (precision + recall)
}

export interface SquadScore {
  readonly exactMatch: number
  readonly f1: number
}

/** Both scores, each maximised over the gold answers (`metric_max_over_ground_truths`). */
export const squadScore = (prediction: string, golds: ReadonlyArray<string>): SquadScore => {
  if (golds.length === 0) throw new RangeError("squadScore needs at least one gold answer")
  return {
    exactMatch: Math.max(...golds.map((g) => squadExactMatch(prediction, g))),
    f1: Math.max(...golds.map((g) => squadF1(prediction, g)))
  }
}
