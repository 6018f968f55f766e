import { Result } from "effect"
import { assert, describe, it } from "vitest"
import { decodeSweep, decodeSweeps, parameterKeys } from "../../src/sweep/index.js"
import { issuesOf, spec } from "./fixtures.js"

const base = { stage: "tune", method: "random", run_cap: 4, metric: { name: "eval.rougeL", goal: "maximize" } }

describe("SweepSpec", () => {
  it("decodes the documented example", () => {
    const s = spec({
      method: "grid",
      parameters: {
        "tune.adapter.r": { values: [4, 8, 16] },
        "tune.warmup": { value: 10 },
        _: [{ "tune.batchSize": 8, "tune.gradAccum": 4 }, { "tune.batchSize": 32, "tune.gradAccum": 1 }]
      },
      metric: { name: "eval.rougeL", goal: "maximize" },
      run_cap: 24,
      seed: 7,
      early_terminate: { type: "hyperband", min_iter: 2, eta: 3 }
    })
    assert.strictEqual(s.method, "grid")
    assert.deepStrictEqual(s.parameters.map((p) => [p.key, p.distribution]), [
      ["tune.adapter.r", "categorical"],
      ["tune.warmup", "constant"]
    ])
    assert.strictEqual(s.group?.options.length, 2)
    assert.deepStrictEqual(s.earlyTerminate, { type: "hyperband", minIter: 2, eta: 3, strict: true })
    assert.deepStrictEqual(parameterKeys(s), ["tune.adapter.r", "tune.batchSize", "tune.gradAccum", "tune.warmup"])
  })

  it("infers distributions from keys as W&B does, and defaults q to 1", () => {
    const s = spec({
      ...base,
      parameters: {
        "tune.a": { values: [1] },
        "tune.b": { value: "x" },
        "tune.c": { min: 1, max: 5 },
        "tune.d": { min: 0.1, max: 0.5 },
        "tune.e": { distribution: "q_uniform", min: 0, max: 10 },
        "tune.f": { distribution: "q_log_uniform_values", min: 1, max: 100, q: 2 }
      }
    })
    assert.deepStrictEqual(s.parameters.map((p) => p.distribution), [
      "categorical",
      "constant",
      "int_uniform",
      "uniform",
      "q_uniform",
      "q_log_uniform_values"
    ])
    const e = s.parameters[4]!
    assert.strictEqual(e.distribution === "q_uniform" && e.q, 1)
  })

  it("names the sweep and the parameter in every error", () => {
    const issues = issuesOf({
      ...base,
      parameters: {
        "tune.lr": { distribution: "log_uniform_values", min: 1e-3, max: 1e-5 },
        "tune.wd": { distribution: "log_uniform_values", min: 0, max: 1 },
        "tune.r": { distribution: "int_uniform", min: 1.5, max: 4 },
        "tune.q": { distribution: "q_uniform", min: 0, max: 1, q: 0 },
        "tune.v": { values: [] },
        "tune.z": { distribution: "normal" },
        "tune.lrq": { distribution: "q_log_uniform_values", min: 1e-5, max: 1e-3 },
        "tune.u": { min: 0, max: 1, step: 2 },
        nodot: { values: [1] }
      }
    })
    assert.includeMembers(issues, [
      "sweeps.lr-search.parameters.tune.lr: min must be < max",
      "sweeps.lr-search.parameters.tune.wd: min must be > 0 for a log distribution",
      "sweeps.lr-search.parameters.tune.r: int_uniform needs integer min and max",
      "sweeps.lr-search.parameters.tune.q: q must be a number > 0",
      "sweeps.lr-search.parameters.tune.lrq: no multiple of q = 1 lies in [min, max]",
      "sweeps.lr-search.parameters.tune.v: values must be a non-empty list",
      "sweeps.lr-search.parameters.tune.u: unknown key step for distribution int_uniform",
      "sweeps.lr-search.parameters.nodot: key must be dotted: <stage>.<path into its with:>"
    ])
    assert.isTrue(issues.some((i) => i.startsWith("sweeps.lr-search.parameters.tune.z: unknown distribution")))
    const r = decodeSweep("lr-search", { ...base, parameters: { "tune.lr": { min: 2, max: 1 } } })
    assert.isTrue(Result.isFailure(r) && r.failure._tag === "SweepSpecInvalid" && r.failure.issues[0]!.parameter === "tune.lr")
  })

  it("rejects continuous distributions in a grid, like W&B", () => {
    const issues = issuesOf({
      ...base,
      method: "grid",
      parameters: {
        "tune.lr": { distribution: "log_uniform_values", min: 1e-5, max: 1e-3 },
        "tune.x": { min: 0.5, max: 1.5 },
        "tune.r": { min: 1, max: 3 },
        "tune.q": { distribution: "q_uniform", min: 0, max: 1, q: 0.25 }
      }
    })
    assert.deepStrictEqual(issues, [
      "sweeps.lr-search.parameters.tune.lr: log_uniform_values is continuous; grid search needs values, value, int_uniform or q_uniform",
      "sweeps.lr-search.parameters.tune.x: uniform is continuous; grid search needs values, value, int_uniform or q_uniform"
    ])
  })

  it("checks the rest of the spec", () => {
    assert.includeMembers(issuesOf({ stage: "", method: "bayes", parameters: {}, extra: 1, metric: { goal: "up" } }), [
      "sweeps.lr-search.extra: unknown key",
      "sweeps.lr-search.stage: required: the stage to vary",
      "sweeps.lr-search.parameters: required: a map with at least one parameter",
      "sweeps.lr-search.metric.name: required: the metric to optimise, e.g. eval.rougeL",
      "sweeps.lr-search.metric.goal: must be minimize or maximize",
      "sweeps.lr-search.run_cap: required for method bayes: without it the sweep never ends"
    ])
    assert.includeMembers(
      issuesOf({
        ...base,
        parameters: {
          "tune.a": { values: [1] },
          _: [{ "tune.b": 1, "tune.c": 2 }, { "tune.b": 3 }, { "tune.a": 1, "tune.c": 1 }]
        },
        early_terminate: { type: "asha", min_iter: 4, max_iter: 2, eta: 1 }
      }),
      [
        "sweeps.lr-search.parameters._[1]: keys [tune.b] differ from the first option's [tune.b,tune.c]",
        "sweeps.lr-search.parameters._: key tune.a is also a parameter of its own",
        "sweeps.lr-search.early_terminate.eta: must be a number > 1",
        "sweeps.lr-search.early_terminate.max_iter: must be > min_iter"
      ]
    )
    assert.deepStrictEqual(issuesOf({ ...base, parameters: { "tune.a": { values: [1] } }, early_terminate: { type: "hyperband" } }), [
      "sweeps.lr-search.early_terminate.min_iter: hyperband needs min_iter, or max_iter with s"
    ])
  })

  it("decodes a whole sweeps map and collects issues across sweeps", () => {
    const ok = decodeSweeps({ a: { ...base, parameters: { "tune.a": { values: [1] } } } })
    assert.isTrue(Result.isSuccess(ok) && ok.success.get("a")?.name === "a")
    const bad = decodeSweeps({ a: { ...base, parameters: {} }, b: { ...base, method: "nope", parameters: { "t.a": { value: 1 } } } })
    assert.isTrue(Result.isFailure(bad))
    if (Result.isFailure(bad)) {
      assert.deepStrictEqual([...new Set(bad.failure.issues.map((i) => i.sweep))], ["a", "b"])
      assert.include(bad.failure.message, "sweeps.b.method: must be one of grid, random, bayes")
    }
  })
})
