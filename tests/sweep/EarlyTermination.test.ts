import { assert, describe, it } from "vitest"
import {
  type AshaSpec,
  ashaRungs,
  type HyperbandSpec,
  hyperbandBands,
  hyperbandThreshold,
  type MetricReport,
  shouldStop
} from "../../src/sweep/index.js"

/** Histories as W&B writes them: one metric per iteration, iterations 1..n. */
const histories = (runs: Record<string, ReadonlyArray<number>>): Map<string, ReadonlyArray<MetricReport>> =>
  new Map(Object.entries(runs).map(([id, ms]) => [id, ms.map((metric, i) => ({ iteration: i + 1, metric }))]))

const stopped = (spec: HyperbandSpec | AshaSpec, goal: "minimize" | "maximize", h: Map<string, ReadonlyArray<MetricReport>>, running: ReadonlyArray<string>) =>
  running.filter((id) => shouldStop(spec, goal, h, id).stop)

describe("hyperband (W&B hyperband_stopping)", () => {
  const minIter = (m: number, eta: number, strict = true): HyperbandSpec => ({ type: "hyperband", minIter: m, eta, strict })
  const maxIter = (m: number, s: number, eta: number, strict = true): HyperbandSpec => ({ type: "hyperband", maxIter: m, s, eta, strict })

  it("computes bands from min_iter·eta^k and from max_iter/eta^k", () => {
    assert.deepStrictEqual(hyperbandBands(minIter(3, 3), 100), [3, 9, 27, 81])
    assert.deepStrictEqual(hyperbandBands(minIter(2, 3), 20), [2, 6, 18])
    // Non-integer eta: trunc(30·1.5^k), as in W&B's test data.
    assert.deepStrictEqual(hyperbandBands(minIter(30, 1.5), 100), [30, 45, 67])
    assert.deepStrictEqual(hyperbandBands(maxIter(18, 2, 3), 100), [2, 6])
    assert.deepStrictEqual(hyperbandBands(maxIter(81, 3, 3), 100), [3, 9, 27])
    assert.deepStrictEqual(hyperbandBands(maxIter(5, 2, 2), 100), [1, 2])
  })

  it("takes the threshold at index ⌊n/eta⌋ of the band's sorted values", () => {
    const h = histories({ a: [10, 9], b: [10, 10], c: [10, 8, 8], d: [10, 7, 7], e: [10, 6, 6] })
    const spec = maxIter(5, 2, 2)
    // Band 1: five 10s → index ⌊5/2⌋ = 2 → 10. Band 2: [6,7,8,9,10] → index 2 → 8.
    assert.strictEqual(hyperbandThreshold(spec, "minimize", h, 1), 10)
    assert.strictEqual(hyperbandThreshold(spec, "minimize", h, 2), 8)
    // Band 3: [6, 7, 8] → index ⌊3/2⌋ = 1 → 7.
    assert.strictEqual(hyperbandThreshold(spec, "minimize", h, 3), 7)
    assert.strictEqual(hyperbandThreshold(spec, "minimize", h, 4), Infinity)
    // b's metric at band 2 is 10 > 8: stop. c is exactly at the threshold: continue.
    assert.deepStrictEqual(stopped(spec, "minimize", h, ["b", "c", "d"]), ["b"])
    assert.match(shouldStop(spec, "minimize", h, "b").reason ?? "", /band 2 is 10, worse than the band's threshold 8/)
  })

  it("max_iter 18, s 2: a flat run is stopped at band 2, an improving one is not", () => {
    const h = histories({ run: [10, 10, 10, 10], run2: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1] })
    // Band 2: [9, 10] → index ⌊2/3⌋ = 0 → 9; run has 10 > 9. Band 6: run2 alone, 5 → not worse.
    assert.deepStrictEqual(stopped(maxIter(18, 2, 3), "minimize", h, ["run", "run2"]), ["run"])
    assert.deepStrictEqual(stopped(maxIter(18, 2, 3), "minimize", histories({ run2: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1] }), ["run2"]), [])
  })

  it("min_iter 3, eta 3, for both goals", () => {
    const loss = histories({ run: [10, 10, 10, 10], run2: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1] })
    assert.deepStrictEqual(stopped(minIter(3, 3), "minimize", loss, ["run", "run2"]), ["run"])
    const acc = histories({ run: [10, 10, 10, 10], run2: [10, 11, 12, 13, 14, 15, 16, 17, 18, 19] })
    assert.deepStrictEqual(stopped(minIter(3, 3), "maximize", acc, ["run", "run2"]), ["run"])
  })

  it("strict judges the value at the band; non-strict the best value so far", () => {
    const h = histories({ run: [10, 10, 6], run2: [10, 9, 8, 7, 6, 5, 4, 3, 2, 1] })
    // Band 2 threshold is 9. run's value at band 2 is 10 (stop if strict) but its best is 6 (keep).
    assert.deepStrictEqual(stopped(maxIter(18, 2, 3, true), "minimize", h, ["run"]), ["run"])
    assert.deepStrictEqual(stopped(maxIter(18, 2, 3, false), "minimize", h, ["run"]), [])

    const runs = histories({ a: [10, 9], b: [10, 10], c: [10, 8, 8, 3], d: [10, 7, 7, 4], e: [10, 6, 6, 6] })
    // Bands [1, 3]; thresholds: band 1 → 10 (all equal), band 3 → [6,7,8][⌊3/3⌋] = 7.
    assert.deepStrictEqual(stopped(maxIter(9, 2, 3, true), "minimize", runs, ["b", "c", "d", "e"]), ["c"])
    assert.deepStrictEqual(stopped(maxIter(9, 2, 3, false), "minimize", runs, ["b", "c", "d", "e"]), [])
    const negated = histories({ a: [-10, -9], b: [-10, -10], c: [-10, -8, -8, -3], d: [-10, -7, -7, -4], e: [-10, -6, -6, -6] })
    // The same runs with the goal flipped and the signs flipped: the same verdicts.
    assert.deepStrictEqual(stopped(maxIter(9, 2, 3, true), "maximize", negated, ["b", "c", "d", "e"]), ["c"])
  })

  it("ignores non-finite metrics and trials before their first band", () => {
    const h = histories({ a: [5, NaN, NaN, NaN], b: [4, 3, 2, 1] })
    // a has one valid report: below band 2, so it is not judged; NaN never counts.
    assert.isFalse(shouldStop(minIter(2, 3), "minimize", h, "a").stop)
    assert.isFalse(shouldStop(minIter(2, 3), "minimize", h, "missing").stop)
  })
})

describe("ASHA", () => {
  const asha = (minIter: number, eta: number, maxIter?: number): AshaSpec => ({
    type: "asha",
    minIter,
    eta,
    ...(maxIter !== undefined ? { maxIter } : {})
  })

  it("places rungs at min_iter·eta^k below max_iter", () => {
    assert.deepStrictEqual(ashaRungs(asha(1, 3, 9), 100), [1, 3])
    assert.deepStrictEqual(ashaRungs(asha(2, 2), 20), [2, 4, 8, 16])
    assert.deepStrictEqual(ashaRungs(asha(2, 2, 16), 100), [2, 4, 8])
  })

  it("promotes only the top 1/eta at a rung", () => {
    const spec = asha(1, 3, 9)
    // The first trial at a rung always continues.
    assert.isFalse(shouldStop(spec, "minimize", histories({ a: [0.5] }), "a").stop)
    const h = histories({ a: [0.5], b: [0.4], c: [0.9], d: [0.6] })
    // Scores (higher is better) −0.9, −0.6, −0.5, −0.4: the 2/3 quantile is −0.5, so d (−0.6) stops.
    const d = shouldStop(spec, "minimize", h, "d")
    assert.isTrue(d.stop)
    assert.match(d.reason ?? "", /rung 1 .* top 1\/3 of 4 trials/)
    h.set("e", [{ iteration: 1, metric: 0.3 }])
    assert.isFalse(shouldStop(spec, "minimize", h, "e").stop)
    h.set("f", [{ iteration: 1, metric: 0.45 }])
    // Five values at rung 1: −0.9 −0.6 −0.5 −0.45 −0.4 −0.3 → pos 5·2/3 = 3.33 → cutoff −0.4483.
    assert.isTrue(shouldStop(spec, "minimize", h, "f").stop)
  })

  it("judges once per rung, when the trial reaches it", () => {
    const spec = asha(1, 3, 9)
    const h = histories({ a: [0.1, 0.1, 0.1], b: [0.2, 0.2, 0.2], c: [0.3, 0.3, 0.3], w: [0.9, 0.8] })
    // w passed rung 1 long ago (it was first); at iteration 2 there is no rung, so no verdict.
    assert.isFalse(shouldStop(spec, "minimize", h, "w").stop)
    // At iteration 3 it reaches rung 3 and is judged against everyone's value there.
    h.set("w", [...h.get("w")!, { iteration: 3, metric: 0.7 }])
    assert.isTrue(shouldStop(spec, "minimize", h, "w").stop)
    // Rungs are crossed by iteration, not by exact match: a report at 4 records rung 3.
    h.set("v", [{ iteration: 2, metric: 0.05 }, { iteration: 4, metric: 0.01 }])
    assert.isFalse(shouldStop(spec, "minimize", h, "v").stop)
  })

  it("works for maximize", () => {
    const h = histories({ a: [0.5], b: [0.6], c: [0.1], d: [0.4] })
    assert.isTrue(shouldStop(asha(1, 2), "maximize", h, "d").stop)
    assert.isFalse(shouldStop(asha(1, 2), "maximize", h, "b").stop)
  })
})
