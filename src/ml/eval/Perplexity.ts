/**
 * Perplexity of a causal LM over completion tokens, in the two forms people
 * report and often confuse:
 *
 * - `perplexity`: exp(total NLL / total predicted tokens) over the whole
 *   corpus, i.e. exp of the token-weighted mean cross-entropy; what
 *   `exp(loss)` of a trainer gives when its loss averages over all unmasked
 *   tokens. This is the headline number here.
 * - `meanPerplexity`: the arithmetic mean of per-text perplexities, which is
 *   what Hugging Face `evaluate`'s perplexity metric calls `mean_perplexity`.
 *   Short texts weigh as much as long ones, so the two differ whenever text
 *   lengths or difficulties vary.
 *
 * NLL is in nats (natural log), summed over the tokens the model predicted.
 */
import { bootstrapIntervals, type BootstrapOptions, type Interval } from "./Bootstrap.js"
import { sumRows } from "./internal/StatRows.js"

export interface TextNll {
  /** Sum of −log p over the predicted tokens of one text (nats). */
  readonly nll: number
  /** Number of predicted (non-masked) tokens. */
  readonly tokens: number
  /** Task or source, for per-group perplexity. */
  readonly group?: string
}

export interface GroupPerplexity {
  readonly perplexity: number
  readonly meanNll: number
  readonly tokens: number
  readonly texts: number
}

export interface PerplexityResult {
  /** exp(Σ nll / Σ tokens): corpus-level, token-weighted. */
  readonly perplexity: number
  readonly meanNll: number
  readonly tokens: number
  /** Mean of per-text exp(nll_i / tokens_i) (HF evaluate's `mean_perplexity`). */
  readonly meanPerplexity: number
  /** Per text, in input order; NaN for a text without predicted tokens. */
  readonly perText: ReadonlyArray<number>
  readonly groups: Readonly<Record<string, GroupPerplexity>>
  readonly note: string
  readonly intervals?: Readonly<Record<"perplexity", Interval>>
}

export const PERPLEXITY_NOTE =
  "perplexity = exp(total NLL / total predicted tokens): corpus-level, token-weighted; " +
  "meanPerplexity = arithmetic mean of per-text perplexities (HF evaluate's mean_perplexity)"

/** A text's NLL from the natural-log probabilities of its predicted tokens. */
export const textNll = (tokenLogProbs: ReadonlyArray<number>, group?: string): TextNll => ({
  nll: -tokenLogProbs.reduce((sum, lp) => sum + lp, 0),
  tokens: tokenLogProbs.length,
  ...(group === undefined ? {} : { group })
})

const corpus = (nll: number, tokens: number): number => (tokens > 0 ? Math.exp(nll / tokens) : Number.NaN)

export const perplexity = (texts: ReadonlyArray<TextNll>, bootstrap?: BootstrapOptions): PerplexityResult => {
  const rows = texts.map((t) => [t.nll, t.tokens])
  const [nll, tokens] = sumRows(rows, 2) as [number, number]
  const perText = texts.map((t) => corpus(t.nll, t.tokens))
  const finite = perText.filter(Number.isFinite)
  const byGroup = new Map<string, { nll: number; tokens: number; texts: number }>()
  for (const t of texts) {
    if (t.group === undefined) continue
    const g = byGroup.get(t.group) ?? { nll: 0, tokens: 0, texts: 0 }
    byGroup.set(t.group, { nll: g.nll + t.nll, tokens: g.tokens + t.tokens, texts: g.texts + 1 })
  }
  const groups: Record<string, GroupPerplexity> = {}
  for (const [name, g] of [...byGroup].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    groups[name] = {
      perplexity: corpus(g.nll, g.tokens),
      meanNll: g.tokens > 0 ? g.nll / g.tokens : Number.NaN,
      tokens: g.tokens,
      texts: g.texts
    }
  }
  const result: PerplexityResult = {
    perplexity: corpus(nll, tokens),
    meanNll: tokens > 0 ? nll / tokens : Number.NaN,
    tokens,
    meanPerplexity: finite.length > 0 ? finite.reduce((a, b) => a + b, 0) / finite.length : Number.NaN,
    perText,
    groups,
    note: PERPLEXITY_NOTE
  }
  if (bootstrap === undefined) return result
  const intervals = bootstrapIntervals(texts.length, bootstrap, (indices) => {
    const [n, k] = sumRows(rows, 2, indices) as [number, number]
    return { perplexity: corpus(n, k) }
  })
  return { ...result, intervals }
}
