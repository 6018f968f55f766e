import { assert, describe, it } from "vitest"
import { BYTE_ALPHABET, splitWords, toByteLevel } from "../../../src/ml/tokenizer/ByteLevel.js"
import {
  DEFAULT_SPECIAL_TOKENS,
  EOS_TOKEN,
  InvalidTrainOptions,
  serializeTokenizer,
  trainBpe
} from "../../../src/ml/tokenizer/index.js"
import { syntheticCorpus } from "./SyntheticCorpus.js"

/**
 * The textbook trainer: recount every pair over every word before each merge. Slow but plainly
 * right; the real trainer's incremental counts must pick the same merges.
 */
const referenceMerges = (texts: ReadonlyArray<string>, merges: number, minFrequency: number): string[] => {
  const counts = new Map<string, number>()
  for (const text of texts) for (const w of splitWords(text)) counts.set(w, (counts.get(w) ?? 0) + 1)
  const order = new Map(BYTE_ALPHABET.map((t, i) => [t, i]))
  const words = [...counts].map(([w, n]) => ({ symbols: [...toByteLevel(w)], n }))
  const out: string[] = []
  while (out.length < merges) {
    const pairs = new Map<string, { a: string; b: string; n: number }>()
    for (const { symbols, n } of words) {
      for (let i = 0; i + 1 < symbols.length; i++) {
        const key = symbols[i] + " " + symbols[i + 1]
        const entry = pairs.get(key) ?? { a: symbols[i]!, b: symbols[i + 1]!, n: 0 }
        entry.n += n
        pairs.set(key, entry)
      }
    }
    let best: { a: string; b: string; n: number } | undefined
    for (const p of pairs.values()) {
      if (best === undefined || p.n > best.n) best = p
      else if (p.n === best.n) {
        const [pa, pb, ba, bb] = [order.get(p.a)!, order.get(p.b)!, order.get(best.a)!, order.get(best.b)!]
        if (pa < ba || (pa === ba && pb < bb)) best = p
      }
    }
    if (best === undefined || best.n < minFrequency) break
    const merged = best.a + best.b
    if (!order.has(merged)) order.set(merged, order.size)
    out.push(`${best.a} ${best.b}`)
    for (const word of words) {
      const next: string[] = []
      for (let i = 0; i < word.symbols.length; i++) {
        if (i + 1 < word.symbols.length && word.symbols[i] === best.a && word.symbols[i + 1] === best.b) {
          next.push(merged)
          i++
        } else next.push(word.symbols[i]!)
      }
      word.symbols = next
    }
  }
  return out
}

describe("trainBpe", () => {
  const corpus = syntheticCorpus(3000)

  it("picks the same merges as a full recount per merge", () => {
    const small = syntheticCorpus(400, 7).concat(["aaaa aaaa aaa abab abab ababab", "  \t\t  \n\n\n  "])
    const tokenizer = trainBpe(small, { vocabSize: 256 + 150 + 1, specialTokens: [EOS_TOKEN], minFrequency: 2 })
    assert.deepStrictEqual(
      tokenizer.merges.map(([a, b]) => `${a} ${b}`),
      referenceMerges(small, 150, 2)
    )
  })

  it("gives a byte-identical tokenizer.json for the same corpus, in any order", () => {
    const options = { vocabSize: 1024, specialTokens: DEFAULT_SPECIAL_TOKENS }
    const first = serializeTokenizer(trainBpe(corpus, options))
    const again = serializeTokenizer(trainBpe(corpus, options))
    const reversed = serializeTokenizer(trainBpe([...corpus].reverse(), options))
    assert.strictEqual(again, first)
    assert.strictEqual(reversed, first)
    const other = serializeTokenizer(trainBpe(syntheticCorpus(3000, 2), options))
    assert.notStrictEqual(other, first)
  })

  it("lays out bytes, merges, then special tokens, and hits the asked size", () => {
    const tokenizer = trainBpe(corpus, { vocabSize: 600, specialTokens: DEFAULT_SPECIAL_TOKENS })
    assert.strictEqual(tokenizer.vocabSize, 600)
    assert.strictEqual(tokenizer.idToToken(0), "!")
    assert.strictEqual(tokenizer.idToToken(188), "Ā")
    assert.deepStrictEqual(
      tokenizer.addedTokens.map((t) => [t.id, t.content, t.special]),
      [[597, "<|endoftext|>", true], [598, "<|prompt|>", true], [599, "<|completion|>", true]]
    )
    assert.deepStrictEqual(tokenizer.specialTokens, { eos: 597, pad: 597, prompt: 598, completion: 599 })
    assert.strictEqual(tokenizer.merges.length, 600 - 256 - 3)
  })

  it("stops early when no pair reaches minFrequency", () => {
    const tokenizer = trainBpe(["ab ab cd"], { vocabSize: 1000, specialTokens: [EOS_TOKEN], minFrequency: 2 })
    // Pre-tokens "ab", " ab", " cd": only (a, b) occurs twice.
    assert.deepStrictEqual(tokenizer.merges, [["a", "b"]])
    assert.strictEqual(tokenizer.vocabSize, 256 + 1 + 1)
  })

  it("does not learn merges across special tokens in the corpus", () => {
    const tokenizer = trainBpe(["xy<|endoftext|>xy<|endoftext|>xy"], {
      vocabSize: 300,
      specialTokens: [EOS_TOKEN]
    })
    const learned = tokenizer.merges.map(([a, b]) => a + b)
    assert.deepStrictEqual(learned, ["xy"])
  })

  it("rejects impossible options", () => {
    assert.throws(() => trainBpe([], { vocabSize: 200, specialTokens: [EOS_TOKEN] }), InvalidTrainOptions)
    assert.throws(() => trainBpe([], { vocabSize: 300, specialTokens: [EOS_TOKEN, EOS_TOKEN] }), InvalidTrainOptions)
  })

  it("trains 2048 ids on ~1 MB in a few seconds", () => {
    const big = syntheticCorpus(12_000, 3)
    const started = performance.now()
    const tokenizer = trainBpe(big, { vocabSize: 2048, specialTokens: DEFAULT_SPECIAL_TOKENS })
    const seconds = (performance.now() - started) / 1000
    assert.strictEqual(tokenizer.vocabSize, 2048)
    assert.isBelow(seconds, 10)
  })
})
