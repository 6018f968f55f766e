import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import {
  appendJournal,
  foldJournal,
  gridTrials,
  JournalError,
  journalPath,
  planResume,
  plannedTrials,
  readJournal,
  readJournalDetailed,
  type TrialEvent,
  type TrialParams
} from "../../src/sweep/index.js"
import { spec } from "./fixtures.js"

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-journal-"))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const T0 = Date.parse("2025-01-01T00:00:00Z")
const iso = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString()
const ev = (t: TrialParams | string, status: TrialEvent["status"], minutes: number, extra: Partial<TrialEvent> = {}): TrialEvent => ({
  type: "trial",
  id: typeof t === "string" ? t : t.id,
  params: typeof t === "string" ? {} : t.params,
  status,
  at: iso(minutes),
  ...extra
})

describe("journal file", () => {
  it("appends one line per event and reads them back, creating the directory", () => {
    const file = journalPath(dir, "lr-search")
    assert.strictEqual(file, path.join(dir, ".cairn", "sweeps", "lr-search", "journal.jsonl"))
    const events = [ev("a", "running", 0), ev("a", "finished", 1, { metric: 0.5, metrics: { "eval.loss": 0.5 } })]
    events.forEach((e) => appendJournal(file, e))
    assert.strictEqual(fs.readFileSync(file, "utf8").split("\n").length, 3)
    assert.deepStrictEqual(readJournal(file), events)
    assert.deepStrictEqual(readJournal(path.join(dir, "missing.jsonl")), [])
  })

  it("tolerates a truncated last line, and the next append starts a fresh line", () => {
    const file = path.join(dir, "journal.jsonl")
    appendJournal(file, ev("a", "running", 0))
    appendJournal(file, ev("a", "finished", 1, { metric: 1 }))
    // What a kill -9 in the middle of a write leaves behind.
    const line = JSON.stringify(ev("b", "running", 2))
    fs.appendFileSync(file, line.slice(0, 25))
    const read = readJournalDetailed(file)
    assert.deepStrictEqual(read.events.map((e) => `${e.id}:${e.status}`), ["a:running", "a:finished"])
    assert.deepStrictEqual(read.torn, [3])

    appendJournal(file, ev("b", "running", 3))
    const after = readJournalDetailed(file)
    assert.deepStrictEqual(after.events.map((e) => `${e.id}:${e.status}`), ["a:running", "a:finished", "b:running"])
    assert.deepStrictEqual(after.torn, [3])
    assert.strictEqual(foldJournal(after.events).get("b")?.status, "running")
  })

  it("rejects lines that parse but are not trial events", () => {
    const file = path.join(dir, "journal.jsonl")
    fs.writeFileSync(file, JSON.stringify(ev("a", "running", 0)) + "\n" + JSON.stringify({ type: "trial", id: "b", status: "done" }) + "\n")
    assert.throws(() => readJournal(file), JournalError, /journal.jsonl:2: unknown status "done"/)
    // Other event kinds are skipped, so newer writers do not break older readers.
    fs.writeFileSync(file, JSON.stringify({ type: "note", text: "hi" }) + "\n")
    assert.deepStrictEqual(readJournal(file), [])
  })
})

describe("foldJournal", () => {
  it("keeps the last event per trial, never regresses finished, carries fields", () => {
    const state = foldJournal([
      ev("a", "pending", 0),
      ev("a", "running", 1, { heartbeat: iso(1.5), metrics: { "eval.loss": 2 } }),
      ev("b", "running", 1),
      ev("a", "finished", 2, { metric: 0.4, durationMs: 60_000, key: "k1" }),
      ev("a", "running", 3, { heartbeat: iso(3) }), // a late heartbeat from a slow writer
      ev("b", "failed", 4, { reason: "exit 1" }),
      ev("b", "running", 5),
      ev("c", "stopped", 5, { reason: "hyperband", metric: 3 })
    ])
    const a = state.get("a")!
    assert.strictEqual(a.status, "finished")
    assert.strictEqual(a.metric, 0.4)
    assert.deepStrictEqual(a.metrics, { "eval.loss": 2 })
    assert.strictEqual(a.key, "k1")
    assert.strictEqual(a.updatedAt, iso(2))
    const b = state.get("b")!
    assert.strictEqual(b.status, "running")
    assert.isUndefined(b.reason, "a retry clears the old failure reason")
    assert.strictEqual(b.heartbeat, iso(5))
    assert.deepStrictEqual([...state.keys()], ["a", "b", "c"])
  })
})

describe("planResume", () => {
  const grid = spec({ method: "grid", parameters: { "tune.r": { values: [1, 2, 3, 4, 5] } } })
  const [t1, t2, t3, t4, t5] = gridTrials(grid) as [TrialParams, TrialParams, TrialParams, TrialParams, TrialParams]
  const now = T0 + 60 * 60_000

  it("retries orphaned running trials, leaves live ones, never reruns finished", () => {
    const state = foldJournal([
      ev(t1, "finished", 1, { metric: 1 }),
      ev(t2, "running", 2, { heartbeat: iso(5) }), // 55 minutes stale: its process died
      ev(t3, "running", 2, { heartbeat: iso(59) }), // 1 minute ago: someone is on it
      ev(t4, "failed", 3, { reason: "oom" })
    ])
    const plan = planResume(grid, state, { now })
    assert.deepStrictEqual(plan.run.map((t) => t.id), [t2.id, t5.id])
    assert.deepStrictEqual(plan.resumed, [t2.id])
    assert.deepStrictEqual(plan.done, [t1.id])
    assert.deepStrictEqual(plan.active, [t3.id])
    assert.deepStrictEqual(plan.failed, [t4.id])
    assert.strictEqual(plan.sequential, 0)

    const eager = planResume(grid, state, { now, staleAfterMs: 0, retryFailed: true })
    assert.deepStrictEqual(eager.run.map((t) => t.id), [t2.id, t3.id, t4.id, t5.id])
  })

  it("runs only what an extended grid adds", () => {
    const state = foldJournal(gridTrials(grid).map((t, i) => ev(t, "finished", i, { metric: i })))
    assert.deepStrictEqual(planResume(grid, state, { now }).run, [])
    const wider = spec({ method: "grid", parameters: { "tune.r": { values: [1, 2, 3, 4, 5, 6, 7] } } })
    assert.deepStrictEqual(planResume(wider, state, { now }).run.map((t) => t.params["tune.r"]), [6, 7])
  })

  it("runs only what a raised run_cap adds", () => {
    const parameters = { "tune.lr": { distribution: "log_uniform_values", min: 1e-5, max: 1e-3 } }
    const five = spec({ method: "random", run_cap: 5, parameters })
    const state = foldJournal(plannedTrials(five).map((t, i) => ev(t, "finished", i, { metric: i })))
    const eight = spec({ method: "random", run_cap: 8, parameters })
    const plan = planResume(eight, state, { now })
    assert.deepStrictEqual(plan.run.map((t) => t.index), [5, 6, 7])
    assert.strictEqual(plan.done.length, 5)
  })

  it("counts the sequential trials a bayes sweep still owes", () => {
    const bayes = spec({ method: "bayes", run_cap: 10, tpe: { n_startup: 4 }, parameters: { "tune.x": { min: 0.5, max: 1.5 } } })
    const startup = plannedTrials(bayes)
    const events = [
      ...startup.map((t, i) => ev(t, "finished", i, { metric: i })),
      ev("tpe-1", "finished", 10, { metric: 0.1 }),
      ev("tpe-2", "running", 11, { heartbeat: iso(11) })
    ]
    const plan = planResume(bayes, foldJournal(events), { now })
    assert.deepStrictEqual(plan.run.map((t) => t.id), ["tpe-2"], "an orphaned TPE trial is retried with its params")
    assert.strictEqual(plan.sequential, 4)
    assert.isFalse(plan.sequentialNeedsSingleJob)
  })
})
