/**
 * Causal language-model loss with a loss mask.
 *
 * A row of ids [T] predicts ids[t+1] from ids[..t]; position t contributes when the mask of
 * its target, mask[t+1], is 1 (completion tokens under `train_on_inputs: false`; 0 on prompts
 * and padding). Only those positions go through the LM head: the hidden rows are gathered
 * first, so prompt tokens cost nothing in the V-wide product.
 *
 * The loss is a sum of token NLLs divided by a caller-supplied `normaliser`. The trainer passes
 * the number of unmasked tokens in the whole accumulated batch, so the gradient summed over
 * micro-batches equals the gradient of the token-mean over the whole batch, however unevenly
 * tokens fall into micro-batches (a mean of micro-batch means would weight a micro-batch with
 * 3 tokens like one with 300).
 */
import * as tf from "@tensorflow/tfjs"
import type { ForwardOptions, Gpt } from "../model/Gpt.js"

/** A batch of rows [B, T]: token ids and per-token loss mask (1 = the token is a target). */
export interface TokenBatch {
  readonly ids: Int32Array
  readonly mask: Uint8Array
  readonly batch: number
  readonly seqLen: number
}

/** Positions (flat index into [B, T]) whose next token is a target, and those targets. */
export const targetPositions = (b: TokenBatch): { rows: Int32Array; targets: Int32Array } => {
  const rows: Array<number> = []
  const targets: Array<number> = []
  for (let r = 0; r < b.batch; r++) {
    const base = r * b.seqLen
    for (let t = 0; t + 1 < b.seqLen; t++) {
      if (b.mask[base + t + 1] === 1) {
        rows.push(base + t)
        targets.push(b.ids[base + t + 1]!)
      }
    }
  }
  return { rows: Int32Array.from(rows), targets: Int32Array.from(targets) }
}

/** Number of target tokens in a batch (the unit the loss is normalised by). */
export const countTargets = (b: TokenBatch): number => {
  let n = 0
  for (let r = 0; r < b.batch; r++) {
    const base = r * b.seqLen
    for (let t = 1; t < b.seqLen; t++) if (b.mask[base + t] === 1) n++
  }
  return n
}

/**
 * Σ NLL(target tokens) / normaliser as a scalar, or undefined when the batch has no target
 * (there is nothing to differentiate). Call inside a gradient function or `tf.tidy`.
 */
export const causalLmLoss = (
  model: Gpt,
  batch: TokenBatch,
  normaliser: number,
  options: ForwardOptions = {}
): tf.Scalar | undefined => {
  const { rows, targets } = targetPositions(batch)
  if (rows.length === 0) return undefined
  const hidden = model.hidden(batch.ids, batch.batch, batch.seqLen, options)
  const selected = rows.length === batch.ids.length ? hidden : (tf.gather(hidden, tf.tensor1d(rows, "int32")) as tf.Tensor2D)
  return crossEntropySum(model.logits(selected), targets, 1 / normaliser)
}

/**
 * scale · Σᵢ (logsumexp(logitsᵢ) - logitsᵢ[targetᵢ]) with the closed-form gradient
 * scale · (softmax(logits) - onehot(targets)).
 *
 * logsumexp comes from the softmax itself: the largest probability is exp(0)/Σ = 1/Σ, so
 * logsumexp = max - log(max p), exact and never underflowing (max p ≥ 1/V). This replaces the
 * [N, V] Exp of the textbook form (scalar and slow on wasm) by the vectorised Softmax kernel,
 * whose output the gradient needs anyway.
 */
export const crossEntropySum = (logits: tf.Tensor2D, targets: Int32Array, scale: number): tf.Scalar => {
  const [n, v] = logits.shape
  const flat = new Int32Array(n)
  for (let i = 0; i < n; i++) flat[i] = i * v + targets[i]!
  const op = tf.customGrad((...args: Array<unknown>) => {
    const x = args[0] as tf.Tensor2D
    const save = args[1] as tf.GradSaveFunc
    const probs = tf.softmax(x)
    save([probs])
    return {
      value: tf.tidy(() => {
        const lse = tf.sub(tf.max(x, 1), tf.log(tf.max(probs, 1)))
        const picked = tf.gather(tf.reshape(x, [n * v]), tf.tensor1d(flat, "int32"))
        return tf.mul(tf.sum(tf.sub(lse, picked)), scale)
      }) as tf.Scalar,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) =>
        tf.tidy(() => {
          const onehot = tf.oneHot(tf.tensor1d(targets, "int32"), v)
          return [tf.mul(tf.sub(saved[0]!, onehot), tf.mul(dy as tf.Scalar, scale))]
        })
    }
  })
  return op(logits) as tf.Scalar
}
