import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { selectBackend } from "../../../src/ml/backend/Backend.js"
import { generate } from "../../../src/ml/model/Generate.js"
import { Gpt } from "../../../src/ml/model/Gpt.js"
import { gptConfig } from "../../../src/ml/model/GptConfig.js"
import { Rng } from "../../../src/ml/model/Random.js"
import type { Example } from "../../../src/ml/train/Batches.js"
import { evaluateExamples, train } from "../../../src/ml/train/Trainer.js"

let dir: string
beforeAll(async () => {
  await selectBackend("wasm")
  dir = mkdtempSync(join(tmpdir(), "cairn-train-"))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// Word reversal over a character vocabulary: "abc" SEP "cba" EOS, loss on the reversed part.
const PAD = 0
const SEP = 1
const EOS = 2
const letters = (w: string) => [...w].map((c) => 3 + c.charCodeAt(0) - 97)
const reversal = (w: string): Example => {
  const prompt = [...letters(w), SEP]
  const completion = [...letters([...w].reverse().join("")), EOS]
  return { ids: [...prompt, ...completion], labelsMask: [...prompt.map(() => 0), ...completion.map(() => 1)] }
}
const words = (n: number, seed: number) => {
  const rng = Rng.seeded(seed)
  const seen = new Set<string>()
  while (seen.size < n) {
    const len = 3 + rng.int(3)
    seen.add(Array.from({ length: len }, () => String.fromCharCode(97 + rng.int(26))).join(""))
  }
  return [...seen]
}

const randomExamples = (n: number, vocab: number, seed: number): Array<Example> => {
  const rng = Rng.seeded(seed)
  return Array.from({ length: n }, () => {
    const len = 4 + rng.int(8)
    const ids = Array.from({ length: len }, () => 1 + rng.int(vocab - 1))
    return { ids, labelsMask: ids.map((_, i) => (i > 1 ? 1 : 0)) }
  })
}

describe("training", () => {
  it("learns to reverse held-out words (loss far below unigram entropy, ≥ 90% exact match)", async () => {
    const all = words(4000, 42)
    const trainWords = all.slice(0, 3800)
    const heldOut = all.slice(3800)
    const examples = trainWords.map(reversal)
    // Unigram entropy of the completion tokens: what a model ignoring the input could reach.
    const counts = new Map<number, number>()
    let total = 0
    for (const e of examples) e.ids.forEach((id, i) => {
      if (e.labelsMask[i]) {
        counts.set(id, (counts.get(id) ?? 0) + 1)
        total++
      }
    })
    const unigram = -[...counts.values()].reduce((s, c) => s + (c / total) * Math.log(c / total), 0)

    const model = Gpt.create(gptConfig({ vocabSize: 29, nEmbd: 64, nLayer: 2, nHead: 4, nPositions: 16, eosTokenId: EOS, bosTokenId: EOS }), 7)
    const started = performance.now()
    const result = await train({
      model,
      datasets: [{ name: "reverse", examples }],
      validation: heldOut.slice(0, 100).map(reversal),
      seqLen: 16,
      padId: PAD,
      batchSize: 16,
      epochs: 3,
      lr: 3e-3,
      warmupSteps: 20,
      seed: 1,
      evalEvery: 200
    })
    const seconds = (performance.now() - started) / 1000
    let exact = 0
    for (const w of heldOut) {
      const g = generate(model, [...letters(w), SEP], { maxNewTokens: 6, eosTokenIds: [EOS] })
      if (g.finishReason === "eos" && g.tokens.join() === letters([...w].reverse().join("")).join()) exact++
    }
    expect(unigram).toBeGreaterThan(3)
    expect(result.lastEvalLoss!).toBeLessThan(0.1 * unigram)
    expect(exact / heldOut.length).toBeGreaterThanOrEqual(0.9)
    expect(result.steps).toBe(Math.ceil(3800 / 16) * 3)
    console.log(`reversal: ${seconds.toFixed(1)} s, ${result.steps} steps, eval loss ${result.lastEvalLoss!.toFixed(4)} (unigram ${unigram.toFixed(2)}), exact ${exact}/${heldOut.length}`)
    model.dispose()
    // ~25 s on two idle cores; the margin is for loaded CI machines.
  }, 180_000)

  it.each(["full", "lora"])("keeps the tensor count flat across 50 steps (%s)", async (variant) => {
    const model = Gpt.create(gptConfig({ vocabSize: 32, nEmbd: 32, nLayer: 2, nHead: 4, nPositions: 16, embdPdrop: 0.1, attnPdrop: 0.1, residPdrop: 0.1 }), 3)
    const counts: Array<number> = []
    await train({
      model,
      lora: variant === "lora" ? { r: 4, alpha: 8, dropout: 0.1, targetModules: ["q", "v", "o", "c_fc", "c_proj"] } : undefined,
      datasets: [{ name: "random", examples: randomExamples(400, 32, 5) }],
      validation: randomExamples(10, 32, 6),
      seqLen: 16,
      padId: 0,
      batchSize: 4,
      gradAccumSteps: 2,
      maxSteps: 50,
      lr: 1e-3,
      evalEvery: 10,
      onProgress: () => counts.push(tf.memory().numTensors)
    })
    expect(counts.length).toBe(50)
    expect(new Set(counts.slice(1))).toEqual(new Set([counts[1]]))
    model.dispose()
  })

  it("early stopping stops after `patience` bad evaluations and returns the best weights", async () => {
    const config = gptConfig({ vocabSize: 32, nEmbd: 16, nLayer: 1, nHead: 2, nPositions: 16 })
    const common = {
      datasets: [{ name: "random", examples: randomExamples(64, 32, 8) }],
      validation: randomExamples(8, 32, 9),
      seqLen: 16,
      padId: 0,
      batchSize: 4,
      lr: 1e-2,
      schedule: "constant" as const,
      seed: 4
    }
    const stopped = Gpt.create(config, 1)
    // A threshold nothing can beat: the first evaluation is the best, the next two are "bad".
    const result = await train({ ...common, model: stopped, maxSteps: 10, evalEvery: 1, earlyStopping: { patience: 2, threshold: 1e9 } })
    expect(result.stopReason).toBe("early_stopping")
    expect(result.steps).toBe(3)
    expect(result.bestStep).toBe(1)
    expect(result.restoredBest).toBe(true)
    const oneStep = Gpt.create(config, 1)
    await train({ ...common, model: oneStep, maxSteps: 1 })
    for (const [name, v] of oneStep.snapshot()) expect(stopped.snapshot().get(name), name).toEqual(v)
    stopped.dispose()
    oneStep.dispose()
  })

  it("writes metrics.jsonl per step, a summary, and reports progress", async () => {
    const model = Gpt.create(gptConfig({ vocabSize: 32, nEmbd: 16, nLayer: 1, nHead: 2, nPositions: 16 }), 1)
    const out = join(dir, "metrics")
    const progress: Array<{ step: number; loss: number | null; lr: number; tokensPerSec: number; evalLoss?: number }> = []
    const result = await train({
      model,
      datasets: [{ name: "a", examples: randomExamples(40, 32, 1) }, { name: "b", examples: randomExamples(10, 32, 2), weight: 1 }],
      validation: randomExamples(6, 32, 3),
      seqLen: 12,
      packing: true,
      padId: 0,
      batchSize: 4,
      epochs: 2,
      lr: 1e-3,
      warmupSteps: 2,
      evalEvery: 4,
      outputDir: out,
      onProgress: (p) => progress.push(p)
    })
    const lines = readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(lines.length).toBe(result.steps)
    expect(lines.map((l) => l.step)).toEqual(progress.map((p) => p.step))
    expect(lines[0]).toMatchObject({ step: 1, epoch: 0 })
    expect(Object.keys(lines[0]).sort()).toEqual(["epoch", "gradNorm", "loss", "lr", "step", "tokens", "tokensPerSec"])
    expect(lines.filter((l) => l.evalLoss !== undefined).map((l) => l.step)).toEqual(
      lines.map((l) => l.step).filter((s) => s % 4 === 0 || s === result.steps)
    )
    expect(progress.every((p) => p.loss !== null && p.loss > 0 && p.lr > 0 && p.tokensPerSec > 0)).toBe(true)
    // The last step's evaluation is what evaluateExamples reports for the final model.
    const validation = randomExamples(6, 32, 3)
    const evaluated = evaluateExamples(model, validation, { seqLen: 12, padId: 0, batchSize: 4 })
    expect(evaluated.loss).toBeCloseTo(result.lastEvalLoss!, 6)
    expect(evaluated.tokens).toBe(validation.reduce((n, e) => n + e.labelsMask.slice(1, 12).filter((m) => m === 1).length, 0))
    const summary = JSON.parse(readFileSync(join(out, "summary.json"), "utf8"))
    expect(summary).toMatchObject({ steps: result.steps, stopReason: "completed", resumedFrom: 0, lastEvalLoss: result.lastEvalLoss })
    expect(result.epochs).toBeCloseTo(2)
    model.dispose()
  })
})
