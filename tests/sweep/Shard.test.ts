import { Result } from "effect"
import { assert, describe, it } from "vitest"
import { foldJournal, gridTrials, inShard, parseShard, planResume, plannedTrials, shardOfTrial } from "../../src/sweep/index.js"
import { spec } from "./fixtures.js"

describe("--shard i/n", () => {
  it("parses i/n and rejects the rest", () => {
    const ok = parseShard("2/4")
    assert.isTrue(Result.isSuccess(ok) && ok.success.index === 2 && ok.success.count === 4)
    for (const bad of ["0/4", "5/4", "1/0", "2", "a/b", "-1/3", "1/2/3"]) {
      const r = parseShard(bad)
      assert.isTrue(Result.isFailure(r) && r.failure._tag === "ShardInvalid", bad)
    }
  })

  const grid = spec({
    method: "grid",
    parameters: { "tune.a": { values: [1, 2, 3, 4, 5, 6] }, "tune.b": { values: ["x", "y", "z"] }, "tune.c": { min: 1, max: 4 } }
  })
  const ids = gridTrials(grid).map((t) => t.id)

  it("puts every trial in exactly one shard, for several n", () => {
    for (const n of [1, 2, 3, 4, 5, 8]) {
      const seen = new Map<string, number>()
      for (let i = 1; i <= n; i++) {
        const plan = planResume(grid, new Map(), { now: 0, shard: { index: i, count: n } })
        assert.isAbove(plan.run.length, 0, `shard ${i}/${n} is not empty`)
        for (const t of plan.run) seen.set(t.id, (seen.get(t.id) ?? 0) + 1)
      }
      assert.strictEqual(seen.size, ids.length, `n=${n} covers all`)
      assert.isTrue([...seen.values()].every((c) => c === 1), `n=${n} disjoint`)
    }
  })

  it("splits evenly enough", () => {
    const many = Array.from({ length: 400 }, (_, i) => `t${i.toString(16).padStart(12, "0")}`)
    for (const n of [2, 3, 4]) {
      const sizes = Array.from({ length: n }, (_, k) => many.filter((id) => shardOfTrial(id, n) === k + 1).length)
      assert.isTrue(sizes.every((c) => Math.abs(c - 400 / n) < 0.25 * (400 / n)), `n=${n}: ${sizes}`)
    }
  })

  it("keeps every trial in its shard when the grid is extended", () => {
    const wider = spec({
      method: "grid",
      parameters: { "tune.a": { values: [1, 2, 3, 4, 5, 6, 7] }, "tune.b": { values: ["x", "y", "z"] }, "tune.c": { min: 1, max: 4 } }
    })
    const before = new Map(ids.map((id) => [id, shardOfTrial(id, 4)]))
    for (const t of gridTrials(wider)) {
      if (before.has(t.id)) assert.strictEqual(shardOfTrial(t.id, 4), before.get(t.id))
    }
    assert.isTrue(inShard(ids[0]!, undefined))
  })

  it("bayes shards split the start-up trials and leave TPE to one job", () => {
    const bayes = spec({ method: "bayes", run_cap: 20, tpe: { n_startup: 8 }, parameters: { "tune.x": { min: 0.5, max: 1.5 } } })
    const startup = plannedTrials(bayes).map((t) => t.id)
    const taken: Array<string> = []
    for (let i = 1; i <= 3; i++) {
      const plan = planResume(bayes, foldJournal([]), { now: 0, shard: { index: i, count: 3 } })
      assert.strictEqual(plan.sequential, 0)
      assert.isTrue(plan.sequentialNeedsSingleJob)
      taken.push(...plan.run.map((t) => t.id))
    }
    assert.sameMembers(taken, startup)
    const whole = planResume(bayes, foldJournal([]), { now: 0 })
    assert.strictEqual(whole.sequential, 12)
  })
})
