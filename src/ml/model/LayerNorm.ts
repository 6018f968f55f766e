/**
 * Layer normalisation over the last axis, with an analytic gradient.
 *
 * Autodiff through `moments` produces about twice the kernels of the closed form below. Every
 * step is a stock op (vectorised on wasm); the per-column sums for dγ and dβ are the only
 * reductions over rows, which cairn's wasm `Sum` kernel does without a transpose.
 */
import * as tf from "@tensorflow/tfjs"

/** y = (x - mean) / sqrt(var + eps) · gamma + beta, rows of x [M,d]. */
export const layerNorm = (x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): tf.Tensor2D => {
  const op = tf.customGrad((...args: Array<unknown>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc
    const [xhat, rstd] = tf.tidy(() => {
      const centred = tf.sub(x, tf.mean(x, 1, true))
      const r = tf.rsqrt(tf.add(tf.mean(tf.square(centred), 1, true), epsilon))
      return [tf.mul(centred, r), r]
    })
    save([xhat!, rstd!])
    return {
      value: tf.tidy(() => tf.add(tf.mul(xhat!, gamma), beta)) as tf.Tensor2D,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const g = dy as tf.Tensor2D
        const [xh, r] = saved as [tf.Tensor2D, tf.Tensor2D]
        return tf.tidy(() => {
          const dxhat = tf.mul(g, gamma)
          // dx = rstd · (dxhat - mean(dxhat) - xhat · mean(dxhat · xhat)), per row.
          const dx = tf.mul(
            r,
            tf.sub(tf.sub(dxhat, tf.mean(dxhat, 1, true)), tf.mul(xh, tf.mean(tf.mul(dxhat, xh), 1, true)))
          )
          return [dx, tf.sum(tf.mul(g, xh), 0), tf.sum(g, 0)]
        })
      }
    }
  })
  return op(x, gamma, beta) as tf.Tensor2D
}
