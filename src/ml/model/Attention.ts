/**
 * Causal multi-head self-attention on the fused q|k|v projection, as GPT-2 lays it out:
 * qkv [B·T, 3d] with columns [q | k | v], head h owning columns h·hd .. (h+1)·hd of each.
 *
 * The reference path uses rank-4 batched matmuls, which the wasm backend runs at a few
 * GFLOP/s. The fused `Attention` kernel (see `WasmKernels.ts`) instead runs one 2-D product
 * per (sequence, head) on the fast GEMM and does masking, softmax and dropout in one pass.
 * Both paths draw attention dropout from the same seeded mask, laid out [B, H, T, T].
 */
import * as tf from "@tensorflow/tfjs"
import { FusedKernel, hasFusedKernel, runFused } from "../backend/FusedKernels.js"
import { dropoutMask } from "./Random.js"

export interface AttentionShape {
  readonly batch: number
  readonly seqLen: number
  readonly heads: number
}

/** Probability dropout: `rate` 0 disables it. */
export interface AttentionDropout {
  readonly rate: number
  readonly seed: number
}

/**
 * qkv [B·T, 3d] → [B·T, d]. `causalMask` is the additive [T, T] mask (0 on and below the
 * diagonal, a large negative number above); only the reference path reads it.
 */
export const causalSelfAttention = (
  qkv: tf.Tensor2D,
  shape: AttentionShape,
  causalMask: tf.Tensor2D,
  dropout?: AttentionDropout
): tf.Tensor2D => {
  if (!hasFusedKernel(FusedKernel.Attention)) return referenceAttention(qkv, shape, causalMask, dropout)
  const { batch: b, seqLen: t, heads: h } = shape
  const attrs = { batch: b, seqLen: t, heads: h }
  const op = tf.customGrad((...args: Array<unknown>) => {
    const input = args[0] as tf.Tensor2D
    const save = args[args.length - 1] as tf.GradSaveFunc
    const mask = dropout !== undefined && dropout.rate > 0
      ? tf.tensor(dropoutMask(b * h * t * t, dropout.rate, dropout.seed), [b, h, t, t])
      : undefined
    const [out, probs] = runFused(FusedKernel.Attention, mask === undefined ? { qkv: input } : { qkv: input, mask }, attrs)
    save(mask === undefined ? [input, probs!] : [input, probs!, mask])
    return {
      value: out as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [qkvSaved, probsSaved, maskSaved] = saved
        const inputs: tf.NamedTensorMap = { dy: dy as tf.Tensor, qkv: qkvSaved!, probs: probsSaved! }
        if (maskSaved !== undefined) inputs["mask"] = maskSaved
        return runFused(FusedKernel.AttentionGrad, inputs, attrs)
      }
    }
  })
  return op(qkv) as tf.Tensor2D
}

/** Stock-ops attention, differentiated by TensorFlow.js; the semantics the fused kernel matches. */
export const referenceAttention = (
  qkv: tf.Tensor2D,
  shape: AttentionShape,
  causalMask: tf.Tensor2D,
  dropout?: AttentionDropout
): tf.Tensor2D =>
  tf.tidy(() => {
    const { batch: b, seqLen: t, heads: h } = shape
    const d = qkv.shape[1] / 3
    const hd = d / h
    const heads = (m: tf.Tensor): tf.Tensor4D => tf.transpose(tf.reshape(m, [b, t, h, hd]), [0, 2, 1, 3])
    const [q, k, v] = tf.split(qkv, 3, 1)
    const scores = tf.add(tf.mul(tf.matMul(heads(q!), heads(k!), false, true), 1 / Math.sqrt(hd)), causalMask)
    let probs: tf.Tensor = tf.softmax(scores)
    if (dropout !== undefined && dropout.rate > 0) {
      probs = tf.mul(probs, tf.tensor(dropoutMask(b * h * t * t, dropout.rate, dropout.seed), [b, h, t, t]))
    }
    const out = tf.matMul(probs, heads(v!))
    return tf.reshape(tf.transpose(out, [0, 2, 1, 3]), [b * t, d])
  })

/** The additive causal mask for length t: 0 where key ≤ query, -1e9 above the diagonal. */
export const causalMaskValues = (t: number): Float32Array => {
  const values = new Float32Array(t * t)
  for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) values[i * t + j] = -1e9
  return values
}
