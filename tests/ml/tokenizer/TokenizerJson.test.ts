import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import {
  type BpeTokenizer,
  DEFAULT_SPECIAL_TOKENS,
  InvalidTokenizerFile,
  loadTokenizerJson,
  MissingSpecialToken,
  saveTokenizerJson,
  serializeTokenizer,
  tokenizerConfigJson,
  trainBpe
} from "../../../src/ml/tokenizer/index.js"
import { syntheticCorpus } from "./SyntheticCorpus.js"

const FAKE_GPT2 = fileURLToPath(new URL("../../../../shared/data/models/fake-gpt2/", import.meta.url))

describe("tokenizer.json", () => {
  let dir: string
  let tokenizer: BpeTokenizer
  const text = syntheticCorpus(1000, 21).join("\n") + " 🦀 ไทย \u0000 <|endoftext|>"
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-tokenizer-"))
    tokenizer = trainBpe(syntheticCorpus(2000), { vocabSize: 700, specialTokens: DEFAULT_SPECIAL_TOKENS })
  })
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

  it("saves and loads back to identical ids and identical bytes", () => {
    const file = path.join(dir, "saved", "tokenizer.json")
    saveTokenizerJson(tokenizer, file)
    const loaded = loadTokenizerJson(file)
    assert.deepStrictEqual(loaded.encode(text), tokenizer.encode(text))
    assert.deepStrictEqual(loaded.encodeWithSpecial(text), tokenizer.encodeWithSpecial(text))
    assert.deepStrictEqual(loaded.specialTokens, tokenizer.specialTokens)
    assert.strictEqual(loaded.vocabSize, tokenizer.vocabSize)
    assert.strictEqual(serializeTokenizer(loaded), fs.readFileSync(file, "utf8"))
    // From the parsed object too.
    const fromObject = loadTokenizerJson(JSON.parse(fs.readFileSync(file, "utf8")))
    assert.deepStrictEqual(fromObject.encode(text), tokenizer.encode(text))
  })

  it("has the shape HF writes for GPT-2", () => {
    const ours = tokenizer.toJSON() as unknown as Record<string, unknown>
    const hf = JSON.parse(fs.readFileSync(path.join(FAKE_GPT2, "tokenizer.json"), "utf8"))
    assert.deepStrictEqual(Object.keys(ours), Object.keys(hf))
    for (const key of ["pre_tokenizer", "post_processor", "decoder", "normalizer", "truncation", "padding"]) {
      assert.deepStrictEqual(ours[key], hf[key], key)
    }
    const model = ours["model"] as Record<string, unknown>
    assert.deepStrictEqual(Object.keys(model), Object.keys(hf.model))
    assert.deepStrictEqual(Object.keys((ours["added_tokens"] as object[])[0]!), Object.keys(hf.added_tokens[0]))
    assert.deepStrictEqual(
      (ours["added_tokens"] as Array<{ content: string; special: boolean }>).map((t) => [t.content, t.special]),
      DEFAULT_SPECIAL_TOKENS.map((c) => [c, true])
    )
    // Every added token is in the model vocabulary with the same id, as in HF-trained files.
    for (const t of tokenizer.addedTokens) assert.strictEqual((model["vocab"] as Record<string, number>)[t.content], t.id)
  })

  it("accepts merges written as pairs (tokenizers >= 0.20)", () => {
    const json = tokenizer.toJSON()
    const pairs = { ...json, model: { ...json.model, merges: json.model.merges.map((m) => m.split(" ")) } }
    assert.deepStrictEqual(loadTokenizerJson(pairs).encode(text), tokenizer.encode(text))
  })

  it("rejects settings that would change ids instead of ignoring them", () => {
    const json = tokenizer.toJSON()
    const bad: Array<Record<string, unknown>> = [
      { ...json, normalizer: { type: "NFC" } },
      { ...json, pre_tokenizer: { ...json.pre_tokenizer, add_prefix_space: true } },
      { ...json, pre_tokenizer: { type: "Whitespace" } },
      { ...json, model: { ...json.model, type: "WordPiece" } },
      { ...json, model: { ...json.model, merges: ["a b c"] } },
      { ...json, model: { ...json.model, merges: ["Ġ zzz"] } }
    ]
    for (const b of bad) assert.throws(() => loadTokenizerJson(b), InvalidTokenizerFile)
    assert.throws(() => loadTokenizerJson(path.join(dir, "missing.json")), InvalidTokenizerFile)
  })

  it("finds special-token roles in a tokenizer_config.json beside the file", () => {
    const custom = trainBpe(syntheticCorpus(200), {
      vocabSize: 300,
      specialTokens: ["</s>", "<pad>"],
      roles: { eos: "</s>", pad: "<pad>" }
    })
    const sub = path.join(dir, "custom")
    saveTokenizerJson(custom, path.join(sub, "tokenizer.json"))
    // Without the config the conventional `<|endoftext|>` is looked for and is not there.
    assert.throws(() => loadTokenizerJson(path.join(sub, "tokenizer.json")), MissingSpecialToken)
    const config = tokenizerConfigJson(custom)
    assert.strictEqual(config["eos_token"], "</s>")
    assert.strictEqual(config["pad_token"], "<pad>")
    fs.writeFileSync(path.join(sub, "tokenizer_config.json"), JSON.stringify(config))
    assert.deepStrictEqual(loadTokenizerJson(path.join(sub, "tokenizer.json")).specialTokens, custom.specialTokens)
  })
})
