/**
 * Bootstrap intervals: reproducible per seed, sensitive to the seed, built
 * from sufficient statistics, and bracketing the point estimate.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import { bootstrapIntervals, percentile } from "../../../src/ml/eval/Bootstrap.js"
import { scoreTexts } from "../../../src/ml/eval/Score.js"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const pairs = (
  JSON.parse(readFileSync(path.resolve(repoRoot, "../shared/data/metric-reference.json"), "utf8")) as {
    pairs: Array<{ hyp: string; ref: string }>
  }
).pairs
const hyps = pairs.map((p) => p.hyp)
const refs = pairs.map((p) => p.ref)
const metrics = ["rouge", "bleu", "chrf", "squad", "exact"] as const

describe("bootstrap", () => {
  it("same seed → identical intervals; different seed → different ones", () => {
    const a = scoreTexts(hyps, refs, { metrics, bootstrap: { samples: 300, seed: 42 } })
    const b = scoreTexts(hyps, refs, { metrics, bootstrap: { samples: 300, seed: 42 } })
    const c = scoreTexts(hyps, refs, { metrics, bootstrap: { samples: 300, seed: 43 } })
    assert.deepStrictEqual(a.intervals, b.intervals)
    assert.notDeepEqual(a.intervals, c.intervals)
    assert.deepStrictEqual(a.corpus, c.corpus)
  })

  it("covers every corpus metric and contains the point estimate", () => {
    const r = scoreTexts(hyps, refs, { metrics, bootstrap: { samples: 500, seed: 7 } })
    assert.deepStrictEqual(Object.keys(r.intervals!).sort(), Object.keys(r.corpus).sort())
    for (const [metric, value] of Object.entries(r.corpus)) {
      const { low, high } = r.intervals![metric]!
      assert.ok(low <= value && value <= high, `${metric}: ${value} not in [${low}, ${high}]`)
      assert.ok(low < high, `${metric}: degenerate interval`)
    }
    assert.deepStrictEqual(r.bootstrap, { samples: 500, seed: 7, alpha: 0.05 })
    assert.strictEqual(r.signatures.bootstrap, "bs:500|seed:7|alpha:0.05|method:percentile|prng:mulberry32")
  })

  it("a wider confidence level gives a wider interval", () => {
    const at = (alpha: number) =>
      scoreTexts(hyps, refs, { metrics: ["bleu"], bootstrap: { samples: 400, seed: 1, alpha } }).intervals!.bleu!
    const narrow = at(0.2)
    const wide = at(0.01)
    assert.ok(wide.low <= narrow.low && narrow.high <= wide.high)
  })

  it("recomputes corpus BLEU from resampled statistics, not the mean of sentence BLEU", () => {
    // A perfect segment and an empty one: sentence BLEUs 100 and 0 (mean 50), corpus BLEU
    // 100·exp(1 − 8/6) from pooled counts. Resamples can only be {0,0} → 100, {1,1} → 0
    // or {0,1} → the corpus value, so a 95% interval spans [0, 100].
    const r = scoreTexts(["a b c d e f", ""], ["a b c d e f", "x y"], { metrics: ["bleu"], bootstrap: { samples: 200, seed: 3 } })
    const interval = r.intervals!.bleu!
    assert.ok(Math.abs(r.corpus.bleu! - 100 * Math.exp(1 - 8 / 6)) < 1e-9)
    assert.ok(Math.abs(interval.low) < 1e-9 && Math.abs(interval.high - 100) < 1e-9, JSON.stringify(interval))
  })

  it("percentile interpolates linearly like numpy", () => {
    assert.strictEqual(percentile([1, 2, 3, 4], 0.25), 1.75)
    assert.strictEqual(percentile([1, 2, 3, 4], 1), 4)
    assert.strictEqual(percentile([5], 0.5), 5)
  })

  it("rejects nonsense settings", () => {
    const stat = () => ({ x: 1 })
    assert.throws(() => bootstrapIntervals(3, { samples: 0, seed: 1 }, stat), RangeError)
    assert.throws(() => bootstrapIntervals(3, { samples: 10, seed: 1, alpha: 1 }, stat), RangeError)
    assert.throws(() => bootstrapIntervals(0, { samples: 10, seed: 1 }, stat), RangeError)
    assert.deepStrictEqual(bootstrapIntervals(3, { samples: 10, seed: 1 }, stat), { x: { low: 1, high: 1 } })
  })
})
