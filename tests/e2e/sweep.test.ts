/**
 * `cairn sweep` as a user (or a CI matrix) runs it: kill -9 in the middle and rerun, split a
 * sweep into shards in separate workspaces and collect them, read the results back.
 */
import { afterEach, describe, expect, it } from "vitest"
import { Rig, waitFor } from "./rig.js"

const TRAIN = `lr=$1; bs=$2
echo "$lr $bs" >> .calls/train
i=0
while [ $i -lt 3 ]; do i=$((i+1)); echo "::metric loss=$lr step=$i"; sleep 0.15; done
echo "$lr $bs" > work/model.txt
`

const EVAL = `read lr bs < work/model.txt
awk -v lr="$lr" -v bs="$bs" 'BEGIN { d = lr - 0.05; if (d < 0) d = -d; printf "{\\"loss\\": %.6f}\\n", d + bs / 1000 }' > work/eval.json
`

const PIPELINE = `params: params.yaml
stages:
  clean:
    cmd: ${JSON.stringify(Rig.fake("clean", "tr a-z A-Z < data/raw.txt > work/clean.txt"))}
    deps: [data/raw.txt]
    outs: [work/clean.txt]
  split:
    cmd: ${JSON.stringify(Rig.fake("split", "cp work/clean.txt work/train.txt"))}
    deps: [work/clean.txt]
    outs: [work/train.txt]
  train:
    cmd: sh scripts/train.sh \${train.lr} \${train.bs}
    deps: [scripts/train.sh, work/train.txt]
    params: [train.lr, train.bs]
    outs: [work/model.txt]
  eval:
    cmd: sh scripts/eval.sh
    deps: [scripts/eval.sh, work/model.txt]
    metrics: [work/eval.json]
  best:
    uses: sweep
    with: { sweep: grid, output: best/best.json }
sweeps:
  grid:
    stage: train
    method: grid
    metric: { name: eval.loss, goal: minimize }
    parameters:
      train.lr: { values: [0.01, 0.03, 0.05, 0.1] }
      train.bs: { values: [8, 16, 32] }
  bad:
    stage: train
    method: grid
    metric: { name: eval.loss }
    parameters:
      train.bs: { values: [8] }
      train.lrr: { values: [0.1] }
`

const NO_SUMMARY = { GITHUB_STEP_SUMMARY: "" }

const workspace = (): Rig => {
  const rig = new Rig("cairn-sweep-")
  rig.write("cairn.yaml", PIPELINE)
  rig.write("params.yaml", "train:\n  lr: 0.1\n  bs: 16\n")
  rig.write("data/raw.txt", "some text\n")
  rig.write("scripts/train.sh", TRAIN)
  rig.write("scripts/eval.sh", EVAL)
  return rig
}

interface Trial {
  readonly id: string
  readonly params: Record<string, unknown>
  readonly status: string
  readonly metric?: number
}

/** Each trial's last state in the workspace's journal. */
const trials = (rig: Rig): Map<string, Trial> => {
  const file = ".cairn/sweeps/grid/journal.jsonl"
  const out = new Map<string, Trial>()
  if (!rig.exists(file)) return out
  for (const line of rig.read(file).split("\n")) {
    if (line.trim() === "") continue
    try {
      const e = JSON.parse(line) as Trial
      if (out.get(e.id)?.status !== "finished") out.set(e.id, e)
    } catch {
      // A line torn by kill -9.
    }
  }
  return out
}

const finished = (rig: Rig) => [...trials(rig).values()].filter((t) => t.status === "finished")
const trainRuns = (rig: Rig, t: Trial) =>
  rig.read(".calls/train").split("\n").filter((l) => l === `${t.params["train.lr"]} ${t.params["train.bs"]}`).length

const rigs: Array<Rig> = []
const track = (r: Rig) => (rigs.push(r), r)
afterEach(() => {
  for (const r of rigs.splice(0)) r.cleanup()
})

describe("cairn sweep", () => {
  it("before any sweep: the pipeline shows and runs; only the sweep stage fails, naming the sweep to run", () => {
    const rig = track(workspace())
    const dag = rig.run(["dag"])
    expect(dag.code, dag.stderr).toBe(0)
    expect(dag.stdout).toContain("best")
    const train = rig.run(["run", "train"])
    expect(train.code, train.stdout + train.stderr).toBe(0)
    expect(rig.calls("train")).toBe(1)
    const best = rig.run(["run", "best"])
    expect(best.code).toBe(1)
    expect(best.stdout + best.stderr).toContain("sweep grid has no finished trial yet: run `cairn sweep grid`")
  })

  it("after kill -9, rerunning finishes the rest: running trials retried, finished ones never rerun", async () => {
    const rig = track(workspace())
    const first = rig.start(["sweep", "grid", "-j", "3"], NO_SUMMARY)
    await waitFor(() => finished(rig).length >= 3, 30_000, "three finished trials")
    first.child.kill("SIGKILL")
    await first.exited
    const before = finished(rig)
    const interrupted = [...trials(rig).values()].filter((t) => t.status === "running")
    expect(before.length).toBeLessThan(12)

    const rerun = rig.run(["sweep", "grid", "-j", "4"], NO_SUMMARY)
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0)
    for (const t of interrupted) expect(rerun.stdout).toContain(`trial     ${t.id} resumed`)
    expect(finished(rig)).toHaveLength(12)
    for (const t of before) {
      expect(trainRuns(rig, t), t.id).toBe(1)
      expect(rerun.stdout).not.toContain(`${t.id} started`)
    }
    // Shared upstream stages ran once, in the first process.
    expect([rig.calls("clean"), rig.calls("split")]).toEqual([1, 1])
    expect(rig.calls("train")).toBeLessThanOrEqual(12 + interrupted.length)
    expect(rerun.stdout).toMatch(/sweep grid: 12 finished\nbest      t[0-9a-f]{12} eval\.loss=0\.008000 train\.bs=8 train\.lr=0\.05/)
    // Trials never wrote the main lock file.
    expect(Object.keys(JSON.parse(rig.read("cairn.lock")).stages)).toEqual(["clean", "split"])
  })

  it("shards run disjoint shares; collect merges them idempotently; show --json ranks the trials", () => {
    const shards = [track(workspace()), track(workspace())]
    const runs = shards.map((r, i) => r.run(["sweep", "grid", "--shard", `${i + 1}/2`, "-j", "4", "--json"], NO_SUMMARY))
    for (const r of runs) expect(r.code, r.stdout + r.stderr).toBe(0)
    // --json: every line is an event, trial stages named `<trial>/<stage>`, the summary last.
    const events = runs[0]!.stdout.trim().split("\n").map((l) => JSON.parse(l) as { _tag: string; stage?: string })
    expect(events.at(-1)!._tag).toBe("SweepFinished")
    expect(events.some((e) => e._tag === "TrialFinished")).toBe(true)
    expect(events.some((e) => e._tag === "Succeeded" && /^t[0-9a-f]{12}\/eval$/.test(e.stage ?? ""))).toBe(true)
    const ids = shards.map((r) => [...trials(r).keys()])
    expect(ids[0]!.length + ids[1]!.length).toBe(12)
    expect(ids[0]!.filter((id) => ids[1]!.includes(id))).toEqual([])
    expect(Math.min(ids[0]!.length, ids[1]!.length)).toBeGreaterThan(0)

    const main = track(workspace())
    const summary = main.path("summary.md")
    const collect = main.run(["sweep", "collect", "grid", "--from", shards[0]!.dir, "--from", shards[1]!.dir], { GITHUB_STEP_SUMMARY: summary })
    expect(collect.code, collect.stdout + collect.stderr).toBe(0)
    expect(collect.stdout).toContain("12 trial(s), 24 new event(s)")
    const journal = main.read(".cairn/sweeps/grid/journal.jsonl")
    const again = main.run(["sweep", "collect", "grid", shards[1]!.dir, "--from", `${shards[0]!.dir}/.cairn/sweeps/grid/journal.jsonl`], NO_SUMMARY)
    expect(again.code).toBe(0)
    expect(again.stdout).toContain("12 trial(s), 0 new event(s), 24 duplicate(s)")
    expect(main.read(".cairn/sweeps/grid/journal.jsonl")).toBe(journal)
    expect(main.read("summary.md")).toContain("### Sweep `grid` (grid, minimize `eval.loss`)")
    for (const f of ["results.csv", "results.md", "results.json", "best.json"]) expect(main.exists(`.cairn/sweeps/grid/${f}`)).toBe(true)

    const show = main.run(["sweep", "show", "grid", "--json"])
    expect(show.code).toBe(0)
    const doc = JSON.parse(show.stdout) as { trials: Array<Record<string, unknown>>; best: Record<string, unknown> }
    expect(Object.keys(doc)).toEqual(["trials", "best"])
    expect(doc.trials).toHaveLength(12)
    for (const t of doc.trials) {
      expect(Object.keys(t)).toEqual(["id", "params", "metric", "status"])
      expect(Object.keys(t["params"] as object)).toEqual(["train.bs", "train.lr"])
      expect(t["status"]).toBe("finished")
    }
    const metrics = doc.trials.map((t) => t["metric"] as number)
    expect(metrics).toEqual([...metrics].sort((a, b) => a - b))
    const { status: _status, ...top } = doc.trials[0]!
    expect(doc.best).toEqual(top)
    expect(doc.best["params"]).toEqual({ "train.bs": 8, "train.lr": 0.05 })

    const table = main.run(["sweep", "show", "grid"])
    expect(table.stdout.split("\n")[1]).toMatch(/^#\s+id\s+train\.bs\s+train\.lr\s+eval\.loss\s+status$/)

    // The `sweep` stage publishes the best trial to downstream stages.
    const best = main.run(["run", "best"], NO_SUMMARY)
    expect(best.code, best.stdout + best.stderr).toBe(0)
    expect(JSON.parse(main.read("best/best.json"))).toMatchObject({ sweep: "grid", id: doc.best["id"], params: doc.best["params"] })
  })

  it("a sweep that names a parameter no stage has exits 2 and names it", () => {
    const rig = track(workspace())
    const r = rig.run(["sweep", "bad"], NO_SUMMARY)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/cairn\.yaml:\d+:\d+: sweeps\.bad\.parameters\.train\.lrr: train\.lrr is neither a key of the params file/)
    expect(rig.calls("clean")).toBe(0)
    const unknown = rig.run(["sweep", "nope"], NO_SUMMARY)
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toContain('no sweep named "nope" in cairn.yaml (sweeps: grid, bad)')
  })
})
