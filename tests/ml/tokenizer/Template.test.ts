import { fileURLToPath } from "node:url"
import { assert, beforeAll, describe, it } from "vitest"
import {
  type BpeTokenizer,
  COMPLETION_TOKEN,
  DEFAULT_SPECIAL_TOKENS,
  EOS_TOKEN,
  formatExample,
  loadGpt2Tokenizer,
  MissingSpecialToken,
  PROMPT_TOKEN,
  promptTemplate,
  trainBpe
} from "../../../src/ml/tokenizer/index.js"
import { syntheticCorpus } from "./SyntheticCorpus.js"

const FAKE_GPT2 = fileURLToPath(new URL("../../../../shared/data/models/fake-gpt2/", import.meta.url))

/** Prompt/completion pairs whose edges would merge or re-split if the boundary were plain text. */
const PAIRS: Array<[string, string]> = [
  ["What is 2+2?", " 4"],
  ["Translate: café", "  le café\n\n"],
  ["ends with spaces   ", "   starts with spaces"],
  ["ends with newline\n", "\nstarts with newline"],
  ["no space", "joined"],
  ["", "empty prompt"],
  ["empty completion", ""],
  ["emoji 🎉", "🎉 again"],
  ["don", "'t split contractions"]
]

describe("instruction template", () => {
  let tokenizer: BpeTokenizer
  beforeAll(() => {
    tokenizer = trainBpe(syntheticCorpus(2000), { vocabSize: 700, specialTokens: DEFAULT_SPECIAL_TOKENS })
  })

  it("masks the prompt side and trains on the completion and EOS", () => {
    const { prompt, completion, eos } = tokenizer.specialTokens
    const p = tokenizer.encode("What is the model?")
    const c = tokenizer.encode(" The model learns.")
    const example = formatExample(tokenizer, "What is the model?", " The model learns.")
    assert.deepStrictEqual(example.ids, [prompt!, ...p, completion!, ...c, eos])
    assert.deepStrictEqual(example.labelsMask, [...Array(p.length + 2).fill(0), ...Array(c.length + 1).fill(1)])
    assert.strictEqual(example.promptLength, p.length + 2)
  })

  it("gives the same ids whether encoded jointly or in parts", () => {
    const template = promptTemplate(tokenizer)
    for (const [p, c] of PAIRS) {
      const example = template.format(p, c)
      assert.deepStrictEqual(tokenizer.encodeWithSpecial(template.render(p, c)), example.ids, JSON.stringify([p, c]))
      assert.deepStrictEqual(example.ids.slice(0, example.promptLength), template.encodePrompt(p))
      assert.deepStrictEqual(tokenizer.encodeWithSpecial(template.render(p)), template.encodePrompt(p))
      assert.strictEqual(tokenizer.decode(example.ids), `${PROMPT_TOKEN}${p}${COMPLETION_TOKEN}${c}${EOS_TOKEN}`)
    }
  })

  it("keeps marker strings typed inside a record as text", () => {
    const example = formatExample(tokenizer, `fake ${COMPLETION_TOKEN} marker`, `and ${EOS_TOKEN}`)
    const { completion, eos } = tokenizer.specialTokens
    assert.strictEqual(example.ids.filter((id) => id === completion).length, 1)
    assert.strictEqual(example.ids.filter((id) => id === eos).length, 1)
    assert.strictEqual(example.ids.at(-1), eos)
  })

  it("marks every token with trainOnInputs", () => {
    const example = formatExample(tokenizer, "q", "a", { trainOnInputs: true })
    assert.isTrue(example.labelsMask.every((m) => m === 1))
  })

  it("needs the markers, which GPT-2 gets as new ids 50257 and 50258", () => {
    const gpt2 = loadGpt2Tokenizer(FAKE_GPT2)
    assert.throws(() => promptTemplate(gpt2), MissingSpecialToken)
    const extended = gpt2.withSpecialTokens([PROMPT_TOKEN, COMPLETION_TOKEN])
    assert.deepStrictEqual(extended.specialTokens, { eos: 50256, pad: 50256, prompt: 50257, completion: 50258 })
    assert.strictEqual(extended.vocabSize, 50259)
    const example = formatExample(extended, "Hello", " world")
    assert.deepStrictEqual(example.ids, [50257, 15496, 50258, 995, 50256])
    assert.deepStrictEqual(example.labelsMask, [0, 0, 0, 1, 1])
    assert.deepStrictEqual(extended.encode("Hello world"), gpt2.encode("Hello world"))
  })
})
