import * as fs from "node:fs"
import { fileURLToPath } from "node:url"
import { encode as r50kEncode } from "gpt-tokenizer/encoding/r50k_base"
import { assert, beforeAll, describe, it } from "vitest"
import {
  type BpeTokenizer,
  loadGpt2Tokenizer,
  loadR50kTokenizer,
  loadTokenizerJson,
  splitWords
} from "../../../src/ml/tokenizer/index.js"
import { syntheticCorpus } from "./SyntheticCorpus.js"

/** The real GPT-2 vocab.json + merges.txt (from a tiny HF checkpoint), kept beside the repo. */
const FAKE_GPT2 = fileURLToPath(new URL("../../../../shared/data/models/fake-gpt2/", import.meta.url))

/** gpt-tokenizer's r50k_base, i.e. tiktoken's GPT-2, with special strings taken as plain text. */
const reference = (text: string): number[] => r50kEncode(text, { disallowedSpecial: new Set() })

const VARIED = [
  "Hello, world! This is GPT-2.",
  "I'm sure they'll've said it's John's, we're done, you'd agree; I'd've. 'S and 'LL are not contractions.",
  "  leading spaces,   inner   runs,\ttabs\t\tand\n\nnew lines\r\n  \n   trailing   ",
  " ".repeat(37) + "x" + "\n".repeat(9) + " \t \t ",
  "emoji: 🎉👍🏽👨‍👩‍👧‍👦🏳️‍🌈 ❤️ 🇫🇷 and text",
  "unicode: café naïve über straße Ångström ñ ﬁ ǅ",
  "日本語のテキスト、中文文本，한국어 텍스트",
  "Русский текст, ελληνικά, עברית, العربية, हिन्दी, ไทย",
  "combining: e\u0301 a\u0308 \u0915\u094d\u0937",
  "numbers 3.14159 1,000,000 ²³ ½ ٣٤٥ 0x1F 1e-9",
  "code: function f(x) { return x ** 2 }; // <tag attr=\"v\">&amp;</tag>",
  "controls \u0000\u0001\u001f\u007f and zero-width\u200b\u200djoin",
  "raw special strings: <|endoftext|> <|prompt|>",
  "a".repeat(3000) + " " + "ab".repeat(1500),
  "abcdefghijklmnopqrstuvwxyz".repeat(200)
]

describe("GPT-2 tokenizer", () => {
  let files: BpeTokenizer
  let fromRanks: BpeTokenizer
  beforeAll(async () => {
    files = loadGpt2Tokenizer(FAKE_GPT2)
    fromRanks = await loadR50kTokenizer()
  })

  it("vocab.json + merges.txt gives the same ids as gpt-tokenizer r50k_base", () => {
    for (const text of VARIED) assert.deepStrictEqual(files.encode(text), reference(text), JSON.stringify(text.slice(0, 60)))
  })

  it("matches gpt-tokenizer on a 350 kB corpus", () => {
    const text = syntheticCorpus(4_000, 5).join("\n")
    assert.deepStrictEqual(files.encode(text), reference(text))
  })

  it("rebuilds GPT-2's exact vocab.json and merges.txt from the r50k ranks", () => {
    const vocab = JSON.parse(fs.readFileSync(`${FAKE_GPT2}/vocab.json`, "utf8"))
    const merges = fs.readFileSync(`${FAKE_GPT2}/merges.txt`, "utf8").split("\n").slice(1).filter((l) => l !== "")
    const json = fromRanks.toJSON()
    assert.deepStrictEqual({ ...json.model.vocab }, vocab)
    assert.deepStrictEqual(json.model.merges, merges)
    assert.strictEqual(fromRanks.vocabSize, 50257)
    assert.deepStrictEqual(fromRanks.specialTokens, { eos: 50256, pad: 50256 })
    for (const text of VARIED) assert.deepStrictEqual(fromRanks.encode(text), files.encode(text))
  })

  it("the checkpoint's own tokenizer.json gives the same tokenizer", () => {
    const json = loadTokenizerJson(`${FAKE_GPT2}/tokenizer.json`)
    assert.deepStrictEqual(json.merges, files.merges)
    assert.strictEqual(json.vocabSize, 50257)
    assert.deepStrictEqual(json.specialTokens, { eos: 50256, pad: 50256 })
    for (const text of VARIED) assert.deepStrictEqual(json.encode(text), files.encode(text))
  })

  it("round-trips text and decodes like GPT-2", () => {
    for (const text of VARIED) assert.strictEqual(files.decode(files.encode(text)), text)
    assert.deepStrictEqual(files.encode("Hello world"), [15496, 995])
    assert.strictEqual(files.idToToken(995), "Ġworld")
    assert.strictEqual(files.tokenToId("Ġworld"), 995)
  })

  it("splits on Unicode White_Space like GPT-2's Python regex, not JavaScript's \\s", () => {
    // Expected values are what GPT-2's own pattern gives under Python's `regex` module. On
    // these two characters gpt-tokenizer (which uses JavaScript's \s) splits differently.
    assert.deepStrictEqual(splitWords("a \ufeffb"), ["a", " \ufeff", "b"])
    assert.deepStrictEqual(splitWords("x\u0085 y"), ["x", "\u0085", " y"])
    assert.deepStrictEqual(splitWords("a\u00a0 b\u3000c"), ["a", "\u00a0", " b", "\u3000", "c"])
    assert.deepStrictEqual(splitWords("tab\t\t x"), ["tab", "\t\t", " x"])
  })
})
