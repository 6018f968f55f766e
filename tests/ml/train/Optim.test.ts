import { describe, expect, it } from "vitest"
import { AdamW, clipByGlobalNorm } from "../../../src/ml/train/AdamW.js"
import { learningRate } from "../../../src/ml/train/Schedule.js"
import { epochCounts, epochOrder, epochRowCount, epochRows, packRows, padRow } from "../../../src/ml/train/Batches.js"
import { observeEvaluation, initialEarlyStopping, shouldStop } from "../../../src/ml/train/EarlyStopping.js"

describe("AdamW", () => {
  it("follows torch.optim.AdamW, with decay only where asked", () => {
    const opt = new AdamW([{ name: "w", size: 2, decay: true }, { name: "b", size: 1, decay: false }], { beta1: 0.9, beta2: 0.95, epsilon: 1e-8, weightDecay: 0.1 })
    const weights = new Map([["w", Float32Array.from([1, -2])], ["b", Float32Array.from([0.5])]])
    const grads = [[0.5, -1, 2], [0.25, 0.5, -1]]
    // Reference: the same recurrence in float64.
    const ref = { w: [1, -2], b: [0.5], m: [0, 0, 0], v: [0, 0, 0] }
    grads.forEach((g, t) => {
      const lr = 0.01
      opt.update(weights, new Map([["w", Float32Array.from(g.slice(0, 2))], ["b", Float32Array.from(g.slice(2))]]), lr)
      const p = [...ref.w, ...ref.b]
      g.forEach((gi, i) => {
        // Moments are stored as float32, like torch's state tensors.
        ref.m[i] = Math.fround(0.9 * ref.m[i]! + (1 - 0.9) * gi)
        ref.v[i] = Math.fround(0.95 * ref.v[i]! + (1 - 0.95) * gi * gi)
        const stepSize = lr / (1 - 0.9 ** (t + 1))
        const vh = ref.v[i]! / (1 - 0.95 ** (t + 1))
        p[i] = Math.fround(p[i]! * (i < 2 ? 1 - lr * 0.1 : 1) - (stepSize * ref.m[i]!) / (Math.sqrt(vh) + 1e-8))
      })
      ref.w = p.slice(0, 2)
      ref.b = p.slice(2)
    })
    expect(Array.from(weights.get("w")!)).toEqual(ref.w.map(Math.fround))
    expect(Array.from(weights.get("b")!)).toEqual(ref.b.map(Math.fround))
    expect(opt.step).toBe(2)
  })

  it("clips by global norm like clip_grad_norm_", () => {
    const grads = new Map([["a", Float32Array.from([3, 0])], ["b", Float32Array.from([4])]])
    expect(clipByGlobalNorm(grads, 1)).toBeCloseTo(5)
    expect(Array.from(grads.get("a")!)[0]).toBeCloseTo(0.6, 5)
    expect(Array.from(grads.get("b")!)[0]).toBeCloseTo(0.8, 5)
    const small = new Map([["a", Float32Array.from([0.1])]])
    clipByGlobalNorm(small, 1)
    expect(small.get("a")![0]).toBe(Math.fround(0.1))
  })
})

describe("learning-rate schedule", () => {
  it("warms up linearly, then decays towards the floor reached at totalSteps", () => {
    const s = { lr: 1, warmupSteps: 4, totalSteps: 14, minLrRatio: 0.1 }
    expect([0, 1, 2, 3].map((i) => learningRate({ ...s, kind: "cosine" }, i))).toEqual([0.25, 0.5, 0.75, 1])
    expect(learningRate({ ...s, kind: "cosine" }, 14)).toBeCloseTo(0.1)
    expect(learningRate({ ...s, kind: "cosine" }, 9)).toBeCloseTo(0.55)
    expect(learningRate({ ...s, kind: "cosine" }, 13)).toBeGreaterThan(0.1)
    expect(learningRate({ ...s, kind: "linear" }, 14)).toBeCloseTo(0.1)
    expect(learningRate({ ...s, kind: "linear" }, 9)).toBeCloseTo(0.55)
    expect(learningRate({ ...s, kind: "constant" }, 13)).toBe(1)
  })
})

describe("batches", () => {
  const ex = (n: number, start: number) => ({ ids: Array.from({ length: n }, (_, i) => start + i), labelsMask: Array.from({ length: n }, (_, i) => (i > 0 ? 1 : 0)) })
  const a = { name: "a", examples: Array.from({ length: 10 }, (_, i) => ex(3, i * 10)) }
  const b = { name: "b", examples: Array.from({ length: 4 }, (_, i) => ex(5, 1000 + i * 10)) }

  it("pads one example per row and packs a stream of examples into full rows", () => {
    const padded = padRow(ex(3, 7), { seqLen: 5, padId: 0 })
    expect(Array.from(padded.ids)).toEqual([7, 8, 9, 0, 0])
    expect(Array.from(padded.mask)).toEqual([0, 1, 1, 0, 0])
    expect(Array.from(padRow(ex(7, 1), { seqLen: 5, padId: 0 }).ids)).toEqual([1, 2, 3, 4, 5])
    const packed = packRows([ex(3, 1), ex(3, 10), ex(2, 20)], { seqLen: 4, padId: 0 })
    expect(packed.map((r) => Array.from(r.ids))).toEqual([[1, 2, 3, 10], [11, 12, 20, 21]])
    expect(packed.map((r) => Array.from(r.mask))).toEqual([[0, 1, 1, 0], [1, 1, 0, 1]])
  })

  it("mixes datasets by weight with exact counts and a seeded order", () => {
    expect(epochCounts([a, b])).toEqual([10, 4])
    expect(epochCounts([{ ...a, weight: 1 }, { ...b, weight: 1 }])).toEqual([7, 7])
    expect(epochCounts([{ ...a, weight: 3 }, { ...b, weight: 1 }])).toEqual([11, 3]) // 10.5 / 3.5, ties to the first
    const order = epochOrder([{ ...a, weight: 1 }, { ...b, weight: 1 }], 0, 5)
    expect(order.length).toBe(14)
    expect(order.filter(([d]) => d === 1).length).toBe(7)
    // b has 4 examples and contributes 7: one full shuffle plus 3 of the next.
    const fromB = order.filter(([d]) => d === 1).map(([, i]) => i)
    expect(new Set(fromB).size).toBe(4)
    expect(epochOrder([a, b], 0, 5)).toEqual(epochOrder([a, b], 0, 5))
    expect(epochOrder([a, b], 1, 5)).not.toEqual(epochOrder([a, b], 0, 5))
    expect(epochOrder([a, b], 0, 6)).not.toEqual(epochOrder([a, b], 0, 5))
  })

  it("predicts the row count of an epoch", () => {
    const options = { seqLen: 4, padId: 0, seed: 3 }
    for (const packing of [false, true]) {
      expect(epochRowCount([a, b], 2, { ...options, packing })).toBe(epochRows([a, b], 2, { ...options, packing }).length)
    }
    expect(epochRowCount([a, b], 0, { ...options, packing: true })).toBe(Math.ceil((10 * 3 + 4 * 5) / 4))
  })
})

describe("early stopping", () => {
  it("counts evaluations without an improvement beyond the threshold", () => {
    let s = initialEarlyStopping
    const seen: Array<boolean> = []
    for (const [step, loss] of [[1, 2.0], [2, 1.95], [3, 1.5], [4, 1.45], [5, 1.49]] as const) {
      const o = observeEvaluation(s, loss, step, 0.1)
      s = o.state
      seen.push(o.improved)
    }
    expect(seen).toEqual([true, false, true, false, false])
    expect(s).toEqual({ best: 1.5, bestStep: 3, bad: 2 })
    expect(shouldStop(s, 2)).toBe(true)
    expect(shouldStop(s, 3)).toBe(false)
  })
})
