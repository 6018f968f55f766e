/**
 * The sweep runner in process, over a pipeline of fake shell stages that count their runs:
 * shared upstream stages run once, trials run in parallel in workspaces of their own, extending
 * a grid runs only the new points, `::metric` lines drive early termination, and the `sweep`
 * built-in stage publishes the best trial.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Exit, Layer } from "effect"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import { layerShippedStages } from "../../src/cli/StageRegistry.js"
import type { RunEvent } from "../../src/core/RunEvent.js"
import { parseMetricLine, runGraph } from "../../src/engine/Executor.js"
import { openGraph, resolvePaths } from "../../src/engine/Workspace.js"
import { FileHasher } from "../../src/fingerprint/FileHasher.js"
import { Reporter } from "../../src/report/Reporter.js"
import { ArtifactStore } from "../../src/store/ArtifactStore.js"
import { foldJournal, journalPath, readJournal, type TrialEvent } from "../../src/sweep/Journal.js"
import { runSweep, type SweepEvent, type SweepRunOptions } from "../../src/sweep/Runner.js"

/** `train` reports `loss=<lr>` at each of `train.steps` evaluations, and logs when it starts and ends. */
const TRAIN = `lr=$1; bs=$2; steps=$3
echo "$lr $bs" >> .calls/train
echo "start $(date +%s%3N)" >> .calls/timeline
i=0
while [ $i -lt $steps ]; do i=$((i+1)); echo "::metric loss=$lr step=$((i*10))"; sleep 0.15; done
echo "end $(date +%s%3N)" >> .calls/timeline
echo "$lr $bs" > work/model.txt
`

const EVAL = `read lr bs < work/model.txt
echo "$lr $bs" >> .calls/eval
awk -v lr="$lr" -v bs="$bs" 'BEGIN { d = lr - 0.05; if (d < 0) d = -d; printf "{\\"loss\\": %.6f, \\"lr\\": %s}\\n", d + bs / 1000, lr }' > work/eval.json
`

const fake = (name: string, body: string) => JSON.stringify(`echo run >> .calls/${name}; ${body}`)

const pipeline = (sweeps: string, bestOf = "grid") => `params: params.yaml
stages:
  clean:
    cmd: ${fake("clean", "tr a-z A-Z < data/raw.txt > work/clean.txt")}
    deps: [data/raw.txt]
    outs: [work/clean.txt]
  augment:
    cmd: ${fake("augment", "cat work/clean.txt work/clean.txt > work/augmented.txt")}
    deps: [work/clean.txt]
    outs: [work/augmented.txt]
  split:
    cmd: ${fake("split", "head -n 1 work/augmented.txt > work/train.txt")}
    deps: [work/augmented.txt]
    outs: [work/train.txt]
  train:
    cmd: sh scripts/train.sh \${train.lr} \${train.bs} \${train.steps}
    deps: [scripts/train.sh, work/train.txt]
    params: [train.lr, train.bs, train.steps]
    outs: [work/model.txt]
  eval:
    cmd: sh scripts/eval.sh
    deps: [scripts/eval.sh, work/model.txt]
    metrics: [work/eval.json]
  best:
    uses: sweep
    with: { sweep: ${bestOf}, output: best/best.json, best_params: best/params.yaml, artifacts: [{ from: work/model.txt, to: best/model.txt }] }
sweeps:
${sweeps}`

const GRID = (lrs: string) => `  grid:
    stage: train
    method: grid
    metric: { name: eval.loss, goal: minimize }
    parameters:
      train.lr: { values: [${lrs}] }
      train.bs: { values: [8, 16, 32] }
`

const ASHA = `  et:
    stage: train
    method: grid
    metric: { name: eval.loss, goal: minimize }
    parameters:
      train.lr: { values: [0.05, 0.1, 0.2, 0.4] }
    early_terminate: { type: asha, min_iter: 1, eta: 2 }
`

let ws: string
beforeEach(() => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-sweep-runner-"))
  for (const d of [".calls", "data", "scripts"]) fs.mkdirSync(path.join(ws, d))
  fs.writeFileSync(path.join(ws, "data/raw.txt"), "one line\n")
  fs.writeFileSync(path.join(ws, "scripts/train.sh"), TRAIN)
  fs.writeFileSync(path.join(ws, "scripts/eval.sh"), EVAL)
  fs.writeFileSync(path.join(ws, "params.yaml"), "train:\n  lr: 0.1\n  bs: 16\n  steps: 2\n")
})
afterEach(() => fs.rmSync(ws, { recursive: true, force: true }))

const write = (rel: string, text: string) => fs.writeFileSync(path.join(ws, rel), text)
const lines = (rel: string): Array<string> => {
  const f = path.join(ws, rel)
  return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter((l) => l !== "") : []
}
const paths = () => resolvePaths({ directory: ws, file: undefined, cacheDir: undefined })
const layer = (runEvents: Array<RunEvent>) =>
  Layer.mergeAll(FileHasher.layerMemory, ArtifactStore.layerFileSystem(paths().cacheDir), Reporter.layerMemory(runEvents), layerShippedStages)

const sweep = async (name: string, options: Partial<SweepRunOptions> = {}) => {
  const events: Array<SweepEvent> = []
  const runEvents: Array<RunEvent> = []
  const exit = await Effect.runPromiseExit(
    runSweep(paths(), name, { jobs: 4, retryFailed: false, onEvent: (e) => Effect.sync(() => void events.push(e)), ...options }).pipe(
      Effect.provide(layer(runEvents))
    )
  )
  return { exit, events, runEvents }
}

const states = (name: string) => foldJournal(readJournal(journalPath(ws, name)))

/** Most trains running at once, from their start/end marks. */
const maxOverlap = (): number => {
  const marks = lines(".calls/timeline").map((l) => l.split(" ")).map(([k, t]) => ({ d: k === "start" ? 1 : -1, t: Number(t) }))
  marks.sort((a, b) => a.t - b.t || a.d - b.d)
  let cur = 0
  let max = 0
  for (const m of marks) max = Math.max(max, (cur += m.d))
  return max
}

describe("::metric lines", () => {
  it("carry metrics, step and total; anything else is ordinary output", () => {
    assert.deepStrictEqual(parseMetricLine("::metric loss=0.5 acc=x step=30 total=100 rougeL=1e-1"), {
      step: 30,
      total: 100,
      metrics: { loss: 0.5, rougeL: 0.1 }
    })
    assert.deepStrictEqual(parseMetricLine("  ::metric step=3\r"), { step: 3 })
    assert.strictEqual(parseMetricLine("::metric acc= =1 loss"), undefined)
    assert.strictEqual(parseMetricLine("echo ::metric loss=1"), undefined)
    assert.strictEqual(parseMetricLine("::metrics loss=1"), undefined)
  })
})

describe("runSweep", () => {
  it("runs shared upstream stages once and 12 trials in parallel, each in its own workspace", async () => {
    write("cairn.yaml", pipeline(GRID("0.01, 0.03, 0.05, 0.1")))
    const { exit, events } = await sweep("grid", { heartbeatMs: 100 })
    assert.isTrue(Exit.isSuccess(exit), String(exit))
    assert.deepStrictEqual([lines(".calls/clean").length, lines(".calls/augment").length, lines(".calls/split").length], [1, 1, 1])
    assert.strictEqual(lines(".calls/train").length, 12)
    assert.strictEqual(lines(".calls/eval").length, 12)
    assert.isAtLeast(maxOverlap(), 2)
    const planned = events.find((e) => e._tag === "SweepPlanned")
    assert.deepStrictEqual(planned?._tag === "SweepPlanned" && planned.shared, ["clean", "augment", "split"])

    const state = states("grid")
    assert.strictEqual(state.size, 12)
    for (const t of state.values()) {
      assert.strictEqual(t.status, "finished")
      const trial = path.join(ws, ".cairn/sweeps/grid/trials", t.id)
      // Each trial's stages wrote its own outs, from its own parameters.
      assert.strictEqual(fs.readFileSync(path.join(trial, "work/model.txt"), "utf8"), `${t.params["train.lr"]} ${t.params["train.bs"]}\n`)
      const expected = Math.abs((t.params["train.lr"] as number) - 0.05) + (t.params["train.bs"] as number) / 1000
      assert.closeTo(t.metric!, expected, 1e-6)
      assert.strictEqual(t.metrics?.["eval.lr"], t.params["train.lr"])
      assert.match(t.key ?? "", /^[0-9a-f]{64}$/)
      assert.isAbove(t.durationMs ?? 0, 0)
      // Upstream outs are real files restored from the store, sources are links to the workspace.
      assert.isFalse(fs.lstatSync(path.join(trial, "work/train.txt")).isSymbolicLink())
      assert.isTrue(fs.lstatSync(path.join(trial, "data")).isSymbolicLink())
    }
    // Heartbeats while running.
    assert.isTrue(readJournal(journalPath(ws, "grid")).some((e) => e.status === "running" && e.heartbeat !== undefined))
    // The main workspace holds the shared stages' outs and lock entries, and nothing of any trial.
    assert.isFalse(fs.existsSync(path.join(ws, "work/model.txt")))
    assert.deepStrictEqual(Object.keys(JSON.parse(fs.readFileSync(path.join(ws, "cairn.lock"), "utf8")).stages), ["augment", "clean", "split"])
    const dir = path.join(ws, ".cairn/sweeps/grid")
    for (const f of ["results.csv", "results.json", "results.md", "best.json", "journal.jsonl"]) assert.isTrue(fs.existsSync(path.join(dir, f)), f)
    const best = JSON.parse(fs.readFileSync(path.join(dir, "best.json"), "utf8"))
    assert.deepStrictEqual(best.params, { "train.bs": 8, "train.lr": 0.05 })

    // Nothing left to do: nothing runs, nothing is appended.
    const before = fs.readFileSync(journalPath(ws, "grid"), "utf8")
    const again = await sweep("grid")
    assert.isTrue(Exit.isSuccess(again.exit))
    assert.strictEqual(lines(".calls/train").length, 12)
    assert.strictEqual(fs.readFileSync(journalPath(ws, "grid"), "utf8"), before)

    // Extending the grid runs only its new points; the shared stages stay fresh.
    write("cairn.yaml", pipeline(GRID("0.01, 0.03, 0.05, 0.1, 0.2")))
    const extended = await sweep("grid")
    assert.isTrue(Exit.isSuccess(extended.exit))
    assert.strictEqual(lines(".calls/train").length, 15)
    assert.deepStrictEqual(lines(".calls/train").slice(12).sort(), ["0.2 16", "0.2 32", "0.2 8"])
    assert.deepStrictEqual([lines(".calls/clean").length, lines(".calls/split").length], [1, 1])
    assert.strictEqual(states("grid").size, 15)

    // The `sweep` stage publishes the best trial, its params and its model.
    const graph = await Effect.runPromise(openGraph(paths(), []).pipe(Effect.provide(layerShippedStages)))
    const run = await Effect.runPromiseExit(
      runGraph(graph, {
        targets: ["best"],
        force: false,
        downstream: false,
        dryRun: false,
        jobs: 1,
        keepGoing: false,
        slots: {},
        lockFile: paths().lockFile,
        locksDir: paths().locksDir
      }).pipe(Effect.provide(layer([])))
    )
    assert.isTrue(Exit.isSuccess(run), String(run))
    const published = JSON.parse(fs.readFileSync(path.join(ws, "best/best.json"), "utf8"))
    assert.deepStrictEqual(
      { ...published, key: typeof published.key },
      { sweep: "grid", id: best.id, metric: best.metric, params: { "train.bs": 8, "train.lr": 0.05 }, key: "string" }
    )
    assert.strictEqual(fs.readFileSync(path.join(ws, "best/params.yaml"), "utf8"), "train:\n  bs: 8\n  lr: 0.05\n")
    assert.strictEqual(fs.readFileSync(path.join(ws, "best/model.txt"), "utf8"), "0.05 8\n")
  })

  it("stops trials early on `::metric` lines (ASHA) and records their last metrics and reason", async () => {
    write("params.yaml", "train:\n  lr: 0.1\n  bs: 16\n  steps: 4\n")
    write("cairn.yaml", pipeline(ASHA, "et"))
    const { exit, runEvents } = await sweep("et", { jobs: 1 })
    assert.isTrue(Exit.isSuccess(exit), String(exit))
    const byLr = new Map([...states("et").values()].map((t) => [t.params["train.lr"], t]))
    assert.strictEqual(byLr.get(0.05)?.status, "finished")
    for (const lr of [0.1, 0.2, 0.4]) {
      const t = byLr.get(lr)!
      assert.strictEqual(t.status, "stopped")
      assert.match(t.reason ?? "", /^asha: metric .* at rung 1 /)
      assert.deepStrictEqual(t.metrics, { "train.loss": lr })
      assert.strictEqual(t.metric, lr)
      assert.match(t.key ?? "", /^[0-9a-f]{64}$/)
    }
    // Stopped trials were interrupted after their first evaluation: never finished, never evaluated.
    assert.strictEqual(lines(".calls/train").length, 4)
    assert.deepStrictEqual(lines(".calls/timeline").filter((l) => l.startsWith("end")).length, 1)
    assert.deepStrictEqual(lines(".calls/eval"), ["0.05 16"])
    assert.isTrue(runEvents.some((e) => e._tag === "Progress" && e.step === 10 && e.metrics?.["loss"] === 0.1))
    // Each evaluation is journaled, so a later run judges against these curves. A stopped trial
    // may get one more line out while it is being interrupted; that report is journaled as well.
    type Report = TrialEvent & { progress?: { step?: number; value: number } }
    const reports = readJournal(journalPath(ws, "et")) as Array<Report>
    const steps = (lr: number) =>
      reports.filter((e) => e.progress !== undefined && e.params["train.lr"] === lr).map((e) => e.progress!.step)
    assert.deepStrictEqual(steps(0.05), [10, 20, 30, 40])
    for (const lr of [0.1, 0.2, 0.4]) {
      assert.strictEqual(steps(lr)[0], 10)
      assert.isAtMost(steps(lr).length, 2)
    }
  })

  it("hyperband never stops a trial whose curve is complete, while its later stages run", async () => {
    // lr 0.4 reports once, finishes training and spends a while in eval; lr 0.05 starts reporting
    // only once that eval has begun, with a better value that puts 0.4 below the band's threshold.
    write("scripts/train.sh", `lr=$1
if [ "$lr" = 0.05 ]; then n=0; while [ ! -f .calls/eval-started ] && [ $n -lt 200 ]; do n=$((n+1)); sleep 0.05; done; fi
for i in 1 2 3; do echo "::metric loss=$lr step=$i"; [ "$lr" = 0.4 ] && break; sleep 0.1; done
echo "$lr 16" > work/model.txt
`)
    write("scripts/eval.sh", `touch .calls/eval-started; sleep 1.2\n${EVAL}`)
    write("cairn.yaml", pipeline(`  hb:
    stage: train
    method: grid
    metric: { name: eval.loss, goal: minimize }
    parameters:
      train.lr: { values: [0.4, 0.05] }
    early_terminate: { type: hyperband, min_iter: 1, eta: 3 }
`, "hb"))
    const { exit } = await sweep("hb", { jobs: 2 })
    assert.isTrue(Exit.isSuccess(exit), String(exit))
    const byLr = new Map([...states("hb").values()].map((t) => [t.params["train.lr"], t]))
    assert.strictEqual(byLr.get(0.4)?.status, "finished", byLr.get(0.4)?.reason)
    assert.strictEqual(byLr.get(0.05)?.status, "finished")
    assert.sameMembers(lines(".calls/eval"), ["0.4 16", "0.05 16"])
  })

  it("names the parameter or metric a sweep gets wrong, before anything runs", async () => {
    write("cairn.yaml", pipeline(`  bad:
    stage: train
    method: grid
    metric: { name: evaluate.loss, goal: minimize }
    parameters:
      train.lrr: { values: [1, 2] }
      train.bs: { min: 4, max: 2 }
  grid:
    stage: train
    method: random
    metric: { name: eval.loss }
    parameters:
      train.lr: { values: [1] }
`))
    const bad = await sweep("bad")
    assert.isTrue(Exit.isFailure(bad.exit))
    const message = String(Exit.isFailure(bad.exit) && bad.exit.cause.reasons.map((r) => (r as { error?: Error }).error?.message).join("\n"))
    assert.match(message, /cairn\.yaml:\d+:\d+: sweeps\.bad\.parameters\.train\.bs: min must be < max/)

    write("cairn.yaml", pipeline(`  bad:
    stage: train
    method: grid
    metric: { name: evaluate.loss, goal: minimize }
    parameters:
      train.lrr: { values: [1, 2] }
`, "bad"))
    const again = await sweep("bad")
    const text = String(Exit.isFailure(again.exit) && again.exit.cause.reasons.map((r) => (r as { error?: Error }).error?.message).join("\n"))
    assert.match(text, /sweeps\.bad\.parameters\.train\.lrr: train\.lrr is neither a key of the params file/)
    assert.match(text, /sweeps\.bad\.metric\.name: evaluate\.loss names no stage/)
    assert.deepStrictEqual(lines(".calls/clean"), [])
  })

  it("records a failing trial, still writes results, and retries it on request", async () => {
    write("cairn.yaml", pipeline(GRID("0.01, 0.05")).replace("sh scripts/train.sh", "test -f go || [ ${train.bs} != 32 ] && sh scripts/train.sh"))
    const first = await sweep("grid")
    assert.isTrue(Exit.isFailure(first.exit))
    const state = states("grid")
    const failed = [...state.values()].filter((t) => t.status === "failed")
    assert.deepStrictEqual(failed.map((t) => t.params["train.bs"]), [32, 32])
    assert.match(failed[0]!.reason ?? "", /^stage train failed: exit code 1/)
    assert.isTrue(fs.existsSync(path.join(ws, ".cairn/sweeps/grid/results.csv")))

    write("go", "")
    const plain = await sweep("grid")
    assert.isTrue(Exit.isFailure(plain.exit), "failed trials are not retried by default")
    const retried = await sweep("grid", { retryFailed: true })
    assert.isTrue(Exit.isSuccess(retried.exit), String(retried.exit))
    assert.strictEqual([...states("grid").values()].filter((t) => t.status === "finished").length, 6)
  })

  it("bayes: start-up draws, then TPE suggestions one at a time up to run_cap", async () => {
    write("cairn.yaml", pipeline(`  grid:
    stage: train
    method: bayes
    metric: { name: eval.loss, goal: minimize }
    run_cap: 5
    seed: 3
    tpe: { n_startup: 2 }
    parameters:
      train.lr: { min: 0.001, max: 0.2, distribution: log_uniform_values }
      train.bs: { values: [8, 16] }
`))
    const { exit } = await sweep("grid", { jobs: 2 })
    assert.isTrue(Exit.isSuccess(exit), String(exit))
    const state = states("grid")
    assert.strictEqual(state.size, 5)
    assert.isTrue([...state.values()].every((t) => t.status === "finished"))
    assert.strictEqual(lines(".calls/split").length, 1)
  })
})
