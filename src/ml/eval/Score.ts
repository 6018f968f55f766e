/**
 * Scores generated texts against references with any mix of ROUGE, BLEU,
 * chrF, SQuAD EM/F1 and exact match, at corpus and sentence level, with the
 * signature of every number and optional paired bootstrap intervals. This is
 * what `cairn score` and the evaluate stage call.
 *
 * Scales follow the reference tools: ROUGE, SQuAD and exact match in 0–1,
 * BLEU and chrF in 0–100. Corpus ROUGE, SQuAD and exact are means of the
 * sentence values (rouge_score's aggregator mean); corpus BLEU and chrF are
 * computed from summed statistics, as sacrebleu does, so they are not the mean
 * of the sentence scores.
 *
 * References: `refs[i]` is either one reference string or the list of
 * references of `hyps[i]`. As in sacrebleu, empty strings in a list are
 * padding and are dropped (a segment whose references are all empty is scored
 * against one empty reference).
 */
import { bleuFromStats, bleuSegmentStats, bleuSignature, type BleuScore, BLEU_STATS_WIDTH } from "./Bleu.js"
import { bootstrapIntervals, type BootstrapOptions, type Interval } from "./Bootstrap.js"
import { chrfFromStats, chrfSegmentStats, chrfSignature, CHRF_STATS_WIDTH } from "./Chrf.js"
import { referenceSets } from "./internal/References.js"
import { sumRows } from "./internal/StatRows.js"
import { ROUGE_TYPES, rougeScoreMulti, rougeSignature, type RougeTokenizer } from "./Rouge.js"
import { squadScore } from "./Squad.js"

export type MetricName = "rouge" | "bleu" | "chrf" | "squad" | "exact"

export const METRIC_NAMES: ReadonlyArray<MetricName> = ["rouge", "bleu", "chrf", "squad", "exact"]

export interface ScoreOptions {
  readonly metrics: ReadonlyArray<MetricName>
  /** Porter stemming for ROUGE (rouge_score's `use_stemmer`). */
  readonly stem?: boolean
  /** ROUGE tokeniser; `unicode` keeps non-ASCII letters (not rouge_score's behaviour). */
  readonly tokenizer?: RougeTokenizer
  readonly bootstrap?: BootstrapOptions
}

export interface ScoreResult {
  /** rouge1, rouge2, rougeL, rougeLsum, squad_em, squad_f1, exact in 0–1; bleu, chrf in 0–100. */
  readonly corpus: Record<string, number>
  readonly sentences: Array<Record<string, number>>
  /** How each number was computed; sacrebleu's own strings for bleu and chrf. */
  readonly signatures: Record<string, string>
  readonly intervals?: Record<string, Interval>
  /** The bootstrap settings behind `intervals`, alpha filled in. */
  readonly bootstrap?: Required<BootstrapOptions>
  /** sacrebleu's verbose corpus BLEU figures (n-gram precisions, BP, lengths). */
  readonly bleuDetail?: BleuScore
}

/** Inputs that cannot be scored; `reason` says which. */
export class ScoreInputError extends Error {
  readonly _tag = "ScoreInputError"
  constructor(readonly reason: string) {
    super(`cannot score: ${reason}`)
  }
}

export const SQUAD_SIGNATURE = "version:v1.1|norm:lower,punct,articles,space|f1_both_empty:0|agg:max_over_refs,mean"
export const EXACT_SIGNATURE = "match:exact_string|agg:max_over_refs,mean"

const mean = (values: ReadonlyArray<number>, indices?: ArrayLike<number>): number => {
  const n = indices === undefined ? values.length : indices.length
  let sum = 0
  for (let k = 0; k < n; k++) sum += values[indices === undefined ? k : indices[k]!]!
  return sum / n
}

const validate = (
  hyps: ReadonlyArray<string>,
  refs: ReadonlyArray<string | ReadonlyArray<string>>,
  options: ScoreOptions
): Array<ReadonlyArray<string>> => {
  if (hyps.length !== refs.length) throw new ScoreInputError(`${hyps.length} hypotheses but ${refs.length} references`)
  if (hyps.length === 0) throw new ScoreInputError("no hypotheses")
  if (options.metrics.length === 0) throw new ScoreInputError("no metrics selected")
  for (const m of options.metrics) {
    if (!METRIC_NAMES.includes(m)) throw new ScoreInputError(`unknown metric "${m}" (known: ${METRIC_NAMES.join(", ")})`)
  }
  return refs.map((r, i) => {
    const list = typeof r === "string" ? [r] : r
    if (list.length === 0) throw new ScoreInputError(`hypothesis ${i} has an empty reference list`)
    return list
  })
}

export const scoreTexts = (
  hyps: ReadonlyArray<string>,
  refs: ReadonlyArray<string> | ReadonlyArray<ReadonlyArray<string>>,
  options: ScoreOptions
): ScoreResult => {
  const { segments, nrefs } = referenceSets(validate(hyps, refs, options))
  const wanted = new Set(options.metrics)
  const n = hyps.length
  const sentences: Array<Record<string, number>> = hyps.map(() => ({}))
  const signatures: Record<string, string> = {}
  // Per metric: the corpus value computed from the segments at `indices`.
  const corpusAt: Array<(indices?: ArrayLike<number>) => Record<string, number>> = []
  let bleuDetail: BleuScore | undefined

  if (wanted.has("rouge")) {
    const rougeOptions = { stem: options.stem === true, tokenizer: options.tokenizer ?? "default" }
    const columns = ROUGE_TYPES.map(() => new Array<number>(n))
    hyps.forEach((hyp, i) => {
      const scores = rougeScoreMulti(hyp, segments[i]!, rougeOptions)
      ROUGE_TYPES.forEach((type, t) => {
        columns[t]![i] = scores[type].fmeasure
        sentences[i]![type] = scores[type].fmeasure
      })
    })
    signatures.rouge = rougeSignature(rougeOptions)
    corpusAt.push((idx) => Object.fromEntries(ROUGE_TYPES.map((type, t) => [type, mean(columns[t]!, idx)])))
  }

  if (wanted.has("bleu")) {
    const rows = hyps.map((hyp, i) => bleuSegmentStats(hyp, segments[i]!))
    rows.forEach((row, i) => (sentences[i]!.bleu = bleuFromStats(row, true).score))
    bleuDetail = bleuFromStats(sumRows(rows, BLEU_STATS_WIDTH), false)
    signatures.bleu = bleuSignature(nrefs, false)
    signatures.bleu_sentence = bleuSignature(nrefs, true)
    corpusAt.push((idx) => ({ bleu: bleuFromStats(sumRows(rows, BLEU_STATS_WIDTH, idx), false).score }))
  }

  if (wanted.has("chrf")) {
    const rows = hyps.map((hyp, i) => chrfSegmentStats(hyp, segments[i]!))
    rows.forEach((row, i) => (sentences[i]!.chrf = chrfFromStats(row)))
    signatures.chrf = chrfSignature(nrefs)
    corpusAt.push((idx) => ({ chrf: chrfFromStats(sumRows(rows, CHRF_STATS_WIDTH, idx)) }))
  }

  if (wanted.has("squad")) {
    const em = new Array<number>(n)
    const f1 = new Array<number>(n)
    hyps.forEach((hyp, i) => {
      const s = squadScore(hyp, segments[i]!)
      em[i] = s.exactMatch
      f1[i] = s.f1
      sentences[i]!.squad_em = s.exactMatch
      sentences[i]!.squad_f1 = s.f1
    })
    signatures.squad = SQUAD_SIGNATURE
    corpusAt.push((idx) => ({ squad_em: mean(em, idx), squad_f1: mean(f1, idx) }))
  }

  if (wanted.has("exact")) {
    const exact = hyps.map((hyp, i) => (segments[i]!.includes(hyp) ? 1 : 0))
    exact.forEach((v, i) => (sentences[i]!.exact = v))
    signatures.exact = EXACT_SIGNATURE
    corpusAt.push((idx) => ({ exact: mean(exact, idx) }))
  }

  const corpusOf = (idx?: ArrayLike<number>) => Object.assign({}, ...corpusAt.map((f) => f(idx))) as Record<string, number>
  const base = { corpus: corpusOf(), sentences, signatures, ...(bleuDetail === undefined ? {} : { bleuDetail }) }
  if (options.bootstrap === undefined) return base

  const bootstrap = { samples: options.bootstrap.samples, seed: options.bootstrap.seed, alpha: options.bootstrap.alpha ?? 0.05 }
  const intervals = bootstrapIntervals(n, bootstrap, corpusOf)
  signatures.bootstrap = `bs:${bootstrap.samples}|seed:${bootstrap.seed}|alpha:${bootstrap.alpha}|method:percentile|prng:mulberry32`
  return { ...base, intervals, bootstrap }
}
