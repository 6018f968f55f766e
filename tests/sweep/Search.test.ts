import { assert, describe, it } from "vitest"
import { gridTrials, plannedTrials, randomTrial, suggest, type TrialResult } from "../../src/sweep/index.js"
import { spec } from "./fixtures.js"

const draws = (parameters: Record<string, unknown>, n: number, seed = 7) => {
  const s = spec({ method: "random", run_cap: n, seed, parameters })
  return plannedTrials(s).map((t) => t.params)
}
const column = (rows: ReadonlyArray<Record<string, unknown>>, key: string) => rows.map((r) => r[key] as number)

describe("random expansion of every distribution", () => {
  const N = 400

  it("is deterministic for a seed and differs across seeds", () => {
    const p = { "tune.lr": { distribution: "log_uniform_values", min: 1e-5, max: 1e-3 }, "tune.r": { values: [4, 8, 16] } }
    assert.deepStrictEqual(draws(p, 20, 7), draws(p, 20, 7))
    assert.notDeepEqual(draws(p, 20, 7), draws(p, 20, 8))
  })

  it("categorical draws every value, constant never varies", () => {
    const rows = draws({ "tune.r": { values: [4, 8, 16] }, "tune.k": { value: "lora" } }, N)
    assert.deepStrictEqual([...new Set(column(rows, "tune.r"))].sort((a, b) => a - b), [4, 8, 16])
    assert.isTrue(rows.every((r) => r["tune.k"] === "lora"))
  })

  it("uniform stays in [min, max] and spreads over it", () => {
    const xs = column(draws({ "tune.x": { distribution: "uniform", min: -1, max: 3 } }, N), "tune.x")
    assert.isTrue(xs.every((x) => x >= -1 && x <= 3))
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length
    assert.approximately(mean, 1, 0.25)
  })

  it("int_uniform draws integers including both bounds", () => {
    const xs = column(draws({ "tune.n": { min: 2, max: 5 } }, N), "tune.n")
    assert.isTrue(xs.every(Number.isInteger))
    assert.deepStrictEqual([...new Set(xs)].sort(), [2, 3, 4, 5])
  })

  it("log_uniform_values spreads evenly over decades", () => {
    const xs = column(draws({ "tune.lr": { distribution: "log_uniform_values", min: 1e-5, max: 1e-1 } }, N), "tune.lr")
    assert.isTrue(xs.every((x) => x >= 1e-5 && x <= 1e-1))
    // Four decades: each should hold about a quarter; a linear draw would put ~90% in the top one.
    for (let d = -5; d < -1; d++) {
      const share = xs.filter((x) => x >= 10 ** d && x < 10 ** (d + 1)).length / xs.length
      assert.approximately(share, 0.25, 0.08, `decade 1e${d}`)
    }
  })

  it("q_uniform rounds to multiples of q inside the bounds", () => {
    const xs = column(draws({ "tune.p": { distribution: "q_uniform", min: 0, max: 1, q: 0.1 } }, N), "tune.p")
    assert.isTrue(xs.every((x) => x >= 0 && x <= 1))
    assert.isTrue(xs.every((x) => Math.abs(x * 10 - Math.round(x * 10)) < 1e-9 && String(x).length <= 3), "no float noise")
    assert.strictEqual(new Set(xs).size, 11)
    // Default q is 1, and a bound that is not a multiple still keeps values inside.
    const ys = column(draws({ "tune.n": { distribution: "q_uniform", min: 0.5, max: 3.5 } }, N), "tune.n")
    assert.deepStrictEqual([...new Set(ys)].sort(), [1, 2, 3])
  })

  it("q_log_uniform_values rounds log-spread values to multiples of q", () => {
    const xs = column(
      draws({ "tune.h": { distribution: "q_log_uniform_values", min: 8, max: 1024, q: 8 } }, N),
      "tune.h"
    )
    assert.isTrue(xs.every((x) => x % 8 === 0 && x >= 8 && x <= 1024))
    assert.isAbove(xs.filter((x) => x <= 64).length / xs.length, 0.3, "log spread favours small values")
  })

  it("`_` picks one option per trial and keeps its keys together", () => {
    const rows = draws({
      "tune.lr": { value: 0.001 },
      _: [{ "tune.batchSize": 8, "tune.gradAccum": 4 }, { "tune.batchSize": 32, "tune.gradAccum": 1 }]
    }, 100)
    const pairs = new Set(rows.map((r) => `${r["tune.batchSize"]}x${r["tune.gradAccum"]}`))
    assert.deepStrictEqual([...pairs].sort(), ["32x1", "8x4"])
  })
})

describe("grid", () => {
  const grid = (parameters: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    gridTrials(spec({ method: "grid", parameters, ...extra }))

  it("is the cartesian product in sorted-key order, last key fastest", () => {
    const t = grid({
      "tune.r": { values: [4, 8] },
      "tune.a": { values: ["x", "y"] },
      _: [{ "tune.bs": 8, "tune.ga": 4 }, { "tune.bs": 32, "tune.ga": 1 }],
      "tune.k": { value: 1 }
    })
    // Factor order: "_" < "tune.a" < "tune.k" < "tune.r" (code-unit order).
    assert.deepStrictEqual(t.map((x) => `${x.params["tune.bs"]}/${x.params["tune.a"]}/${x.params["tune.r"]}`), [
      "8/x/4", "8/x/8", "8/y/4", "8/y/8", "32/x/4", "32/x/8", "32/y/4", "32/y/8"
    ])
    assert.isTrue(t.every((x) => x.params["tune.k"] === 1 && x.origin === "grid"))
    assert.deepStrictEqual(t.map((x) => x.index), [0, 1, 2, 3, 4, 5, 6, 7])
    assert.strictEqual(new Set(t.map((x) => x.id)).size, 8)
    assert.deepStrictEqual(Object.keys(t[0]!.params), ["tune.a", "tune.bs", "tune.ga", "tune.k", "tune.r"])
  })

  it("enumerates int_uniform and q_uniform, and honours run_cap", () => {
    const t = grid({ "tune.n": { min: 1, max: 3 }, "tune.p": { distribution: "q_uniform", min: 0, max: 0.5, q: 0.25 } })
    assert.deepStrictEqual(t.map((x) => [x.params["tune.n"], x.params["tune.p"]]), [
      [1, 0], [1, 0.25], [1, 0.5], [2, 0], [2, 0.25], [2, 0.5], [3, 0], [3, 0.25], [3, 0.5]
    ])
    assert.strictEqual(grid({ "tune.n": { min: 1, max: 3 } }, { run_cap: 2 }).length, 2)
  })

  it("keeps ids when values are added, so only new points are new", () => {
    const before = grid({ "tune.r": { values: [4, 8] }, "tune.a": { values: ["x"] } })
    const after = grid({ "tune.r": { values: [4, 8, 16] }, "tune.a": { values: ["x", "y"] } })
    const old = new Set(before.map((t) => t.id))
    assert.isTrue(before.every((t) => after.some((u) => u.id === t.id)))
    assert.strictEqual(after.filter((t) => !old.has(t.id)).length, 4)
  })

  it("suggest returns the next unseen points", () => {
    const s = spec({ method: "grid", parameters: { "tune.r": { values: [1, 2, 3, 4] } } })
    const all = gridTrials(s)
    const history: Array<TrialResult> = [all[0]!, all[2]!].map((t) => ({ id: t.id, params: t.params, status: "finished" }))
    assert.deepStrictEqual(suggest(s, history, 5).map((t) => t.params["tune.r"]), [2, 4])
  })
})

describe("random and bayes trial lists", () => {
  const parameters = {
    "tune.lr": { distribution: "log_uniform_values", min: 1e-5, max: 1e-3 },
    "tune.r": { values: [4, 8, 16] }
  }

  it("raising run_cap keeps the first trials and adds new ones", () => {
    const five = plannedTrials(spec({ method: "random", run_cap: 5, seed: 3, parameters }))
    const eight = plannedTrials(spec({ method: "random", run_cap: 8, seed: 3, parameters }))
    assert.deepStrictEqual(eight.slice(0, 5), five)
    assert.strictEqual(new Set(eight.map((t) => t.id)).size, 8)
  })

  it("adding a parameter leaves the other parameters' draws unchanged", () => {
    const a = plannedTrials(spec({ method: "random", run_cap: 5, parameters }))
    const b = plannedTrials(spec({ method: "random", run_cap: 5, parameters: { ...parameters, "tune.d": { values: [0, 0.1] } } }))
    assert.deepStrictEqual(a.map((t) => t.params["tune.lr"]), b.map((t) => t.params["tune.lr"]))
  })

  it("bayes start-up trials are the random method's first draws", () => {
    const bayes = spec({ method: "bayes", run_cap: 20, seed: 5, parameters, tpe: { n_startup: 4 } })
    const random = spec({ method: "random", run_cap: 20, seed: 5, parameters })
    assert.deepStrictEqual(
      plannedTrials(bayes).map((t) => t.id),
      plannedTrials(random).slice(0, 4).map((t) => t.id)
    )
    assert.deepStrictEqual(randomTrial(bayes, 2).params, plannedTrials(random)[2]!.params)
  })

  it("bayes suggestions are deterministic, in bounds and respect run_cap", () => {
    const s = spec({ method: "bayes", run_cap: 8, seed: 5, parameters, tpe: { n_startup: 3 } })
    const history: Array<TrialResult> = []
    while (history.length < 10) {
      const next = suggest(s, history, 1)
      if (next.length === 0) break
      const t = next[0]!
      assert.deepStrictEqual(suggest(s, history, 1), next, "same inputs, same suggestion")
      assert.isTrue((t.params["tune.lr"] as number) >= 1e-5 && (t.params["tune.lr"] as number) <= 1e-3)
      assert.include([4, 8, 16], t.params["tune.r"])
      assert.strictEqual(t.origin, history.length < 3 ? "startup" : "tpe")
      history.push({ id: t.id, params: t.params, status: "finished", metric: Math.abs(Math.log10(t.params["tune.lr"] as number) + 4) })
    }
    assert.strictEqual(history.length, 8)
    assert.strictEqual(new Set(history.map((h) => h.id)).size, 8)
  })
})

describe("TPE", () => {
  // A 2-D quadratic bowl with one log-scale axis: optimum at lr = 1e-4, x = 0.3.
  const objective = (p: Record<string, unknown>) =>
    (Math.log10(p["tune.lr"] as number) + 4) ** 2 / 4 + ((p["tune.x"] as number) - 0.3) ** 2
  const parameters = {
    "tune.lr": { distribution: "log_uniform_values", min: 1e-7, max: 1e-1 },
    "tune.x": { distribution: "uniform", min: -2, max: 2.5 }
  }
  const bestOf = (method: "bayes" | "random", seed: number, budget: number) => {
    const s = spec({ method, seed, run_cap: budget, parameters })
    const history: Array<TrialResult> = []
    for (;;) {
      const [t] = suggest(s, history, 1)
      if (t === undefined) break
      history.push({ id: t.id, params: t.params, status: "finished", metric: objective(t.params) })
    }
    assert.strictEqual(history.length, budget)
    return Math.min(...history.map((h) => h.metric!))
  }

  it("beats random search with equal budgets in at least 7 of 10 seeds", () => {
    const seeds = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
    const wins = seeds.filter((seed) => bestOf("bayes", seed, 40) < bestOf("random", seed, 40)).length
    assert.isAtLeast(wins, 7)
  })
})
