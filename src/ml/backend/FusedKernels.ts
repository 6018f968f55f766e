/**
 * Names and contracts of the fused kernels a backend may provide for the model's hot paths.
 *
 * The model's heaviest ops (linear backward, attention) have a reference implementation
 * built from stock TensorFlow.js ops that runs on any backend. A backend that registers the
 * kernel named here gets it used instead (see `WasmKernels.ts`); results must match the
 * reference within float32 rounding. `setFusedKernels(false)` forces the reference path, which
 * tests and the benchmark use to compare the two.
 */
import * as tf from "@tensorflow/tfjs"

export const FusedKernel = {
  /** inputs {x [M,K], w [K,N], dy [M,N]}; attrs {bias: boolean, weight: boolean} → [dx, dw?, db?] */
  LinearGrad: "CairnLinearGrad",
  /** inputs {qkv [B·T, 3d], mask? [B,H,T,T]}; attrs {batch, seqLen, heads} → [out [B·T, d], probs [B,H,T,T]] */
  Attention: "CairnAttention",
  /** inputs {dy [B·T, d], qkv, probs, mask?}; attrs as Attention → [dqkv] */
  AttentionGrad: "CairnAttentionGrad"
} as const

export type FusedKernelName = (typeof FusedKernel)[keyof typeof FusedKernel]

let enabled = true
const available = new Map<string, boolean>()

/** Turn the fused kernels off (reference ops everywhere) or back on. */
export const setFusedKernels = (on: boolean): void => {
  enabled = on
}

export const fusedKernelsEnabled = (): boolean => enabled

/** Whether the active backend provides `name` (and fused kernels are enabled). */
export const hasFusedKernel = (name: FusedKernelName): boolean => {
  if (!enabled) return false
  const key = `${tf.getBackend()}/${name}`
  let has = available.get(key)
  if (has === undefined) {
    has = tf.getKernel(name, tf.getBackend()) !== undefined
    available.set(key, has)
  }
  return has
}

/** Forget cached availability, after kernels were registered or removed. */
export const resetFusedKernelCache = (): void => available.clear()

/** Run a fused kernel that returns several outputs. */
export const runFused = (name: FusedKernelName, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): Array<tf.Tensor> => {
  const out = tf.engine().runKernel(name, inputs, attrs) as tf.Tensor | Array<tf.Tensor>
  return Array.isArray(out) ? out : [out]
}
