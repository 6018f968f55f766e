import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { selectBackend } from "../../../src/ml/backend/Backend.js"
import { Gpt } from "../../../src/ml/model/Gpt.js"
import { gptConfig } from "../../../src/ml/model/GptConfig.js"
import { padRow, stackRows } from "../../../src/ml/train/Batches.js"
import { causalLmLoss, countTargets } from "../../../src/ml/train/Loss.js"
import { batchGradients } from "../../../src/ml/train/Gradients.js"

beforeAll(async () => {
  await selectBackend("wasm")
})

const config = gptConfig({ vocabSize: 20, nEmbd: 16, nLayer: 1, nHead: 2, nPositions: 10 })
const row = (ids: Array<number>, completionFrom: number) =>
  padRow({ ids, labelsMask: ids.map((_, i) => (i >= completionFrom ? 1 : 0)) }, { seqLen: 10, padId: 0 })

// Target counts 7, 1, 2, 4: very unequal on purpose.
const rows = [
  row([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 3),
  row([3, 4, 5], 2),
  row([7, 7, 8, 9], 2),
  row([11, 12, 13, 14, 15, 16], 2)
]

describe("causal LM loss", () => {
  it("counts only masked-in targets and matches a hand computation", () => {
    const model = Gpt.create(config, 1)
    const batch = stackRows([rows[1]!], 10)
    expect(countTargets(batch)).toBe(1)
    const loss = tf.tidy(() => causalLmLoss(model, batch, 1)!)
    // The single target is token 5 predicted at position 1.
    const logits = model.forward(batch.ids, 1, 10)
    const row1 = Array.from(logits.dataSync().subarray(20, 40))
    const lse = Math.log(row1.reduce((s, v) => s + Math.exp(v), 0))
    expect(loss.dataSync()[0]).toBeCloseTo(lse - row1[5]!, 5)
    tf.dispose([loss, logits])
    model.dispose()
  })

  it("accumulated micro-batch gradients equal the whole batch's token-mean gradient", () => {
    const model = Gpt.create(config, 2)
    const trainables = [...model.weights].map(([key, variable]) => ({ key, variable }))
    const whole = batchGradients(model, trainables, [stackRows(rows, 10)], () => 0)
    // Unequal split: 3 rows (10 targets) + 1 row (4 targets).
    const split = batchGradients(model, trainables, [stackRows(rows.slice(0, 3), 10), stackRows(rows.slice(3), 10)], () => 0)
    expect(split.loss).toBeCloseTo(whole.loss, 5)
    let worst = 0
    for (const [key, g] of whole.grads) {
      const s = split.grads.get(key)!
      const scale = Math.max(1e-6, ...Array.from(g, Math.abs))
      for (let i = 0; i < g.length; i++) worst = Math.max(worst, Math.abs(g[i]! - s[i]!) / scale)
    }
    expect(worst).toBeLessThan(1e-4)
    // A mean of micro-batch means weights the 4-token micro-batch like the 10-token one: different.
    const a = batchGradients(model, trainables, [stackRows(rows.slice(0, 3), 10)], () => 0)
    const b = batchGradients(model, trainables, [stackRows(rows.slice(3), 10)], () => 0)
    expect(Math.abs((a.loss + b.loss) / 2 - whole.loss)).toBeGreaterThan(1e-3)
    model.dispose()
  })
})
