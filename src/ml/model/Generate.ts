/**
 * Autoregressive generation from a prompt: greedy or sampled (temperature, top-k, top-p),
 * seeded, with a KV cache so each new token costs one position rather than the whole prefix.
 *
 * Sampling happens in JS on the last position's logits so it is identical on every backend
 * for a given seed. Generation stops at `maxNewTokens`, at an end-of-sequence id, at a stop
 * sequence of token ids (removed from the output), at a stop string found by the caller's
 * decoder (output text cut before it), or when the context (`n_positions`) is full.
 */
import * as tf from "@tensorflow/tfjs"
import type { Gpt } from "./Gpt.js"
import { Rng } from "./Random.js"

export interface GenerateOptions {
  readonly maxNewTokens: number
  /** 0 (the default) is greedy decoding; otherwise logits are divided by it before sampling. */
  readonly temperature?: number
  /** Sample only among the k most likely tokens. */
  readonly topK?: number
  /** Sample only among the smallest set of tokens whose probability reaches p. */
  readonly topP?: number
  readonly seed?: number
  /** End-of-sequence ids; defaults to the model config's eos id. `[]` disables. */
  readonly eosTokenIds?: ReadonlyArray<number>
  /** Token-id sequences that end generation; they are not part of the output. */
  readonly stopSequences?: ReadonlyArray<ReadonlyArray<number>>
  /** Strings that end generation, found in `decode(generated ids)`. */
  readonly stopStrings?: ReadonlyArray<string>
  readonly decode?: (ids: ReadonlyArray<number>) => string
  /** Recompute the whole prefix every step instead of using the KV cache (for testing). */
  readonly useCache?: boolean
}

export type FinishReason = "length" | "eos" | "stop" | "context"

export interface Generation {
  /** Generated ids (without the prompt, the eos id or a stop sequence). */
  readonly tokens: ReadonlyArray<number>
  readonly finishReason: FinishReason
  /** `decode(tokens)` cut before a stop string, when a decoder was given. */
  readonly text?: string
}

export const generate = (model: Gpt, prompt: ReadonlyArray<number>, options: GenerateOptions): Generation => {
  if (prompt.length === 0) throw new Error("generate: the prompt is empty")
  const contextSize = model.config.nPositions
  if (prompt.length > contextSize) throw new Error(`generate: prompt of ${prompt.length} tokens exceeds n_positions ${contextSize}`)
  const rng = Rng.seeded(options.seed ?? 0)
  const eos = new Set(options.eosTokenIds ?? [model.config.eosTokenId])
  const useCache = options.useCache ?? true
  const cache = useCache ? model.newCache() : undefined
  const tokens: Array<number> = []
  let finishReason: FinishReason = "length"
  let text: string | undefined
  try {
    let pending: ReadonlyArray<number> = prompt
    while (tokens.length < options.maxNewTokens) {
      if (prompt.length + tokens.length > contextSize) {
        finishReason = "context"
        break
      }
      const row = lastLogits(model, cache, cache === undefined ? [...prompt, ...tokens] : pending)
      const next = pick(row, options, rng)
      if (eos.has(next)) {
        finishReason = "eos"
        break
      }
      tokens.push(next)
      pending = [next]
      const stop = options.stopSequences?.find((s) => s.length > 0 && endsWith(tokens, s))
      if (stop !== undefined) {
        tokens.splice(tokens.length - stop.length, stop.length)
        finishReason = "stop"
        break
      }
      if (options.decode !== undefined && options.stopStrings !== undefined && options.stopStrings.length > 0) {
        const decoded = options.decode(tokens)
        const at = firstIndexOf(decoded, options.stopStrings)
        if (at >= 0) {
          text = decoded.slice(0, at)
          finishReason = "stop"
          break
        }
      }
    }
  } finally {
    if (cache !== undefined) model.disposeCache(cache)
  }
  if (text === undefined && options.decode !== undefined) text = options.decode(tokens)
  return text === undefined ? { tokens, finishReason } : { tokens, finishReason, text }
}

const lastLogits = (model: Gpt, cache: ReturnType<Gpt["newCache"]> | undefined, ids: ReadonlyArray<number>): Float32Array => {
  const logits = cache === undefined
    ? model.forward(Int32Array.from(ids), 1, ids.length)
    : model.decode(ids, cache)
  const row = tf.tidy(() => tf.slice(logits, [logits.shape[0] - 1, 0], [1, logits.shape[1]]))
  const values = row.dataSync() as Float32Array
  tf.dispose([logits, row])
  return values
}

/** Argmax (first index on ties) when greedy, else a seeded draw after temperature/top-k/top-p. */
export const pick = (logits: Float32Array, options: Pick<GenerateOptions, "temperature" | "topK" | "topP">, rng: Rng): number => {
  const temperature = options.temperature ?? 0
  if (temperature <= 0) {
    let best = 0
    for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i
    return best
  }
  let order = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b)
  if (options.topK !== undefined && options.topK > 0) order = order.slice(0, options.topK)
  const max = logits[order[0]!]! / temperature
  const weights = order.map((i) => Math.exp(logits[i]! / temperature - max))
  const total = weights.reduce((a, b) => a + b, 0)
  let keep = order.length
  if (options.topP !== undefined && options.topP < 1) {
    let cumulative = 0
    for (let i = 0; i < order.length; i++) {
      cumulative += weights[i]! / total
      if (cumulative >= options.topP) {
        keep = i + 1
        break
      }
    }
  }
  const kept = weights.slice(0, keep)
  const keptTotal = kept.reduce((a, b) => a + b, 0)
  let u = rng.next() * keptTotal
  for (let i = 0; i < keep; i++) {
    u -= kept[i]!
    if (u < 0) return order[i]!
  }
  return order[keep - 1]!
}

const endsWith = (seq: ReadonlyArray<number>, suffix: ReadonlyArray<number>): boolean => {
  if (suffix.length > seq.length) return false
  const offset = seq.length - suffix.length
  return suffix.every((v, i) => seq[offset + i] === v)
}

const firstIndexOf = (text: string, needles: ReadonlyArray<string>): number => {
  let at = -1
  for (const needle of needles) {
    const i = needle.length === 0 ? -1 : text.indexOf(needle)
    if (i >= 0 && (at < 0 || i < at)) at = i
  }
  return at
}
