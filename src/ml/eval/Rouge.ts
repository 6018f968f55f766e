/**
 * ROUGE-1, ROUGE-2, ROUGE-L and ROUGE-Lsum as Google's rouge_score computes
 * them (the `rouge-score` package most papers report): its tokeniser, its
 * n-gram and LCS scoring, its summary-level union LCS with the 1.5.5-style
 * guard against double counting, and `score_multi` for several references.
 *
 * The default tokeniser is rouge_score's and is ASCII-only: every character
 * outside [a-z0-9] after lower-casing becomes a separator, so accented and
 * non-Latin words vanish. The `unicode` tokeniser is an explicit, non-reference
 * alternative for multilingual data; it is named in the signature so scores
 * from the two are never mixed up.
 */
import { stem as porterStem } from "./PorterStemmer.js"
import { type Counts, ngramCounts, overlapCount, totalCount } from "./internal/NgramCounts.js"

export type RougeType = "rouge1" | "rouge2" | "rougeL" | "rougeLsum"

export const ROUGE_TYPES: ReadonlyArray<RougeType> = ["rouge1", "rouge2", "rougeL", "rougeLsum"]

export type RougeTokenizer = "default" | "unicode"

export interface RougeOptions {
  /** Porter-stem tokens longer than 3 characters (rouge_score's `use_stemmer`). */
  readonly stem?: boolean
  readonly tokenizer?: RougeTokenizer
}

export interface Prf {
  readonly precision: number
  readonly recall: number
  readonly fmeasure: number
}

export type RougeScores = Readonly<Record<RougeType, Prf>>

const ZERO: Prf = { precision: 0, recall: 0, fmeasure: 0 }

const fmeasure = (precision: number, recall: number): number =>
  precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0

// Stemming dominates tokenisation time on long corpora and the vocabulary
// repeats, so stems are memoised; the bound keeps a pathological input from
// growing the cache without limit.
const STEM_CACHE_LIMIT = 200_000
const stemCache = new Map<string, string>()
const cachedStem = (word: string): string => {
  const hit = stemCache.get(word)
  if (hit !== undefined) return hit
  if (stemCache.size >= STEM_CACHE_LIMIT) stemCache.clear()
  const stemmed = porterStem(word)
  stemCache.set(word, stemmed)
  return stemmed
}

const ASCII_TOKEN = /^[a-z0-9]+$/

const defaultTokens = (text: string, stem: boolean): Array<string> => {
  const spaced = text.toLowerCase().replace(/[^a-z0-9]+/g, " ")
  const tokens: Array<string> = []
  for (const raw of spaced.split(/\s+/)) {
    const token = stem && raw.length > 3 ? cachedStem(raw) : raw
    if (ASCII_TOKEN.test(token)) tokens.push(token)
  }
  return tokens
}

// Han and kana are written without spaces between words; one token per
// character is the usual fallback (sacrebleu's zh tokeniser does the same).
const UNSPACED_SCRIPT_CHAR = /([\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}])/gu
const NOT_WORD_CHAR = /[^\p{L}\p{M}\p{N}]+/gu

const unicodeTokens = (text: string, stem: boolean): Array<string> => {
  const spaced = text
    .normalize("NFKC")
    .toLowerCase()
    .replace(NOT_WORD_CHAR, " ")
    .replace(UNSPACED_SCRIPT_CHAR, " $1 ")
  const tokens: Array<string> = []
  for (const raw of spaced.split(/\s+/u)) {
    if (raw.length === 0) continue
    // The Porter rules are defined for English letters only.
    tokens.push(stem && raw.length > 3 && ASCII_TOKEN.test(raw) ? cachedStem(raw) : raw)
  }
  return tokens
}

/** Tokenises one text the way the chosen ROUGE tokeniser does. */
export const rougeTokenize = (text: string, options: RougeOptions = {}): Array<string> =>
  options.tokenizer === "unicode"
    ? unicodeTokens(text, options.stem === true)
    : defaultTokens(text, options.stem === true)

/** ROUGE-N from token lists. */
export const rougeN = (hypTokens: ReadonlyArray<string>, refTokens: ReadonlyArray<string>, n: number): Prf =>
  scoreNgrams(ngramCounts(hypTokens, n), ngramCounts(refTokens, n))

const scoreNgrams = (hyp: Counts, ref: Counts): Prf => {
  const overlap = overlapCount(ref, hyp)
  const precision = overlap / Math.max(totalCount(hyp), 1)
  const recall = overlap / Math.max(totalCount(ref), 1)
  return { precision, recall, fmeasure: fmeasure(precision, recall) }
}

const lcsLength = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): number => {
  let previous = new Int32Array(b.length + 1)
  let current = new Int32Array(b.length + 1)
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      current[j] = a[i - 1] === b[j - 1] ? previous[j - 1]! + 1 : Math.max(previous[j]!, current[j - 1]!)
    }
    ;[previous, current] = [current, previous]
  }
  return previous[b.length]!
}

/** ROUGE-L (sentence-level longest common subsequence) from token lists. */
export const rougeL = (hypTokens: ReadonlyArray<string>, refTokens: ReadonlyArray<string>): Prf => {
  if (hypTokens.length === 0 || refTokens.length === 0) return ZERO
  const lcs = lcsLength(refTokens, hypTokens)
  const precision = lcs / hypTokens.length
  const recall = lcs / refTokens.length
  return { precision, recall, fmeasure: fmeasure(precision, recall) }
}

// Indices into `ref` of one longest common subsequence with `can`. The
// tie-breaking of the walk back decides *which* LCS is found, and that changes
// the union in ROUGE-Lsum, so it follows rouge_score's `_backtrack_norec`.
const lcsIndices = (ref: ReadonlyArray<string>, can: ReadonlyArray<string>): Array<number> => {
  const cols = can.length + 1
  const table = new Int32Array((ref.length + 1) * cols)
  for (let i = 1; i <= ref.length; i++) {
    for (let j = 1; j <= can.length; j++) {
      table[i * cols + j] =
        ref[i - 1] === can[j - 1]
          ? table[(i - 1) * cols + j - 1]! + 1
          : Math.max(table[(i - 1) * cols + j]!, table[i * cols + j - 1]!)
    }
  }
  const indices: Array<number> = []
  let i = ref.length
  let j = can.length
  while (i > 0 && j > 0) {
    if (ref[i - 1] === can[j - 1]) {
      indices.push(i - 1)
      i--
      j--
    } else if (table[i * cols + j - 1]! > table[(i - 1) * cols + j]!) {
      j--
    } else {
      i--
    }
  }
  return indices.reverse()
}

const countTokens = (sentences: ReadonlyArray<ReadonlyArray<string>>): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const sentence of sentences) for (const t of sentence) counts.set(t, (counts.get(t) ?? 0) + 1)
  return counts
}

/** Summary-level ROUGE-L over pre-split, tokenised sentences (ROUGE paper §3.2). */
export const rougeLsum = (
  hypSentences: ReadonlyArray<ReadonlyArray<string>>,
  refSentences: ReadonlyArray<ReadonlyArray<string>>
): Prf => {
  if (hypSentences.length === 0 || refSentences.length === 0) return ZERO
  const m = refSentences.reduce((sum, s) => sum + s.length, 0)
  const n = hypSentences.reduce((sum, s) => sum + s.length, 0)
  if (m === 0 || n === 0) return ZERO
  // Each token may be credited at most as often as it occurs on both sides,
  // as ROUGE-1.5.5 does (the paper's plain sum would double count).
  const refLeft = countTokens(refSentences)
  const hypLeft = countTokens(hypSentences)
  let hits = 0
  for (const ref of refSentences) {
    const union = new Set<number>()
    for (const can of hypSentences) for (const i of lcsIndices(ref, can)) union.add(i)
    for (const i of [...union].sort((a, b) => a - b)) {
      const token = ref[i]!
      const h = hypLeft.get(token) ?? 0
      const r = refLeft.get(token) ?? 0
      if (h > 0 && r > 0) {
        hits++
        hypLeft.set(token, h - 1)
        refLeft.set(token, r - 1)
      }
    }
  }
  const recall = hits / m
  const precision = hits / n
  return { precision, recall, fmeasure: fmeasure(precision, recall) }
}

// rouge_score's Lsum splits on "\n" only (split_summaries=False) and drops empty lines.
const sentencesOf = (text: string): Array<string> => text.split("\n").filter((s) => s.length > 0)

/** All four ROUGE scores of one hypothesis against one reference. */
export const rougeScore = (hyp: string, ref: string, options: RougeOptions = {}): RougeScores => {
  const hypTokens = rougeTokenize(hyp, options)
  const refTokens = rougeTokenize(ref, options)
  return {
    rouge1: rougeN(hypTokens, refTokens, 1),
    rouge2: rougeN(hypTokens, refTokens, 2),
    rougeL: rougeL(hypTokens, refTokens),
    rougeLsum: rougeLsum(
      sentencesOf(hyp).map((s) => rougeTokenize(s, options)),
      sentencesOf(ref).map((s) => rougeTokenize(s, options))
    )
  }
}

/**
 * Several references: per ROUGE type, the reference with the highest F-measure
 * (the first on ties), as rouge_score's `score_multi` picks it.
 */
export const rougeScoreMulti = (hyp: string, refs: ReadonlyArray<string>, options: RougeOptions = {}): RougeScores => {
  if (refs.length === 0) throw new RangeError("rougeScoreMulti needs at least one reference")
  const all = refs.map((ref) => rougeScore(hyp, ref, options))
  const best = (type: RougeType): Prf =>
    all.reduce((top, s) => (s[type].fmeasure > top[type].fmeasure ? s : top))[type]
  return { rouge1: best("rouge1"), rouge2: best("rouge2"), rougeL: best("rougeL"), rougeLsum: best("rougeLsum") }
}

/** Names the settings a ROUGE number depends on, in sacrebleu's key:value style. */
export const rougeSignature = (options: RougeOptions = {}): string =>
  `tok:${options.tokenizer ?? "default"}|stem:${options.stem === true ? "yes" : "no"}|lsum:newline|agg:mean_f|impl:rouge_score`
