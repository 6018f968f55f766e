import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import { bestTrial, foldJournal, summaryMarkdown, sweepShowJson, type TrialEvent, writeResults } from "../../src/sweep/index.js"
import { spec } from "./fixtures.js"

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-results-"))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const ev = (id: string, status: TrialEvent["status"], metric: number | undefined, params: Record<string, unknown>): TrialEvent => ({
  type: "trial",
  id,
  params: params as TrialEvent["params"],
  status,
  at: "2025-01-01T00:00:00.000Z",
  ...(metric !== undefined ? { metric, durationMs: 1200, key: `key-${id}` } : {})
})

const state = foldJournal([
  ev("t1", "finished", 0.31, { "tune.lr": 0.001, "tune.adapter.r": 8 }),
  ev("t2", "finished", 0.42, { "tune.lr": 0.0003, "tune.adapter.r": 16 }),
  ev("t3", "stopped", 0.5, { "tune.lr": 0.01, "tune.adapter.r": 4 }),
  ev("t4", "running", undefined, { "tune.lr": 0.0001, "tune.adapter.r": 4 }),
  ev("t5", "failed", undefined, { "tune.lr": 0.1, "tune.adapter.r": [1, 2] })
])

describe("results", () => {
  it("sweepShowJson ranks by metric for the goal; best is the best finished trial", () => {
    const max = sweepShowJson(state, "maximize")
    assert.deepStrictEqual(max.trials.map((t) => t.id), ["t3", "t2", "t1", "t4", "t5"])
    assert.deepStrictEqual(max.best, { id: "t2", params: { "tune.lr": 0.0003, "tune.adapter.r": 16 }, metric: 0.42 })
    assert.deepStrictEqual(max.trials[3], { id: "t4", params: { "tune.lr": 0.0001, "tune.adapter.r": 4 }, metric: null, status: "running" })
    const min = sweepShowJson(state, "minimize")
    assert.deepStrictEqual(min.trials.map((t) => t.id), ["t1", "t2", "t3", "t4", "t5"])
    assert.strictEqual(min.best?.id, "t1")
    assert.deepStrictEqual(JSON.parse(JSON.stringify(min)), min, "plain JSON")
    assert.isNull(sweepShowJson(new Map(), "minimize").best)
    assert.isUndefined(bestTrial(foldJournal([ev("x", "stopped", 1, {})]), "minimize"))
  })

  it("writes CSV, JSON, Markdown and best.json", async () => {
    const s = spec({ method: "random", run_cap: 5, parameters: { "tune.lr": { values: [1] } }, metric: { name: "eval.rougeL", goal: "maximize" } })
    const out = await writeResults(path.join(dir, "results"), state, s)
    const csv = fs.readFileSync(out.csv, "utf8").trim().split("\n")
    assert.strictEqual(csv[0], "id,tune.adapter.r,tune.lr,metric,status,durationMs,key")
    assert.strictEqual(csv[1], "t3,4,0.01,0.5,stopped,1200,key-t3")
    assert.strictEqual(csv.length, 6)
    const rows = JSON.parse(fs.readFileSync(out.json, "utf8"))
    assert.deepStrictEqual(rows[4], { id: "t5", "tune.adapter.r": "[1,2]", "tune.lr": 0.1, metric: null, status: "failed", durationMs: null, key: null })
    const md = fs.readFileSync(out.markdown, "utf8")
    assert.match(md, /^\|id\|tune\.adapter\.r\|tune\.lr\|metric\|status\|durationMs\|key\|/)
    assert.deepStrictEqual(JSON.parse(fs.readFileSync(out.best!, "utf8")), { id: "t2", params: { "tune.lr": 0.0003, "tune.adapter.r": 16 }, metric: 0.42 })

    const summary = await summaryMarkdown(state, s)
    assert.include(summary, "### Sweep `s` (random, maximize `eval.rougeL`)")
    assert.include(summary, "5 trial(s): 1 failed, 2 finished, 1 running, 1 stopped.")
    assert.include(summary, "**Best:** `t2` with eval.rougeL = 0.42")
    assert.include(summary, "|id|tune.adapter.r|")
  })
})
