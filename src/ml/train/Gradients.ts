/**
 * Gradients of one optimiser step: each micro-batch (or shard of one) is a job whose loss is
 * Σ token NLL / normaliser, the normaliser being the target tokens of the whole step (see
 * Loss.ts). Job gradients are summed into one accumulator in a fixed job order with float32
 * adds, so the sum is the same whichever thread computed which job.
 */
import * as tf from "@tensorflow/tfjs"
import { addInto, copyInto } from "../backend/TensorValues.js"
import type { Gpt } from "../model/Gpt.js"
import { causalLmLoss, countTargets, type TokenBatch } from "./Loss.js"

export interface Trainable {
  readonly key: string
  readonly variable: tf.Variable
}

/** Rows to differentiate, with the seed of their dropout masks. */
export interface GradientJob {
  readonly batch: TokenBatch
  readonly seed: number
}

/** A running sum of losses and gradients (by trainable key). */
export interface GradientSum {
  loss: number
  readonly grads: Map<string, Float32Array>
}

export const emptySum = (): GradientSum => ({ loss: 0, grads: new Map() })

/** Compute one job's loss and gradients and add them to `into`; a job without targets adds nothing. */
export const addJobGradients = (
  model: Gpt,
  trainables: ReadonlyArray<Trainable>,
  job: GradientJob,
  normaliser: number,
  into: GradientSum
): void => {
  if (countTargets(job.batch) === 0) return
  const vars = trainables.map((t) => t.variable)
  const { value, grads } = tf.variableGrads(
    () => causalLmLoss(model, job.batch, normaliser, { training: true, seed: job.seed })!,
    vars
  )
  into.loss += value.dataSync()[0]!
  for (const t of trainables) {
    const tensor = grads[t.variable.name]
    if (tensor === undefined || tensor === null) continue
    const acc = into.grads.get(t.key)
    if (acc !== undefined) addInto(tensor, acc)
    else {
      const values = new Float32Array(tensor.size)
      copyInto(tensor, values)
      into.grads.set(t.key, values)
    }
  }
  tf.dispose([value, ...Object.values(grads)])
}

/** into ← into + next (a sum computed elsewhere), with the same float32 adds as addJobGradients. */
export const addSum = (into: GradientSum, next: GradientSum): void => {
  into.loss += next.loss
  for (const [key, g] of next.grads) {
    const acc = into.grads.get(key)
    if (acc === undefined) into.grads.set(key, g)
    else for (let i = 0; i < acc.length; i++) acc[i]! += g[i]!
  }
}

/**
 * Loss and summed gradients of one optimiser step over its micro-batches, on this thread.
 * `seedOf(j)` seeds the dropout of micro-batch j.
 */
export const batchGradients = (
  model: Gpt,
  trainables: ReadonlyArray<Trainable>,
  micro: ReadonlyArray<TokenBatch>,
  seedOf: (microBatch: number) => number
): GradientSum => {
  const normaliser = micro.reduce((n, b) => n + countTargets(b), 0)
  const total = emptySum()
  micro.forEach((batch, j) => addJobGradients(model, trainables, { batch, seed: seedOf(j) }, normaliser, total))
  return total
}
