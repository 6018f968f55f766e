import * as fs from "node:fs"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { isAlive, Rig, snapshot, waitFor } from "./rig.js"

/**
 * `slow` writes a partial out, records the pids of itself and a grandchild, then waits for a
 * go-file, so a test can interrupt it at a known point.
 */
const pipeline = `stages:
  first:
    cmd: ${JSON.stringify(Rig.fake("first", "cp in.txt first.txt"))}
    deps: [in.txt]
    outs: [first.txt]
  slow:
    cmd: ${JSON.stringify(Rig.fake("slow", "echo partial > slow.txt; sleep 300 & echo $! > .calls/grandchild.pid; echo $$ > .calls/slow.pid; while [ ! -f go ]; do sleep 0.05; done; kill $! 2>/dev/null; cat first.txt first.txt > slow.txt"))}
    deps: [first.txt]
    outs: [slow.txt]
  last:
    cmd: ${JSON.stringify(Rig.fake("last", "wc -l < slow.txt > last.txt"))}
    deps: [slow.txt]
    outs: [last.txt]
`

describe("interruption", () => {
  let rig: Rig
  beforeEach(() => {
    rig = new Rig()
    rig.write("cairn.yaml", pipeline)
    rig.write("in.txt", "line\n")
  })
  afterEach(() => {
    rig.write("go", "")
    rig.cleanup()
  })

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    it(`${signal} kills the stage's process tree, discards partial outs, exits 130`, async () => {
      const run = rig.start(["run"])
      await waitFor(() => rig.exists(".calls/grandchild.pid") && rig.exists(".calls/slow.pid"), 20_000, "slow stage to start")
      const pids = [Number(rig.read(".calls/slow.pid")), Number(rig.read(".calls/grandchild.pid"))]
      run.child.kill(signal)
      const r = await run.exited
      expect(r.code).toBe(130)
      for (const pid of pids) expect(isAlive(pid)).toBe(false)
      expect(rig.exists("slow.txt")).toBe(false)
      // Nothing of the interrupted stage reached the store: only `first` has a record.
      expect(fs.readdirSync(rig.path("cache/runs"))).toHaveLength(1)
      rig.write("go", "")
      const again = rig.run(["run"])
      expect(again.code).toBe(0)
      expect(again.stdout).toContain("fresh     first")
      expect(rig.read("slow.txt")).toBe("line\nline\n")
    })
  }

  it("kill -9 of cairn mid-stage, then cairn run completes with outputs identical to a clean run", async () => {
    const clean = new Rig()
    clean.write("cairn.yaml", pipeline)
    clean.write("in.txt", "line\n")
    clean.write("go", "")
    expect(clean.run(["run"]).code).toBe(0)
    const expected = snapshot(clean.dir, ["cache", ".calls", "go"])
    clean.cleanup()

    const run = rig.start(["run"])
    await waitFor(() => rig.exists(".calls/slow.pid"), 20_000, "slow stage to start")
    const orphan = Number(rig.read(".calls/slow.pid"))
    // At once: the stage's process group is on record before cairn itself has heard of the pid.
    run.child.kill("SIGKILL")
    await run.exited
    // The stage's process group outlives a SIGKILLed cairn; the next run must deal with it.
    expect(isAlive(orphan)).toBe(true)
    fs.rmSync(rig.path(".calls/slow.pid"))
    const next = rig.start(["run"])
    await waitFor(() => rig.exists(".calls/slow.pid"), 20_000, "rerun of slow")
    expect(isAlive(orphan)).toBe(false)
    rig.write("go", "")
    const r = await next.exited
    expect(r.code, r.stdout + r.stderr).toBe(0)
    expect(snapshot(rig.dir, ["cache", ".calls", "go"])).toEqual(expected)
    // The dead run's lock was taken over and its holder removed; the new run's went when it exited.
    expect(fs.readdirSync(rig.path("cache/locks"))).toEqual([])
  })
})

describe("two runs in one workspace", () => {
  it("the second waits for the locks it needs, says so, and nothing is corrupted", async () => {
    const rig = new Rig()
    rig.write("cairn.yaml", pipeline)
    rig.write("in.txt", "line\n")
    const a = rig.start(["run"])
    await waitFor(() => rig.exists(".calls/slow.pid"), 20_000, "slow stage to start")
    const b = rig.start(["run"])
    await waitFor(() => b.output().includes("waiting"), 20_000, "second run to wait")
    expect(b.output()).toMatch(/waiting\s+slow: locked by pid \d+/)
    rig.write("go", "")
    const [ra, rb] = await Promise.all([a.exited, b.exited])
    expect(ra.code).toBe(0)
    expect(rb.code).toBe(0)
    // Each stage ran once; the second run found the first's results fresh.
    expect([rig.calls("first"), rig.calls("slow"), rig.calls("last")]).toEqual([1, 1, 1])
    expect(rb.stdout).toContain("fresh     slow")
    const lock = JSON.parse(rig.read("cairn.lock"))
    expect(Object.keys(lock.stages)).toEqual(["first", "last", "slow"])
    expect(rig.read("slow.txt")).toBe("line\nline\n")
    expect(fs.readdirSync(rig.path("cache/tmp"))).toEqual([])
    expect(fs.readdirSync(rig.path("cache/locks"))).toEqual([])
    rig.cleanup()
  })
})
