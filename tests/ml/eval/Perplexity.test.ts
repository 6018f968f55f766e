/**
 * Perplexity on the hand vectors of shared/data/metric-reference.md.
 */
import { assert, describe, it } from "vitest"
import { perplexity, PERPLEXITY_NOTE, textNll } from "../../../src/ml/eval/Perplexity.js"

const near = (actual: number, expected: number, what = "") =>
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what} got ${actual}, expected ${expected}`)

const fromProbs = (probs: Array<number>, group?: string) => textNll(probs.map(Math.log), group)

describe("perplexity", () => {
  it("one text with p = [0.5, 0.25, 0.125] → mean NLL 2 ln 2 → 4", () => {
    const r = perplexity([fromProbs([0.5, 0.25, 0.125])])
    near(r.meanNll, 2 * Math.LN2)
    near(r.perplexity, 4)
    near(r.meanPerplexity, 4)
  })

  it("A = [0.5, 0.5], B = [0.25]: token-weighted 2^(4/3) vs HF mean_perplexity 3", () => {
    const r = perplexity([fromProbs([0.5, 0.5], "A"), fromProbs([0.25], "B")])
    near(r.perplexity, 2.5198420997897464)
    near(r.meanPerplexity, 3)
    assert.strictEqual(r.tokens, 3)
    near(r.perText[0]!, 2)
    near(r.perText[1]!, 4)
    near(r.groups.A!.perplexity, 2)
    near(r.groups.B!.perplexity, 4)
    assert.strictEqual(r.groups.A!.texts, 1)
    assert.strictEqual(r.note, PERPLEXITY_NOTE)
    assert.match(r.note, /corpus-level, token-weighted/)
  })

  it("groups pool their tokens", () => {
    const r = perplexity([fromProbs([0.5, 0.5], "t"), fromProbs([0.25], "t"), fromProbs([0.5], "u")])
    near(r.groups.t!.perplexity, 2.5198420997897464)
    assert.deepStrictEqual(Object.keys(r.groups), ["t", "u"])
  })

  it("bootstrap interval is seeded and contains the estimate", () => {
    const texts = Array.from({ length: 30 }, (_, i) => fromProbs([0.5, 0.1 + (i % 7) / 10]))
    const a = perplexity(texts, { samples: 300, seed: 11 })
    const b = perplexity(texts, { samples: 300, seed: 11 })
    assert.deepStrictEqual(a.intervals, b.intervals)
    const { low, high } = a.intervals!.perplexity
    assert.ok(low <= a.perplexity && a.perplexity <= high)
  })

  it("a text without predicted tokens has no perplexity of its own", () => {
    const r = perplexity([fromProbs([]), fromProbs([0.5])])
    assert.ok(Number.isNaN(r.perText[0]!))
    near(r.meanPerplexity, 2)
    near(r.perplexity, 2)
  })
})
