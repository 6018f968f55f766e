/**
 * GELU with the tanh approximation GPT-2 was trained with (`gelu_new` in transformers):
 * 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). The exact-erf or sigmoid forms would be a few
 * percent faster but give a different function than the checkpoints we load.
 */
import * as tf from "@tensorflow/tfjs"
import { FusedKernel, hasFusedKernel, runFused } from "../backend/FusedKernels.js"

const c = Math.sqrt(2 / Math.PI)
const k = 0.044715

export const gelu = (x: tf.Tensor): tf.Tensor => {
  const op = tf.customGrad((...args: Array<unknown>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc
    if (hasFusedKernel(FusedKernel.Gelu)) {
      const [y, s] = runFused(FusedKernel.Gelu, { x })
      save([x, s!])
      return {
        value: y!,
        gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) =>
          runFused(FusedKernel.GeluGrad, { dy: dy as tf.Tensor, x: saved[0]!, s: saved[1]! })
      }
    }
    const t = tf.tidy(() => tf.tanh(tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), k)), c)))
    save([x, t])
    return {
      value: tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(t, 1))),
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [xs, ts] = saved as [tf.Tensor, tf.Tensor]
        return tf.tidy(() => {
          // d/dx = 0.5·(1 + t) + 0.5·x·(1 - t²)·c·(1 + 3k·x²)
          const sech2 = tf.sub(1, tf.square(ts))
          const inner = tf.mul(tf.add(tf.mul(tf.square(xs), 3 * k), 1), c)
          const grad = tf.add(tf.mul(tf.add(ts, 1), 0.5), tf.mul(tf.mul(tf.mul(xs, 0.5), sech2), inner))
          return [tf.mul(dy as tf.Tensor, grad)]
        })
      }
    }
  })
  return op(x)
}
