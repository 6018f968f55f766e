import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync, copyFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { selectBackend } from "../../../src/ml/backend/Backend.js"
import { setFusedKernels } from "../../../src/ml/backend/FusedKernels.js"
import { setGemmKernel } from "../../../src/ml/backend/internal/wasmHeap.js"
import { Gpt } from "../../../src/ml/model/Gpt.js"
import { gptConfig } from "../../../src/ml/model/GptConfig.js"
import { loadGpt, saveGpt } from "../../../src/ml/model/Pretrained.js"
import { readSafetensors, writeSafetensors } from "../../../src/ml/model/Safetensors.js"
import { naiveLogits } from "./NaiveGpt.js"

const fakeGpt2 = new URL("../../../../shared/data/models/fake-gpt2/", import.meta.url).pathname
let dir: string

beforeAll(async () => {
  await selectBackend("wasm")
  dir = mkdtempSync(join(tmpdir(), "cairn-gpt-"))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

const tiny = gptConfig({ vocabSize: 37, nEmbd: 16, nLayer: 2, nHead: 4, nPositions: 12, initializerRange: 0.2 })

describe("GPT-2 model", () => {
  it("a tiny random checkpoint written in HF layout loads back and computes the same logits", async () => {
    const model = Gpt.create(tiny, 3)
    const ids = Int32Array.from([1, 5, 9, 36, 0, 2, 2, 7])
    const before = model.forward(ids, 2, 4)
    await saveGpt(model, join(dir, "tiny"))
    const config = JSON.parse(readFileSync(join(dir, "tiny", "config.json"), "utf8"))
    expect(config).toMatchObject({ model_type: "gpt2", n_embd: 16, n_layer: 2, n_head: 4, n_positions: 12, vocab_size: 37, activation_function: "gelu_new", layer_norm_epsilon: 1e-5 })
    const names = [...readSafetensors(new Uint8Array(readFileSync(join(dir, "tiny", "model.safetensors")))).tensors.keys()]
    expect(names).toContain("transformer.h.1.attn.c_attn.weight")
    expect(names).toContain("transformer.ln_f.bias")
    expect(names.length).toBe(4 + 12 * 2)
    const loaded = await loadGpt(join(dir, "tiny"))
    const after = loaded.forward(ids, 2, 4)
    expect(after.shape).toEqual([8, 37])
    expect(Array.from(after.dataSync())).toEqual(Array.from(before.dataSync()))
    tf.dispose([before, after])
    model.dispose()
    loaded.dispose()
  })

  it("matches an independent float64 implementation of GPT-2", () => {
    const model = Gpt.create(tiny, 11)
    const ids = [3, 1, 4, 1, 5, 9, 2, 6]
    const logits = model.forward(Int32Array.from(ids), 1, ids.length)
    const expected = naiveLogits(tiny, model.snapshot(), ids).flat()
    expect(maxAbsDiff(logits.dataSync(), expected)).toBeLessThan(2e-5)
    logits.dispose()
    model.dispose()
  })

  it("loads the real fake-gpt2 checkpoint and produces finite logits matching the reference", async () => {
    const model = await loadGpt(fakeGpt2)
    expect(model.config).toMatchObject({ nEmbd: 2, nLayer: 1, nHead: 1, vocabSize: 50257, nPositions: 1024 })
    const ids = [464, 2068, 7586, 21831, 11687, 625, 262, 16931, 3290, 13]
    const logits = model.forward(Int32Array.from(ids), 1, ids.length)
    expect(logits.shape).toEqual([10, 50257])
    const values = logits.dataSync()
    expect(values.every(Number.isFinite)).toBe(true)
    const expected = naiveLogits(model.config, model.snapshot(), ids).flat()
    expect(maxAbsDiff(values, expected)).toBeLessThan(1e-4)
    logits.dispose()
    model.dispose()
  })

  it("accepts GPT2Model-style keys (no transformer. prefix) with attn.bias buffers and a tied lm_head", async () => {
    const original = readSafetensors(new Uint8Array(readFileSync(join(fakeGpt2, "model.safetensors"))))
    const renamed = new Map([...original.tensors].map(([k, v]) => [k.replace(/^transformer\./, ""), v]))
    renamed.set("h.0.attn.bias", { shape: [1, 1, 4, 4], data: new Float32Array(16).fill(1) })
    renamed.set("lm_head.weight", original.tensors.get("transformer.wte.weight")!)
    const target = join(dir, "unprefixed")
    mkdirSync(target, { recursive: true })
    writeFileSync(join(target, "model.safetensors"), writeSafetensors(renamed))
    copyFileSync(join(fakeGpt2, "config.json"), join(target, "config.json"))
    const a = await loadGpt(fakeGpt2)
    const b = await loadGpt(target)
    const ids = Int32Array.from([1, 2, 3])
    const [la, lb] = [a.forward(ids, 1, 3), b.forward(ids, 1, 3)]
    expect(Array.from(lb.dataSync())).toEqual(Array.from(la.dataSync()))
    tf.dispose([la, lb])
    a.dispose()
    b.dispose()
  })

  it("dispose releases every tensor the model and its adapter hold", async () => {
    const { applyLora } = await import("../../../src/ml/model/Lora.js")
    const before = tf.memory().numTensors
    const model = Gpt.create(tiny, 4)
    const lora = applyLora(model, { r: 2, alpha: 4, targetModules: ["q", "v"] })
    model.forward(Int32Array.from([1, 2, 3]), 1, 3).dispose()
    lora.dispose()
    model.dispose()
    expect(tf.memory().numTensors).toBe(before)
  })

  it("rejects configs it would silently mis-compute", async () => {
    const target = join(dir, "relu")
    mkdirSync(target, { recursive: true })
    const config = JSON.parse(readFileSync(join(fakeGpt2, "config.json"), "utf8"))
    writeFileSync(join(target, "config.json"), JSON.stringify({ ...config, activation_function: "relu" }))
    copyFileSync(join(fakeGpt2, "model.safetensors"), join(target, "model.safetensors"))
    await expect(loadGpt(target)).rejects.toThrow(/activation_function/)
  })

  it.each(["fma", "xnnpack"] as const)("fused wasm kernels (%s GEMM) match the stock-op reference in value and gradient, dropout included", (kernel) => {
    setGemmKernel(kernel)
    const config = gptConfig({ vocabSize: 40, nEmbd: 32, nLayer: 2, nHead: 4, nPositions: 16, embdPdrop: 0.1, attnPdrop: 0.1, residPdrop: 0.1 })
    const model = Gpt.create(config, 5)
    const ids = Int32Array.from({ length: 3 * 16 }, (_, i) => (i * 7 + 3) % 40)
    const weights = tf.linspace(-1, 1, 3 * 16 * 40).reshape([48, 40])
    const run = (fused: boolean) => {
      setFusedKernels(fused)
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.mul(model.forward(ids, 3, 16, { training: true, seed: 9 }), weights)) as tf.Scalar,
        model.trainableVariables()
      )
      const out = { value: value.dataSync()[0]!, grads: new Map(Object.entries(grads).map(([k, g]) => [k, g.dataSync()])) }
      tf.dispose([value, ...Object.values(grads)])
      return out
    }
    const fused = run(true)
    const reference = run(false)
    setFusedKernels(true)
    setGemmKernel("fma")
    expect(Math.abs(fused.value - reference.value)).toBeLessThan(1e-4 * Math.abs(reference.value) + 1e-4)
    for (const [name, g] of reference.grads) {
      const scale = Math.max(...Array.from(g, Math.abs), 1e-6)
      expect(maxAbsDiff(fused.grads.get(name)!, g) / scale, name).toBeLessThan(1e-4)
    }
    weights.dispose()
    model.dispose()
  })
})
