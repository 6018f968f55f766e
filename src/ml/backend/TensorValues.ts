/**
 * Reading float32 tensor values into arrays the caller owns.
 *
 * `dataSync()` allocates a fresh array per call; a training step reads every gradient, so on
 * a model of a few million parameters that is megabytes of garbage per step. On the wasm
 * backend the values are read straight from the heap instead (a view, valid until the next
 * allocation, used immediately); other backends fall back to `dataSync()`.
 */
import * as tf from "@tensorflow/tfjs"

interface HeapBackend {
  typedArrayFromHeap(info: { shape: Array<number>; dtype: string; dataId: object }): Float32Array
}

const view = (t: tf.Tensor): ArrayLike<number> => {
  const backend = tf.backend() as unknown as Partial<HeapBackend>
  if (t.dtype === "float32" && tf.getBackend() === "wasm" && typeof backend.typedArrayFromHeap === "function") {
    return backend.typedArrayFromHeap({ shape: t.shape, dtype: t.dtype, dataId: t.dataId })
  }
  return t.dataSync()
}

/** target ← values of t. */
export const copyInto = (t: tf.Tensor, target: Float32Array): void => {
  if (t.size !== target.length) throw new Error(`copyInto: tensor has ${t.size} values, target ${target.length}`)
  const values = view(t)
  if (values instanceof Float32Array) target.set(values)
  else for (let i = 0; i < target.length; i++) target[i] = values[i]!
}

/** target ← target + values of t. */
export const addInto = (t: tf.Tensor, target: Float32Array): void => {
  if (t.size !== target.length) throw new Error(`addInto: tensor has ${t.size} values, target ${target.length}`)
  const values = view(t)
  for (let i = 0; i < target.length; i++) target[i]! += values[i]!
}
