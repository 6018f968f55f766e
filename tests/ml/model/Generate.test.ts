import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { selectBackend } from "../../../src/ml/backend/Backend.js"
import { generate, pick } from "../../../src/ml/model/Generate.js"
import { Gpt } from "../../../src/ml/model/Gpt.js"
import { gptConfig } from "../../../src/ml/model/GptConfig.js"
import { Rng } from "../../../src/ml/model/Random.js"

let model: Gpt

beforeAll(async () => {
  await selectBackend("wasm")
  // A large init scale gives peaked, input-dependent distributions, so greedy paths are informative.
  model = Gpt.create(gptConfig({ vocabSize: 50, nEmbd: 32, nLayer: 2, nHead: 4, nPositions: 40, initializerRange: 0.3, eosTokenId: 49 }), 21)
})
afterAll(() => model.dispose())

describe("generation", () => {
  it("KV-cached greedy decoding equals recomputing the whole prefix", () => {
    for (const prompt of [[1, 2, 3], [7], [10, 11, 12, 13, 14, 15]]) {
      const cached = generate(model, prompt, { maxNewTokens: 20, eosTokenIds: [] })
      const uncached = generate(model, prompt, { maxNewTokens: 20, eosTokenIds: [], useCache: false })
      expect(cached.tokens).toEqual(uncached.tokens)
      expect(cached.tokens.length).toBe(20)
      expect(new Set(cached.tokens).size).toBeGreaterThan(1)
    }
  })

  it("cached logits match a full forward pass position by position", () => {
    const ids = [4, 8, 15, 16, 23, 42]
    const full = model.forward(Int32Array.from(ids), 1, ids.length)
    const cache = model.newCache()
    const first = model.decode(ids.slice(0, 4), cache)
    const rest = [model.decode([ids[4]!], cache), model.decode([ids[5]!], cache)]
    const stepwise = tf.concat([first, ...rest], 0)
    expect(tf.max(tf.abs(tf.sub(full, stepwise))).dataSync()[0]).toBeLessThan(1e-5)
    model.disposeCache(cache)
    tf.dispose([full, first, ...rest, stepwise])
  })

  it("seeded sampling is reproducible and the seed matters", () => {
    const options = { maxNewTokens: 15, temperature: 1.5, seed: 7, eosTokenIds: [] }
    const a = generate(model, [1, 2], options)
    const b = generate(model, [1, 2], options)
    const c = generate(model, [1, 2], { ...options, seed: 8 })
    expect(a.tokens).toEqual(b.tokens)
    expect(c.tokens).not.toEqual(a.tokens)
  })

  it("top-k and top-p restrict the candidates", () => {
    const logits = Float32Array.from([0.1, 3, 2.9, -1, 0])
    const rng = Rng.seeded(1)
    const k2 = new Set(Array.from({ length: 200 }, () => pick(logits, { temperature: 5, topK: 2 }, rng)))
    expect([...k2].sort()).toEqual([1, 2])
    const p = new Set(Array.from({ length: 200 }, () => pick(logits, { temperature: 1, topP: 0.01 }, rng)))
    expect([...p]).toEqual([1])
    expect(pick(logits, {}, rng)).toBe(1)
  })

  it("stops at eos, at a stop sequence (removed) and at a stop string", () => {
    const free = generate(model, [1, 2, 3], { maxNewTokens: 12, eosTokenIds: [] })
    const tokens = free.tokens
    const eosId = tokens[2]!
    const eos = generate(model, [1, 2, 3], { maxNewTokens: 12, eosTokenIds: [eosId] })
    expect(eos.finishReason).toBe("eos")
    expect(eos.tokens).toEqual(tokens.slice(0, tokens.indexOf(eosId)))
    const pair = [tokens[1]!, tokens[2]!]
    const at = tokens.findIndex((t, i) => t === pair[0] && tokens[i + 1] === pair[1])
    const stop = generate(model, [1, 2, 3], { maxNewTokens: 12, eosTokenIds: [], stopSequences: [pair] })
    expect(stop.finishReason).toBe("stop")
    expect(stop.tokens).toEqual(tokens.slice(0, at))
    const decode = (ids: ReadonlyArray<number>) => ids.map((i) => `<${i}>`).join("")
    const text = generate(model, [1, 2, 3], { maxNewTokens: 12, eosTokenIds: [], decode, stopStrings: [`<${tokens[1]}>`] })
    expect(text.finishReason).toBe("stop")
    expect(text.text).toBe(decode(tokens.slice(0, tokens.indexOf(tokens[1]!))))
    expect(generate(model, [1], { maxNewTokens: 3, eosTokenIds: [] }).finishReason).toBe("length")
  })

  it("leaves no tensors behind", () => {
    // The model keeps one causal mask for the last length it saw; start from a known length.
    model.forward(Int32Array.from([1]), 1, 1).dispose()
    const before = tf.memory().numTensors
    generate(model, [5, 6], { maxNewTokens: 10, temperature: 1, seed: 3, eosTokenIds: [] })
    generate(model, [5, 6], { maxNewTokens: 10, useCache: false, eosTokenIds: [] })
    model.forward(Int32Array.from([1]), 1, 1).dispose()
    expect(tf.memory().numTensors).toBe(before)
  })
})
