import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { selectBackend } from "../../../src/ml/backend/Backend.js"
import { Gpt } from "../../../src/ml/model/Gpt.js"
import { gptConfig } from "../../../src/ml/model/GptConfig.js"
import { applyLora, loadLoraAdapter, mergeLora, removeLora, saveLoraAdapter, type Lora } from "../../../src/ml/model/Lora.js"
import { Rng } from "../../../src/ml/model/Random.js"
import { readSafetensors, writeSafetensors } from "../../../src/ml/model/Safetensors.js"

const config = gptConfig({ vocabSize: 30, nEmbd: 16, nLayer: 2, nHead: 2, nPositions: 8, initializerRange: 0.2 })
const ids = Int32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16])
let dir: string

beforeAll(async () => {
  await selectBackend("wasm")
  dir = mkdtempSync(join(tmpdir(), "cairn-lora-"))
})
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const logitsOf = (model: Gpt) => {
  const t = model.forward(ids, 2, 8)
  const values = Float32Array.from(t.dataSync())
  t.dispose()
  return values
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!))
  return m
}

/** Give every B a random value so the adapters actually change the output. */
const randomiseB = (lora: Lora, seed: number) => {
  const rng = Rng.seeded(seed)
  for (const v of lora.variables()) {
    if (!v.name.endsWith(".B")) continue
    const t = tf.tensor(Float32Array.from({ length: v.size }, () => rng.normal() * 0.3), v.shape)
    v.assign(t)
    t.dispose()
  }
}

describe("LoRA", () => {
  it("starts equal to the base model, freezes the base and trains only A and B", () => {
    const model = Gpt.create(config, 1)
    const base = logitsOf(model)
    const lora = applyLora(model, { r: 4, alpha: 8, targetModules: ["q", "v", "o", "c_fc", "c_proj"], seed: 2 })
    expect(Array.from(logitsOf(model))).toEqual(Array.from(base))
    expect([...model.weights.values()].every((w) => !w.trainable)).toBe(true)
    expect(model.trainableVariables()).toEqual([])
    // per layer: q, v on c_attn + o + c_fc + c_proj = 5 slices, A and B each.
    expect(lora.variables().length).toBe(2 * 5 * 2)
    const A = lora.slices.get("transformer.h.0.attn.c_attn")!
    expect(A.map((s) => [s.target, s.outOffset, s.outSize])).toEqual([["q", 0, 16], ["v", 32, 16]])
    expect(A[0]!.a.shape).toEqual([16, 4])
    expect(Math.max(...Array.from(A[0]!.a.dataSync(), Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(16))

    const before = model.snapshot()
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(model.forward(ids, 2, 8))) as tf.Scalar, lora.variables())
    expect(Object.keys(grads).sort()).toEqual(lora.variables().map((v) => v.name).sort())
    // With B = 0 only B receives gradient; A's gradient is exactly 0.
    const gA = grads[A[0]!.a.name]!
    const gB = grads[A[0]!.b.name]!
    expect(tf.max(tf.abs(gA)).dataSync()[0]).toBe(0)
    expect(tf.max(tf.abs(gB)).dataSync()[0]).toBeGreaterThan(0)
    tf.dispose([value, ...Object.values(grads)])
    for (const [name, v] of model.snapshot()) expect(v).toEqual(before.get(name))
    removeLora(model, lora)
    expect([...model.weights.values()].every((w) => w.trainable)).toBe(true)
    model.dispose()
  })

  it("merging folds the adapters into the weights without changing the logits", () => {
    const model = Gpt.create(config, 3)
    const lora = applyLora(model, { r: 2, alpha: 5, targetModules: ["q", "k", "v", "o", "c_fc", "c_proj"], seed: 4 })
    randomiseB(lora, 5)
    const adapted = logitsOf(model)
    expect(maxAbsDiff(adapted, (() => {
      const plain = Gpt.create(config, 3)
      const l = logitsOf(plain)
      plain.dispose()
      return l
    })())).toBeGreaterThan(1e-3)
    mergeLora(model, lora)
    expect(model.adapter).toBeUndefined()
    expect(maxAbsDiff(logitsOf(model), adapted)).toBeLessThan(1e-5)
    model.dispose()
  })

  it("exports the PEFT layout and loads it back to the same model", async () => {
    const model = Gpt.create(config, 6)
    const lora = applyLora(model, { r: 4, alpha: 16, dropout: 0.05, targetModules: ["q", "v", "c_fc"], seed: 7 })
    randomiseB(lora, 8)
    const adapted = logitsOf(model)
    const out = join(dir, "adapter")
    await saveLoraAdapter(lora, out, "fake-gpt2")
    const adapterConfig = JSON.parse(readFileSync(join(out, "adapter_config.json"), "utf8"))
    expect(adapterConfig).toMatchObject({
      peft_type: "LORA", r: 4, lora_alpha: 16, lora_dropout: 0.05, fan_in_fan_out: true,
      base_model_name_or_path: "fake-gpt2", target_modules: ["attn.c_attn", "mlp.c_fc"], task_type: "CAUSAL_LM",
      // q and v share c_attn: one rank-8 LoRA with alpha 32 keeps alpha/r = 4.
      rank_pattern: { "attn.c_attn": 8 }, alpha_pattern: { "attn.c_attn": 32 }
    })
    const file = readSafetensors(new Uint8Array(readFileSync(join(out, "adapter_model.safetensors"))))
    const shapes = Object.fromEntries([...file.tensors].map(([k, t]) => [k, t.shape]))
    expect(shapes["base_model.model.transformer.h.0.attn.c_attn.lora_A.weight"]).toEqual([8, 16])
    expect(shapes["base_model.model.transformer.h.0.attn.c_attn.lora_B.weight"]).toEqual([48, 8])
    expect(shapes["base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight"]).toEqual([4, 16])
    expect(shapes["base_model.model.transformer.h.1.mlp.c_fc.lora_B.weight"]).toEqual([64, 4])
    expect(Object.keys(shapes).length).toBe(2 * 2 * 2)
    // k's rows of the fused B are zero: the export is exactly q and v.
    const b = file.tensors.get("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight")!.data
    expect(b.subarray(16 * 8, 32 * 8).every((v) => v === 0)).toBe(true)

    const fresh = Gpt.create(config, 6)
    const loaded = await loadLoraAdapter(fresh, out)
    expect(loaded.options).toMatchObject({ r: 4, alpha: 16, dropout: 0.05, targetModules: ["q", "v", "c_fc"] })
    expect(maxAbsDiff(logitsOf(fresh), adapted)).toBeLessThan(1e-6)
    model.dispose()
    fresh.dispose()
  })

  it("loads a plain PEFT adapter on the whole c_attn (no cairn metadata)", async () => {
    const model = Gpt.create(config, 9)
    const rng = Rng.seeded(10)
    const r = 2
    const tensors = new Map<string, { shape: Array<number>; data: Float32Array }>()
    const deltas = new Map<string, Float32Array>()
    for (let l = 0; l < 2; l++) {
      const a = Float32Array.from({ length: r * 16 }, () => rng.normal() * 0.1)
      const bm = Float32Array.from({ length: 48 * r }, () => rng.normal() * 0.1)
      tensors.set(`base_model.model.transformer.h.${l}.attn.c_attn.lora_A.weight`, { shape: [r, 16], data: a })
      tensors.set(`base_model.model.transformer.h.${l}.attn.c_attn.lora_B.weight`, { shape: [48, r], data: bm })
      // ΔW (Conv1D [in, out]) = scale · (B·A)ᵀ, scale = alpha / r = 3.
      const delta = new Float32Array(16 * 48)
      for (let i = 0; i < 16; i++) for (let o = 0; o < 48; o++) {
        let s = 0
        for (let k = 0; k < r; k++) s += bm[o * r + k]! * a[k * 16 + i]!
        delta[i * 48 + o] = 3 * s
      }
      deltas.set(`transformer.h.${l}.attn.c_attn.weight`, delta)
    }
    const out = join(dir, "peft")
    mkdirSync(out, { recursive: true })
    writeFileSync(join(out, "adapter_model.safetensors"), writeSafetensors(tensors))
    writeFileSync(join(out, "adapter_config.json"), JSON.stringify({ peft_type: "LORA", r, lora_alpha: 6, lora_dropout: 0, target_modules: ["c_attn"], fan_in_fan_out: true }))
    const lora = await loadLoraAdapter(model, out)
    expect(lora.options.targetModules).toEqual(["c_attn"])
    const adapted = logitsOf(model)
    removeLora(model, lora)
    for (const [name, delta] of deltas) {
      const w = model.weight(name)
      const t = tf.tensor(delta, w.shape)
      w.assign(tf.add(w, t))
      t.dispose()
    }
    expect(maxAbsDiff(logitsOf(model), adapted)).toBeLessThan(1e-5)
    model.dispose()
  })
})
