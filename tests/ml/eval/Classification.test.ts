/**
 * Classification scores on a case small enough to check by hand.
 */
import { assert, describe, it } from "vitest"
import { canonicalLabel, classificationReport } from "../../../src/ml/eval/Classification.js"

const near = (actual: number, expected: number, what = "") =>
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${what} got ${actual}, expected ${expected}`)

describe("classificationReport", () => {
  // gold: pos pos neg neg neu; predicted: pos neg neg neg pos
  //   neg: tp 2, predicted 3, support 2 → P 2/3, R 1,   F1 0.8
  //   neu: tp 0, predicted 0, support 1 → P 0,   R 0,   F1 0
  //   pos: tp 1, predicted 2, support 2 → P 1/2, R 1/2, F1 0.5
  const report = classificationReport(["pos", "neg", "neg", "neg", "pos"], ["pos", "pos", "neg", "neg", "neu"])

  it("per label", () => {
    assert.deepStrictEqual(report.labels, ["neg", "neu", "pos"])
    near(report.perLabel.neg!.precision, 2 / 3)
    near(report.perLabel.neg!.recall, 1)
    near(report.perLabel.neg!.f1, 0.8)
    assert.deepStrictEqual(report.perLabel.neu, { precision: 0, recall: 0, f1: 0, support: 1 })
    near(report.perLabel.pos!.f1, 0.5)
  })

  it("micro and macro", () => {
    near(report.micro.precision, 0.6)
    near(report.micro.recall, 0.6)
    near(report.micro.f1, 0.6)
    near(report.accuracy, 0.6)
    near(report.macro.precision, (2 / 3 + 0 + 0.5) / 3)
    near(report.macro.recall, 0.5)
    near(report.macro.f1, (0.8 + 0 + 0.5) / 3, "macro F1 is the mean of per-label F1")
  })

  it("maps raw generations to labels; unknown predictions only hurt recall", () => {
    const labelMap = { "positive.": "pos", Positive: "pos", negative: "neg" }
    assert.strictEqual(canonicalLabel("  Positive. ", labelMap), "pos")
    assert.strictEqual(canonicalLabel("NEGATIVE", labelMap), "neg")
    assert.strictEqual(canonicalLabel("banana", labelMap), "banana")
    const r = classificationReport(["Positive.", "banana"], ["pos", "neg"], { labelMap })
    near(r.micro.precision, 1)
    near(r.micro.recall, 0.5)
    near(r.micro.f1, 2 / 3)
    near(r.accuracy, 0.5)
  })

  it("bootstrap intervals are seeded and bracket the estimate", () => {
    const preds = Array.from({ length: 40 }, (_, i) => (i % 3 === 0 ? "a" : "b"))
    const golds = Array.from({ length: 40 }, (_, i) => (i % 4 === 0 ? "a" : "b"))
    const a = classificationReport(preds, golds, { bootstrap: { samples: 200, seed: 5 } })
    const b = classificationReport(preds, golds, { bootstrap: { samples: 200, seed: 5 } })
    assert.deepStrictEqual(a.intervals, b.intervals)
    assert.ok(a.intervals!.micro_f1.low <= a.micro.f1 && a.micro.f1 <= a.intervals!.micro_f1.high)
  })
})
