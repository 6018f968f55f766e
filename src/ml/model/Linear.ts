/**
 * Linear layers (`y = x·W + b`, W in Conv1D layout [in, out]) with hand-written gradients.
 *
 * TensorFlow.js differentiates `matMul` into `dy·Wᵀ` and `xᵀ·dy` using the transpose flags of
 * BatchMatMul, which the wasm backend runs 10-40x slower than an un-flagged 2-D product. Here
 * every product is un-flagged and 2-D, and transposes are explicit. For dW we transpose
 * whichever of x [M,K] or dy [M,N] makes less data move: `xᵀ·dy` moves M·K values,
 * `(dyᵀ·x)ᵀ` moves M·N + K·N. A backend with the fused `LinearGrad` kernel does all of it in
 * one call.
 *
 * Frozen weights (LoRA's base model) take the `frozen` path: the gradient only flows to x, so
 * no dW is ever computed for them.
 */
import * as tf from "@tensorflow/tfjs"
import { FusedKernel, hasFusedKernel, runFused } from "../backend/FusedKernels.js"

const isTrainable = (t: tf.Tensor | undefined): boolean => t instanceof tf.Variable && t.trainable

/** x [M,K] · w [K,N] (+ bias [N]) → [M,N]; gradients for x and for whichever of w, bias are trainable. */
export const linear = (x: tf.Tensor2D, w: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D => {
  const trainW = isTrainable(w)
  const trainB = bias !== undefined && isTrainable(bias)
  if (!trainW && !trainB) return frozenLinear(x, w, bias)
  const inputs: Array<tf.Tensor> = [x]
  if (trainW) inputs.push(w)
  if (trainB) inputs.push(bias!)
  const op = tf.customGrad((...args: Array<unknown>) => {
    const save = args[args.length - 1] as tf.GradSaveFunc
    // Only saved tensors outlive the forward's tidy scope; weights are variables and stay.
    save([x])
    const value = forward(x, w, bias)
    return {
      value,
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const g = dy as tf.Tensor2D
        const [dx, dw, db] = linearGrad(saved[0] as tf.Tensor2D, w, g, trainW, trainB)
        const grads: Array<tf.Tensor> = [dx]
        if (trainW) grads.push(dw!)
        if (trainB) grads.push(db!)
        return grads
      }
    }
  })
  return op(...inputs) as tf.Tensor2D
}

/** x [M,K] · w [K,N] with gradients for both, whatever w is (e.g. a weight assembled from variables). */
export const product = (x: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D => {
  const op = tf.customGrad((...args: Array<unknown>) => {
    const input = args[0] as tf.Tensor2D
    const weight = args[1] as tf.Tensor2D
    const save = args[2] as tf.GradSaveFunc
    save([input, weight])
    return {
      value: tf.matMul(input, weight),
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        const [dx, dw] = linearGrad(saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, dy as tf.Tensor2D, true, false)
        return [dx, dw!]
      }
    }
  })
  return op(x, w) as tf.Tensor2D
}

/** Linear layer whose weight and bias never receive gradients. */
export const frozenLinear = (x: tf.Tensor2D, w: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D => {
  const op = tf.customGrad((...args: Array<unknown>) => {
    const input = args[0] as tf.Tensor2D
    return {
      value: forward(input, w, bias),
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>) => [matMulByTranspose(dy as tf.Tensor2D, w)]
    }
  })
  return op(x) as tf.Tensor2D
}

const forward = (x: tf.Tensor2D, w: tf.Tensor2D, bias?: tf.Tensor1D): tf.Tensor2D =>
  (bias === undefined ? tf.matMul(x, w) : tf.fused.matMul({ a: x, b: w, bias })) as tf.Tensor2D

/** dy [M,N] · wᵀ → [M,K], with an explicit transpose of the (small) weight. */
const matMulByTranspose = (dy: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D =>
  tf.tidy(() => tf.matMul(dy, tf.transpose(w)))

/** [dx, dw, db] for y = x·w + b; entries not asked for are undefined. */
export const linearGrad = (
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  dy: tf.Tensor2D,
  wantW: boolean,
  wantBias: boolean
): [tf.Tensor2D, tf.Tensor2D | undefined, tf.Tensor1D | undefined] => {
  if (hasFusedKernel(FusedKernel.LinearGrad)) {
    const out = runFused(FusedKernel.LinearGrad, { x, w, dy }, { weight: wantW, bias: wantBias })
    let at = 1
    const dw = wantW ? (out[at++] as tf.Tensor2D) : undefined
    const db = wantBias ? (out[at++] as tf.Tensor1D) : undefined
    return [out[0] as tf.Tensor2D, dw, db]
  }
  const dx = matMulByTranspose(dy, w)
  let dw: tf.Tensor2D | undefined
  if (wantW) {
    const [m, k] = x.shape
    const n = dy.shape[1]
    dw = tf.tidy(() =>
      m * k <= m * n + k * n
        ? tf.matMul(tf.transpose(x), dy)
        : tf.transpose(tf.matMul(tf.transpose(dy), x))
    )
  }
  const db = wantBias ? (tf.sum(dy, 0) as tf.Tensor1D) : undefined
  return [dx, dw, db]
}

/**
 * x [M,d] · tableᵀ for a table [V,d] (the tied LM head: logits from the token embedding).
 * The product is computed as x · (tableᵀ) with an explicit transpose of the table, i.e. a
 * linear layer with weight tableᵀ, and differentiated as one.
 */
export const matMulTransposed = (x: tf.Tensor2D, table: tf.Tensor2D, tableT?: tf.Tensor2D): tf.Tensor2D => {
  if (!isTrainable(table)) {
    const frozenT = tableT
    const op = tf.customGrad((...args: Array<unknown>) => {
      const input = args[0] as tf.Tensor2D
      return {
        value: frozenT === undefined ? tf.tidy(() => tf.matMul(input, tf.transpose(table))) : tf.matMul(input, frozenT),
        gradFunc: (dy: tf.Tensor | Array<tf.Tensor>) => [tf.matMul(dy as tf.Tensor2D, table)]
      }
    })
    return op(x) as tf.Tensor2D
  }
  const op = tf.customGrad((...args: Array<unknown>) => {
    const input = args[0] as tf.Tensor2D
    const weights = args[1] as tf.Tensor2D
    const save = args[2] as tf.GradSaveFunc
    const transposed = tf.transpose(weights) as tf.Tensor2D
    // Only saved tensors outlive the forward's tidy scope.
    save([input, transposed])
    return {
      value: tf.matMul(input, transposed),
      gradFunc: (dy: tf.Tensor | Array<tf.Tensor>, saved: Array<tf.Tensor>) => {
        // As a linear layer with weight tableᵀ [d, V]; its weight gradient transposed is d(table).
        const [dx, dw] = linearGrad(saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, dy as tf.Tensor2D, true, false)
        const dTable = tf.transpose(dw!)
        dw!.dispose()
        return [dx, dTable]
      }
    }
  })
  return op(x, table) as tf.Tensor2D
}
