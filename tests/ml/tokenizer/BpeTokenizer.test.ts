import { assert, beforeAll, describe, it } from "vitest"
import {
  type BpeTokenizer,
  COMPLETION_TOKEN,
  DEFAULT_SPECIAL_TOKENS,
  EOS_TOKEN,
  PROMPT_TOKEN,
  trainBpe,
  UnknownTokenId
} from "../../../src/ml/tokenizer/index.js"
import { syntheticCorpus } from "./SyntheticCorpus.js"

const TRICKY = [
  "",
  " ",
  "plain words and the model",
  "   many    spaces   \t\t tabs \n\n\n newlines \r\n crlf   ",
  "emoji 🎉👍🏽👨‍👩‍👧‍👦🏳️‍🌈🇯🇵 mixed🎉in",
  "never seen in training: ไทย ქართული 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ꙮ \u{1F9EA}",
  "controls \u0000\u0007\u001b[0m\u007f NBSP\u00a0ZWSP\u200bBOM\ufeffNEL\u0085",
  "contractions: don't DON'T we'll I'd've 's",
  "a".repeat(5000),
  " ".repeat(4000) + "end",
  "x\n".repeat(500)
]

describe("BpeTokenizer (trained)", () => {
  let tokenizer: BpeTokenizer
  beforeAll(() => {
    tokenizer = trainBpe(syntheticCorpus(3000), { vocabSize: 1000, specialTokens: DEFAULT_SPECIAL_TOKENS })
  })

  it("decode(encode(x)) === x for unicode, emoji, controls and whitespace", () => {
    for (const text of TRICKY) assert.strictEqual(tokenizer.decode(tokenizer.encode(text)), text, JSON.stringify(text.slice(0, 40)))
    const corpus = syntheticCorpus(500, 9).join("\n")
    assert.strictEqual(tokenizer.decode(tokenizer.encode(corpus)), corpus)
  })

  it("uses what it learned: frequent words become few tokens", () => {
    assert.isBelow(tokenizer.encode(" the model").length, 4)
    // Unseen scripts still encode, byte by byte.
    assert.strictEqual(tokenizer.encode("ไ").length, 3)
  })

  it("caches words without changing results, also past the cache bound", () => {
    const text = syntheticCorpus(200, 4).join(" ")
    assert.deepStrictEqual(tokenizer.encode(text), tokenizer.encode(text))
    const many = Array.from({ length: 120_000 }, (_, i) => `w${i}`).join(" ")
    assert.strictEqual(tokenizer.decode(tokenizer.encode(many)), many)
    assert.deepStrictEqual(tokenizer.encode(text), tokenizer.encode(text))
  })

  it("replaces invalid UTF-8 from cut characters with U+FFFD, like HF", () => {
    const ids = tokenizer.encode("🦀") // not in the corpus, so more than one token
    assert.isAbove(ids.length, 1)
    assert.strictEqual(tokenizer.decode(ids.slice(0, -1)), "\ufffd")
    // A lone surrogate is not encodable text: it arrives as U+FFFD.
    assert.strictEqual(tokenizer.decode(tokenizer.encode("a\ud800b")), "a\ufffdb")
  })

  it("throws on ids outside the vocabulary", () => {
    assert.throws(() => tokenizer.decode([tokenizer.vocabSize]), UnknownTokenId)
    assert.throws(() => tokenizer.decode([-1]), UnknownTokenId)
  })
})

describe("special tokens", () => {
  let tokenizer: BpeTokenizer
  let firstSpecial: number
  beforeAll(() => {
    // The corpus itself is full of the special strings: they must still never be learned.
    const corpus = syntheticCorpus(2000).map((line, i) => (i % 3 === 0 ? `${line}${EOS_TOKEN}${PROMPT_TOKEN}` : line))
    tokenizer = trainBpe(corpus, { vocabSize: 800, specialTokens: DEFAULT_SPECIAL_TOKENS })
    firstSpecial = tokenizer.addedTokens[0]!.id
  })

  it("are never produced from plain text", () => {
    const text = `a${EOS_TOKEN}b ${PROMPT_TOKEN}${COMPLETION_TOKEN} <|endoftext|>x <|pad|> <|`
    const ids = tokenizer.encode(text)
    assert.isTrue(ids.every((id) => id < firstSpecial))
    assert.strictEqual(tokenizer.decode(ids), text)
    const corpusIds = tokenizer.encode(syntheticCorpus(300, 11).join(EOS_TOKEN))
    assert.isTrue(corpusIds.every((id) => id < firstSpecial))
  })

  it("are recognised whole by encodeWithSpecial, never split", () => {
    const { eos, prompt, completion } = tokenizer.specialTokens
    const ids = tokenizer.encodeWithSpecial(`${PROMPT_TOKEN}hi there${COMPLETION_TOKEN}${EOS_TOKEN}`)
    assert.deepStrictEqual(ids, [prompt!, ...tokenizer.encode("hi there"), completion!, eos])
    const mixed = `a${EOS_TOKEN}b<|endoftext|${EOS_TOKEN}`
    assert.deepStrictEqual(tokenizer.encodeWithSpecial(mixed), [
      ...tokenizer.encode("a"),
      eos,
      ...tokenizer.encode("b<|endoftext|"),
      eos
    ])
    assert.strictEqual(tokenizer.decode(tokenizer.encodeWithSpecial(mixed)), mixed)
  })

  it("match the longest special string when one is a prefix of another", () => {
    const t = trainBpe(["x"], { vocabSize: 260, specialTokens: ["<|end|>", "<|end|>more", EOS_TOKEN] })
    const [end, endMore] = [t.tokenToId("<|end|>")!, t.tokenToId("<|end|>more")!]
    assert.deepStrictEqual(t.encodeWithSpecial("<|end|>more<|end|>"), [endMore, end])
  })

  it("can be dropped when decoding", () => {
    const ids = tokenizer.encodeWithSpecial(`${PROMPT_TOKEN}q${COMPLETION_TOKEN}answer${EOS_TOKEN}`)
    assert.strictEqual(tokenizer.decode(ids, { skipSpecialTokens: true }), "qanswer")
  })

  it("take a distinct pad token when there is one", () => {
    const t = trainBpe(["x"], { vocabSize: 260, specialTokens: [EOS_TOKEN, "<|pad|>"] })
    assert.deepStrictEqual(t.specialTokens, { eos: 256, pad: 257 })
  })
})
