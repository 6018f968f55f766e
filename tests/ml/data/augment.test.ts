/**
 * Augmentation: WordNet lookups, each operation, reproducibility (same seed → same bytes,
 * different seed → different bytes), provenance meta, and the OpenAI-compatible endpoint path
 * against a local stub server.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { augmentRecords, type AugmentOptions } from "../../../src/ml/data/augment/Augment.js"
import { openWordNet } from "../../../src/ml/data/augment/WordNet.js"
import { randomDeletion, randomInsertion, randomSwap, synonymReplacement } from "../../../src/ml/data/augment/Eda.js"
import { charNoise } from "../../../src/ml/data/augment/CharNoise.js"
import { expandPrompt } from "../../../src/ml/data/augment/Templates.js"
import { chatCompletionsUrl } from "../../../src/ml/data/augment/ChatEndpoint.js"
import { seededRandom } from "../../../src/ml/data/SeededRandom.js"
import { toJsonl } from "../../../src/ml/data/Jsonl.js"
import type { DataRecord } from "../../../src/ml/data/DataRecord.js"

const wordnet = openWordNet()
afterAll(() => wordnet.close())

const off = { ratio: 0 }
const options = (overrides: Partial<AugmentOptions> = {}): AugmentOptions => ({
  seed: 1,
  fields: ["prompt"],
  synonym: { ...off, alpha: 0.2 },
  insert: { ...off, alpha: 0.1 },
  swap: { ...off, alpha: 0.1 },
  delete: { ...off, p: 0.2 },
  charNoise: { ...off, p: 0.1, kinds: ["neighbor", "omit", "transpose"] },
  template: { ...off, templates: ["Instruction: {prompt}", "Task:\n{prompt}"] },
  paraphrase: off,
  backTranslation: { ...off, pivotLanguage: "French" },
  endpoint: { temperature: 0, timeoutMs: 5000, concurrency: 2, onError: "fail" },
  reportExamples: 2,
  ...overrides
})

const records: Array<DataRecord> = [
  { id: "a", task: "t1", prompt: "Explain why the quick car needs good fuel.", completion: "Engines burn fuel.", source: "x" },
  { id: "b", task: "t1", prompt: "Write a short happy story about a small dog.", completion: "The dog ran.", source: "x", meta: { group: "b" } },
  { id: "c", task: "t2", prompt: "List three large cities in Europe.", completion: "Paris, Berlin, Rome.", source: "x" }
]

describe("WordNet", () => {
  it("finds synonyms from the shipped dictionary files, most common senses first", () => {
    expect(wordnet.synonyms("car")).toEqual(expect.arrayContaining(["auto", "automobile", "machine", "motorcar"]))
    expect(wordnet.synonyms("quickly")).toContain("rapidly")
    expect(wordnet.synonyms("zymurgy")).toEqual(["zymology"])
    expect(wordnet.synonyms("cars")).toEqual([]) // no stemming: only lemmas
    expect(wordnet.synonyms("qwertyuiop")).toEqual([])
  })
})

describe("operations", () => {
  const rng = () => seededRandom(5, "op")
  it("synonym replacement keeps punctuation and capitalisation and skips function words", () => {
    const out = synonymReplacement("Cars are fast. The car, however, is slow.", 0.5, rng(), wordnet)
    expect(out).not.toBe("Cars are fast. The car, however, is slow.")
    expect(out).toMatch(/^Cars are /) // "Cars" has no lemma, "are" is a function word
    expect(out).toMatch(/\.$/)
  })
  it("random insertion adds words, swap and deletion keep or drop them", () => {
    const text = "the small dog found a big bone"
    expect(randomInsertion(text, 0.3, rng(), wordnet).split(/\s+/).length).toBeGreaterThan(7)
    const swapped = randomSwap(text, 0.3, rng())
    expect(swapped.split(" ").sort()).toEqual(text.split(" ").sort())
    expect(swapped).not.toBe(text)
    const deleted = randomDeletion(text, 0.5, rng())
    expect(deleted.split(" ").length).toBeLessThan(7)
    expect(deleted.split(" ").length).toBeGreaterThan(0)
    expect(randomDeletion("one", 1, rng())).toBe("one")
  })
  it("character noise only touches letters", () => {
    const noisy = charNoise("Call 555-0100 at 9:30 today please", 0.5, ["neighbor", "omit", "transpose"], rng())
    expect(noisy).not.toBe("Call 555-0100 at 9:30 today please")
    expect(noisy).toContain("555-0100")
    expect(noisy).toContain("9:30")
  })
  it("template expansion wraps the prompt", () => {
    expect(["Instruction: Do it.", "Task:\nDo it."]).toContain(expandPrompt("Do it.", ["{prompt}", "Instruction: {prompt}", "Task:\n{prompt}"], rng()))
    expect(expandPrompt("Do it.", ["no placeholder"], rng())).toBe("Do it.")
  })
})

describe("augmentRecords", () => {
  const all = options({
    synonym: { ratio: 1, alpha: 0.2 },
    insert: { ratio: 0.5, alpha: 0.1 },
    swap: { ratio: 1, alpha: 0.2 },
    delete: { ratio: 1, p: 0.3 },
    charNoise: { ratio: 1, p: 0.1, kinds: ["neighbor", "omit", "transpose"] },
    template: { ratio: 2, templates: ["Instruction: {prompt}", "Task:\n{prompt}", "Please: {prompt}"] }
  })

  it("keeps originals first and tags variants with their source and operation", async () => {
    const r = await augmentRecords(records, all, { lexicon: wordnet })
    expect(r.records.filter((x) => x.meta?.["augmentedFrom"] === undefined).map((x) => x.id)).toEqual(["a", "b", "c"])
    expect(r.records[0]!.id).toBe("a")
    for (const v of r.records.filter((x) => x.meta?.["augmentedFrom"] !== undefined)) {
      const source = records.find((s) => s.id === v.meta!["augmentedFrom"])!
      expect(v.id.startsWith(`${source.id}+${String(v.meta!["augmentOp"])}`)).toBe(true)
      expect(v.completion).toBe(source.completion) // fields: prompt only
      expect(v.task).toBe(source.task)
      expect(v.prompt).not.toBe(source.prompt)
    }
    const b = r.records.filter((x) => x.meta?.["augmentedFrom"] === "b")
    expect(b.every((x) => x.meta?.["group"] === "b")).toBe(true) // meta of the source is carried over
    expect(r.report.byOp.template.produced + r.report.byOp.template.unchanged).toBe(6)
    expect(r.report.augmented).toBe(r.records.length - 3)
    expect(r.report.endpoint.status).toBe("not needed")
  })

  it("is reproducible: same seed gives the same bytes, another seed different ones", async () => {
    const one = toJsonl((await augmentRecords(records, all, { lexicon: wordnet })).records)
    const again = toJsonl((await augmentRecords(records, all, { lexicon: openWordNet() })).records)
    const other = toJsonl((await augmentRecords(records, { ...all, seed: 2 }, { lexicon: wordnet })).records)
    expect(again).toBe(one)
    expect(other).not.toBe(one)
  })

  it("does not depend on record order or on other operations", async () => {
    const swapOnly = options({ swap: { ratio: 1, alpha: 0.2 } })
    const forward = (await augmentRecords(records, swapOnly, { lexicon: wordnet })).records.filter((x) => x.meta?.["augmentOp"] === "swap")
    const reversed = (await augmentRecords([...records].reverse(), all, { lexicon: wordnet })).records.filter((x) => x.meta?.["augmentOp"] === "swap")
    expect(new Set(reversed.map((x) => x.prompt))).toEqual(new Set(forward.map((x) => x.prompt)))
  })

  it("treats a fractional ratio as a probability", async () => {
    const many: Array<DataRecord> = Array.from({ length: 400 }, (_, i) => ({ id: `m${i}`, task: "t", prompt: `alpha beta gamma delta ${i}`, completion: "x", source: "s" }))
    const r = await augmentRecords(many, options({ swap: { ratio: 0.25, alpha: 0.3 } }), { lexicon: wordnet })
    const made = r.report.byOp.swap.produced + r.report.byOp.swap.unchanged
    expect(made).toBeGreaterThan(70)
    expect(made).toBeLessThan(130)
  })

  it("skips paraphrase and back-translation with a note when no endpoint is configured", async () => {
    const r = await augmentRecords(records, options({ paraphrase: { ratio: 1 } }), { lexicon: wordnet })
    expect(r.records).toHaveLength(3)
    expect(r.report.endpoint.status).toBe("not configured")
    expect(r.report.endpoint.note).toContain("set endpoint.baseUrl and endpoint.model")
  })
})

describe("OpenAI-compatible endpoint", () => {
  let server: http.Server
  let baseUrl = ""
  const requests: Array<{ auth: string | undefined; body: { model: string; seed: number; temperature: number; messages: Array<{ role: string; content: string }> } }> = []
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = ""
      req.on("data", (c: Buffer) => (raw += c.toString()))
      req.on("end", () => {
        const body = JSON.parse(raw)
        requests.push({ auth: req.headers.authorization, body })
        if (req.url !== "/v1/chat/completions") {
          res.writeHead(404).end("not found")
          return
        }
        const user: string = body.messages[1].content
        const system: string = body.messages[0].content
        if (user.includes("FAIL")) {
          res.writeHead(500).end("boom")
          return
        }
        const content = system.includes("into French") ? `FR(${user})` : system.includes("into English") ? user.replace(/^FR\((.*)\)$/s, "$1 (back)") : `In other words: ${user}`
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ message: { role: "assistant", content } }] }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())))

  it("builds the chat completions URL from a root or a /v1 base", () => {
    expect(chatCompletionsUrl("http://h:8000")).toBe("http://h:8000/v1/chat/completions")
    expect(chatCompletionsUrl("http://h:8000/v1/")).toBe("http://h:8000/v1/chat/completions")
  })

  it("paraphrases and back-translates, sending model, seed, temperature and the key from the environment", async () => {
    const r = await augmentRecords(
      records.slice(0, 1),
      options({
        paraphrase: { ratio: 1 },
        backTranslation: { ratio: 1, pivotLanguage: "French" },
        endpoint: { baseUrl, model: "stub", apiKeyEnv: "STUB_KEY", temperature: 0, timeoutMs: 5000, concurrency: 2, onError: "fail" }
      }),
      { env: { STUB_KEY: "sekret" } }
    )
    expect(r.records.map((x) => [x.meta?.["augmentOp"], x.prompt])).toEqual([
      [undefined, "Explain why the quick car needs good fuel."],
      ["paraphrase", "In other words: Explain why the quick car needs good fuel."],
      ["backTranslation", "Explain why the quick car needs good fuel. (back)"]
    ])
    expect(r.report.endpoint.status).toBe("used")
    expect(requests.every((q) => q.auth === "Bearer sekret" && q.body.model === "stub" && q.body.seed === 1 && q.body.temperature === 0)).toBe(true)
  })

  it("fails on an endpoint error, or skips and counts it", async () => {
    const bad: Array<DataRecord> = [{ id: "f", task: "t", prompt: "please FAIL", completion: "x", source: "s" }]
    const config = { baseUrl, model: "stub", temperature: 0, timeoutMs: 5000, concurrency: 1 }
    await expect(augmentRecords(bad, options({ paraphrase: { ratio: 1 }, endpoint: { ...config, onError: "fail" } }))).rejects.toThrow(/HTTP 500 boom/)
    const r = await augmentRecords(bad, options({ paraphrase: { ratio: 1 }, endpoint: { ...config, onError: "skip" } }))
    expect(r.records).toHaveLength(1)
    expect(r.report.byOp.paraphrase.failed).toBe(1)
    expect(r.report.endpoint.errors[0]).toContain("HTTP 500")
  })
})
