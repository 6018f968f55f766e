/**
 * Each clean rule on its own, the report, and MinHash/LSH behaviour (estimate quality,
 * determinism, grouping).
 */
import { describe, expect, it } from "vitest"
import { cleanRecords, type CleanOptions } from "../../../src/ml/data/Clean.js"
import type { DataRecord } from "../../../src/ml/data/DataRecord.js"
import { normalizeText } from "../../../src/ml/data/TextNormalization.js"
import { luhn, scrubPii } from "../../../src/ml/data/Pii.js"
import { compileBlocklist, parseBlocklistFile } from "../../../src/ml/data/Blocklist.js"
import { tokenCounter } from "../../../src/ml/data/TokenCount.js"
import { findNearDuplicates, shingleHashes, signatures } from "../../../src/ml/data/MinHash.js"
import { seededRandom } from "../../../src/ml/data/SeededRandom.js"

const options = (overrides: Partial<CleanOptions> = {}): CleanOptions => ({
  normalize: true,
  length: { tokenPattern: "\\S+" },
  dedupe: { exact: true },
  nearDedupe: { enabled: false, shingleSize: 3, threshold: 0.8, numPerm: 128, bands: 16, seed: 0, action: "drop" },
  pii: { enabled: false, kinds: ["email", "ipv6", "ipv4", "credit_card", "phone"] },
  blocklist: { words: [], patterns: [] },
  reportExamples: 3,
  ...overrides
})

let n = 0
const rec = (prompt: string, completion = "ok", task = "t"): DataRecord => ({ id: `r${n++}`, task, prompt, completion, source: "test" })

describe("text normalisation", () => {
  it("applies NFC, strips control and invisible characters, and fixes spacing but not indentation", () => {
    expect(normalizeText("  Cafe\u0301\u00a0 time\r\nline2  \t\n\n\n\nend\u200b \u0007 x  y\n    indented  code")).toBe(
      "Café time\nline2\n\nend x y\n    indented code"
    )
    expect(normalizeText("a\u202Eevil\u202C b\u00ADc")).toBe("aevil bc")
    expect(normalizeText("👨\u200D👩\u200D👧")).toBe("👨\u200D👩\u200D👧") // ZWJ kept for emoji
  })

  it("counts normalised records and drops records left empty", () => {
    const r = cleanRecords([rec("a  b"), rec("\u200b\u0007 "), rec("fine")], options())
    expect(r.records.map((x) => x.prompt)).toEqual(["a b", "fine"])
    expect(r.report.modified.normalized).toBe(2)
    expect(r.report.dropped.empty).toBe(1)
  })
})

describe("PII scrubbing", () => {
  it.each([
    ["Mail john.doe+tag@example.co.uk now", "Mail [EMAIL] now"],
    ["host 192.168.1.10 up", "host [IPV4] up"],
    ["v6 2001:db8::8a2e:370:7334 and ::1", "v6 [IPV6] and [IPV6]"],
    ["card 4111 1111 1111 1111.", "card [CREDIT_CARD]."],
    ["amex 378282246310005", "amex [CREDIT_CARD]"],
    ["call +1 (555) 123-4567 or 555-123-4567", "call [PHONE] or [PHONE]"],
    ["uk +44 20 7946 0958", "uk [PHONE]"]
  ])("scrubs %j", (input, output) => expect(scrubPii(input).text).toBe(output))

  it.each([
    "dates 2024-08-20 and 1999-12-31",
    "math 3.14159 * 12.57 = 39.48 and 1000000",
    "not an address 10.0.0.256 or version 1.2.3.4.5",
    "a failing Luhn number 4111-1111-1111-1112",
    "code a::b and dead::beef and time 12:30:45",
    "ISBN 978-3-16-148410-0"
  ])("leaves %j alone", (input) => expect(scrubPii(input).text).toBe(input))

  it("implements Luhn", () => {
    expect(luhn("79927398713")).toBe(true)
    expect(luhn("79927398710")).toBe(false)
  })

  it("counts replacements per kind and honours the enabled kinds", () => {
    const r = cleanRecords([rec("a@b.io and 1.2.3.4", "mail c@d.org")], options({ pii: { enabled: true, kinds: ["email"] } }))
    expect(r.records[0]!.prompt).toBe("[EMAIL] and 1.2.3.4")
    expect(r.records[0]!.completion).toBe("mail [EMAIL]")
    expect(r.report.pii).toEqual({ email: 2 })
    expect(r.report.modified.piiScrubbed).toBe(1)
  })
})

describe("blocklist", () => {
  it("matches whole words case-insensitively, phrases across spaces, and regexes", () => {
    const match = compileBlocklist({ words: ["darn", "bad  word", "naïve"], patterns: ["lorem\\s+ipsum", "/^SECRET/"] })
    expect(match("Well DARN it")).toBe("DARN")
    expect(match("darnedest")).toBeUndefined()
    expect(match("a bad word here")).toBe("bad word")
    expect(match("so naïve")).toBe("naïve")
    expect(match("Lorem   ipsum")).toContain("lorem\\s+ipsum")
    expect(match("secret stuff")).toBeUndefined() // explicit flags: case-sensitive
    expect(match("SECRET stuff")).toContain("SECRET")
  })

  it("reads blocklist files and drops matching records with the entry in the report", () => {
    const spec = parseBlocklistFile("# comment\nfoo\n\nre: ba+r\n")
    expect(spec).toEqual({ words: ["foo"], patterns: ["ba+r"] })
    const r = cleanRecords([rec("has foo"), rec("baaar"), rec("clean")], options({ blocklist: spec }))
    expect(r.records.map((x) => x.prompt)).toEqual(["clean"])
    expect(r.report.dropped.blocklist).toBe(2)
    expect(r.report.examples.blocklist![0]!.detail).toBe("foo")
    expect(r.rejects.map((x) => x.meta?.["dropReason"])).toEqual(["blocklist", "blocklist"])
  })
})

describe("length filters", () => {
  it("filters by characters and by token count", () => {
    expect(tokenCounter()("one two  three\nfour")).toBe(4)
    expect(tokenCounter("\\w+|[^\\w\\s]")("Hi, you!")).toBe(4)
    expect(tokenCounter("x*")("abc")).toBe(0) // empty matches are not tokens and do not hang
    const records = [rec("a", "b"), rec("four words are here", "x"), rec("x".repeat(50), "y")]
    const chars = cleanRecords(records, options({ length: { minChars: 3, maxChars: 30, tokenPattern: "\\S+" } }))
    expect(chars.records.map((r) => r.prompt)).toEqual(["four words are here"])
    expect(chars.report.dropped).toMatchObject({ too_few_chars: 1, too_many_chars: 1 })
    const tokens = cleanRecords(records, options({ length: { minTokens: 3, maxTokens: 4, tokenPattern: "\\S+" } }))
    expect(tokens.report.dropped).toMatchObject({ too_few_tokens: 2, too_many_tokens: 1 })
  })
})

describe("exact dedupe", () => {
  it("drops repeats that differ only in case and spacing, naming the first", () => {
    const a = rec("What is  the capital of France?", "Paris")
    const b = rec("what is the capital of france?", "paris ")
    const r = cleanRecords([a, b, rec("Other", "x")], options())
    expect(r.records.map((x) => x.id)).toEqual([a.id, "r" + (n - 1)])
    expect(r.report.dropped.exact_duplicate).toBe(1)
    expect(r.rejects[0]!.meta).toMatchObject({ dropReason: "exact_duplicate", duplicateOf: a.id })
  })
})

describe("near dedupe (MinHash + LSH)", () => {
  const base = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat near the old red barn"
  const near = "the quick brown fox jumps over the lazy dog while the cat sleeps on the warm mat near the old red house"
  const other = "completely different sentence about training language models with careful data cleaning and evaluation"

  it("drops near-duplicates and records the kept record as their group", () => {
    const a = rec(base)
    const b = rec(near)
    const c = rec(other)
    const r = cleanRecords([a, b, c], options({ nearDedupe: { ...options().nearDedupe, enabled: true } }))
    expect(r.records.map((x) => x.id)).toEqual([a.id, c.id])
    expect(r.report.dropped.near_duplicate).toBe(1)
    expect(r.report.nearDuplicateGroups).toBe(1)
    expect(r.rejects[0]!.meta).toMatchObject({ dropReason: "near_duplicate", group: a.id })
  })

  it("with action group keeps them, tagging the whole group", () => {
    const a = rec(base)
    const b = rec(near)
    const c = rec(other)
    const r = cleanRecords([a, b, c], options({ nearDedupe: { ...options().nearDedupe, enabled: true, action: "group" } }))
    expect(r.records.map((x) => [x.id, x.meta?.["group"]])).toEqual([[a.id, a.id], [b.id, a.id], [c.id, undefined]])
  })

  it("estimates Jaccard similarity within a few points of the truth", () => {
    const rng = seededRandom(7)
    const vocab = Array.from({ length: 400 }, (_, i) => `w${i}`)
    let worst = 0
    for (let t = 0; t < 30; t++) {
      const words = Array.from({ length: 120 }, () => rng.pick(vocab))
      const changed = words.map((w) => (rng.chance(0.15) ? rng.pick(vocab) : w))
      const sa = new Set(shingleHashes(words.join(" "), 3))
      const sb = new Set(shingleHashes(changed.join(" "), 3))
      const truth = [...sa].filter((x) => sb.has(x)).length / new Set([...sa, ...sb]).size
      const sig = signatures([words.join(" "), changed.join(" ")], { shingleSize: 3, numPerm: 256, seed: 1 }).values
      let equal = 0
      for (let k = 0; k < 256; k++) if (sig[k] === sig[256 + k]) equal++
      worst = Math.max(worst, Math.abs(equal / 256 - truth))
    }
    expect(worst).toBeLessThan(0.1)
  })

  it("is deterministic for a seed and finds planted duplicates among many texts", () => {
    const rng = seededRandom(3)
    const vocab = Array.from({ length: 3000 }, (_, i) => `v${i}`)
    const texts: Array<string> = []
    for (let i = 0; i < 2000; i++) texts.push(Array.from({ length: 40 }, () => rng.pick(vocab)).join(" "))
    const planted: Array<[number, number]> = []
    for (let i = 0; i < 100; i++) {
      const src = rng.int(2000)
      const words = texts[src]!.split(" ")
      words[rng.int(40)] = "changed" // one word of 40: Jaccard of 3-shingles ≈ 0.86
      planted.push([src, texts.length])
      texts.push(words.join(" "))
    }
    const opts = { shingleSize: 3, numPerm: 128, bands: 16, threshold: 0.7, seed: 0 }
    const a = findNearDuplicates(texts, opts)
    expect(findNearDuplicates(texts, opts).duplicateOf).toEqual(a.duplicateOf)
    const found = planted.filter(([, dup]) => a.duplicateOf[dup] !== -1).length
    expect(found).toBeGreaterThanOrEqual(95)
    const falsePositives = a.duplicateOf.slice(0, 2000).filter((d) => d !== -1).length
    expect(falsePositives).toBe(0)
  })

  it("rejects a permutation count that bands do not divide", () => {
    expect(() => findNearDuplicates(["a b c"], { shingleSize: 3, numPerm: 100, bands: 16, threshold: 0.8, seed: 0 })).toThrow(/multiple of bands/)
  })
})

describe("report", () => {
  it("counts every reason (zeros included) and keeps a bounded number of examples", () => {
    const records = [rec("dup"), rec("dup"), rec("dup"), rec("dup"), rec("dup"), rec("keep me")]
    const r = cleanRecords(records, options({ reportExamples: 2 }))
    expect(r.report.input).toBe(6)
    expect(r.report.kept).toBe(2)
    expect(Object.keys(r.report.dropped)).toEqual([
      "empty", "blocklist", "too_few_chars", "too_many_chars", "too_few_tokens", "too_many_tokens", "exact_duplicate", "near_duplicate"
    ])
    expect(r.report.dropped.exact_duplicate).toBe(4)
    expect(r.report.examples.exact_duplicate).toHaveLength(2)
    expect(r.report.examples.exact_duplicate![0]).toMatchObject({ text: "dup => ok", detail: `duplicate of ${records[0]!.id}` })
  })
})

describe("token counting", () => {
  it("counts whitespace-separated words exactly like the \\S+ regex", () => {
    const rng = seededRandom(11)
    const pieces = ["a", "bc", " ", "  ", "\n", "\t", "\u00a0", "\u3000", "é", "🙂", ".", "\r\n", "\u2028"]
    const regex = tokenCounter("(?:\\S)+") // same tokens, forced through the regex path
    const fast = tokenCounter()
    for (let k = 0; k < 500; k++) {
      const text = Array.from({ length: rng.int(30) }, () => rng.pick(pieces)).join("")
      expect(fast(text)).toBe(regex(text))
    }
  })
})
