import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import {
  appendJournal,
  CollectError,
  collectJournals,
  foldJournal,
  journalPath,
  planResume,
  plannedTrials,
  readJournal,
  type TrialEvent
} from "../../src/sweep/index.js"
import { spec } from "./fixtures.js"

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-collect-"))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const T0 = Date.parse("2025-01-01T00:00:00Z")
const iso = (s: number) => new Date(T0 + s * 1000).toISOString()

/** Run every shard's share "to completion" in its own workspace, as CI jobs would. */
const runShards = (s: ReturnType<typeof spec>, n: number): ReadonlyArray<string> =>
  Array.from({ length: n }, (_, k) => {
    const ws = path.join(dir, `shard-${k + 1}`)
    fs.mkdirSync(ws)
    const plan = planResume(s, new Map(), { now: T0, shard: { index: k + 1, count: n } })
    plan.run.forEach((t, i) => {
      const base = { type: "trial", id: t.id, params: t.params, shard: `${k + 1}/${n}` } as const
      appendJournal(journalPath(ws, s.name), { ...base, status: "running", at: iso(10 * i + k) })
      appendJournal(journalPath(ws, s.name), {
        ...base,
        status: "finished",
        metric: t.index / 10,
        durationMs: 1000,
        at: iso(10 * i + k + 5)
      } satisfies TrialEvent)
    })
    return ws
  })

describe("collectJournals", () => {
  it("merges shard workspaces into one journal, idempotently", () => {
    const grid = spec({ method: "grid", parameters: { "tune.r": { values: [1, 2, 3, 4, 5, 6, 7, 8] } } }, "lr-search")
    const shards = runShards(grid, 3)
    const target = journalPath(dir, "lr-search")

    const first = collectJournals(shards, target, grid)
    assert.strictEqual(first.trials, 8)
    assert.strictEqual(first.events, 16)
    assert.strictEqual(first.added, 16)
    assert.strictEqual(first.sequentialPending, 0)
    assert.isUndefined(first.note)
    const state = foldJournal(readJournal(target))
    assert.isTrue([...state.values()].every((t) => t.status === "finished"))
    assert.deepStrictEqual(planResume(grid, state, { now: T0 }).run, [], "nothing left to run")
    const bytes = fs.readFileSync(target, "utf8")
    const times = readJournal(target).map((e) => e.at)
    assert.deepStrictEqual(times, [...times].sort(), "ordered by time")

    const again = collectJournals(shards, target, grid)
    assert.strictEqual(fs.readFileSync(target, "utf8"), bytes)
    assert.strictEqual(again.added, 0)
    assert.strictEqual(again.duplicates, 16)

    // A source given as a journal file, and the target itself among the sources: same result.
    collectJournals([journalPath(shards[0]!, "lr-search"), ...shards, target], target, grid)
    assert.strictEqual(fs.readFileSync(target, "utf8"), bytes)
  })

  it("says when a bayes sweep still needs its sequential job", () => {
    const bayes = spec({ method: "bayes", run_cap: 12, tpe: { n_startup: 6 }, parameters: { "tune.x": { min: 0.5, max: 1.5 } } }, "b")
    const result = collectJournals(runShards(bayes, 2), journalPath(dir, "b"), bayes)
    assert.strictEqual(result.trials, plannedTrials(bayes).length)
    assert.strictEqual(result.sequentialPending, 6)
    assert.match(result.note ?? "", /6 sequential trial\(s\) remain; .* run `cairn sweep b` once without --shard/)
  })

  it("reports missing sources, and counts journal-less workspaces as empty shards", () => {
    const grid = spec({ method: "grid", parameters: { "tune.r": { values: [1] } } })
    assert.throws(() => collectJournals([path.join(dir, "nope")], path.join(dir, "out.jsonl"), grid), CollectError, /no such journal/)
    fs.mkdirSync(path.join(dir, "empty"))
    const r = collectJournals([path.join(dir, "empty")], path.join(dir, "out.jsonl"), grid)
    assert.deepStrictEqual(r.empty, [path.join(dir, "empty")])
    assert.strictEqual(r.events, 0)
  })
})
