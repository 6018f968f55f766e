import { afterEach, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { Rig } from "./rig.js"

const pipeline = `params: params.yaml
stages:
  s:
    cmd: ${JSON.stringify(Rig.fake("s", "echo value ${s.n} > out.txt"))}
    params: [s.n]
    outs: [out.txt]
`

/** Files under a store directory. */
const filesIn = (dir: string): Array<string> =>
  fs.existsSync(dir) ? fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? e.path, e.name)) : []

describe("cairn gc", () => {
  let rig: Rig
  afterEach(() => rig.cleanup())

  /** Runs the stage with n = 1..count, one run record each; the lock file names the last. */
  const runs = (count: number) => {
    rig = new Rig()
    rig.write("cairn.yaml", pipeline)
    for (let n = 1; n <= count; n++) {
      rig.write("params.yaml", `s:\n  n: ${n}\n`)
      const r = rig.run(["run"])
      expect(r.code, r.stderr).toBe(0)
    }
    expect(filesIn(rig.path("cache/runs"))).toHaveLength(count)
  }
  const gc = (args: ReadonlyArray<string>, graceSeconds: number) => {
    const r = rig.run(["gc", ...args], { CAIRN_GC_GRACE_SECONDS: String(graceSeconds) })
    expect(r.code, r.stderr).toBe(0)
    return r.stdout
  }

  it("keeps the newest N runs per stage and what cairn.lock names; --dry-run removes nothing", () => {
    runs(4)
    const objects = filesIn(rig.path("cache/objects")).length
    expect(gc(["--keep", "1", "--dry-run"], 0)).toMatch(/would remove 3 run record\(s\), 3 object\(s\)/)
    expect(filesIn(rig.path("cache/runs"))).toHaveLength(4)
    expect(filesIn(rig.path("cache/objects"))).toHaveLength(objects)

    expect(gc(["--keep", "1"], 0)).toMatch(/removed 3 run record\(s\), 3 object\(s\)/)
    expect(filesIn(rig.path("cache/runs"))).toHaveLength(1)
    expect(filesIn(rig.path("cache/objects"))).toHaveLength(objects - 3)
    // The run cairn.lock names survives even --keep 0, and still restores.
    gc(["--keep", "0"], 0)
    expect(filesIn(rig.path("cache/runs"))).toHaveLength(1)
    fs.rmSync(rig.path("out.txt"))
    expect(rig.run(["run"]).code).toBe(0)
    expect(rig.read("out.txt")).toBe("value 4\n")
    expect(rig.calls("s")).toBe(4)
    // A removed run is gone: its params run the command again.
    rig.write("params.yaml", "s:\n  n: 1\n")
    expect(rig.run(["run"]).code).toBe(0)
    expect(rig.calls("s")).toBe(5)
  })

  it("keeps unreferenced objects younger than the grace period, for runs in progress", () => {
    runs(3)
    const objects = filesIn(rig.path("cache/objects")).length
    expect(gc(["--keep", "1"], 600)).toMatch(/removed 2 run record\(s\), 0 object\(s\)/)
    expect(filesIn(rig.path("cache/objects"))).toHaveLength(objects)
    expect(gc(["--keep", "1"], 0)).toMatch(/removed 0 run record\(s\), 2 object\(s\)/)
    expect(filesIn(rig.path("cache/objects"))).toHaveLength(objects - 2)
  })

  it("--max-size drops the oldest runs until the store fits", () => {
    runs(3)
    // Each run stores one 8-byte out ("value N\n") and no log: 16 bytes hold the run cairn.lock
    // names (n = 3) and one more, the newer one (n = 2).
    expect(gc(["--keep", "10", "--max-size", "16"], 0)).toMatch(/removed 1 run record\(s\), 1 object\(s\)/)
    expect(filesIn(rig.path("cache/runs"))).toHaveLength(2)
    rig.write("params.yaml", "s:\n  n: 2\n")
    expect(rig.run(["run"]).code).toBe(0)
    expect(rig.calls("s")).toBe(3)
    expect(rig.read("out.txt")).toBe("value 2\n")
    // 1 byte leaves only what cairn.lock names, now n = 2.
    gc(["--keep", "10", "--max-size", "1"], 0)
    expect(filesIn(rig.path("cache/runs"))).toHaveLength(1)
    rig.write("params.yaml", "s:\n  n: 1\n")
    expect(rig.run(["run"]).code).toBe(0)
    expect(rig.calls("s")).toBe(4)
    const r = rig.run(["gc", "--max-size", "lots"])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/max-size/)
  })

  it("removes what killed runs left in tmp/, not what a run in progress is writing", () => {
    runs(1)
    const tmp = rig.path("cache/tmp")
    fs.mkdirSync(tmp, { recursive: true })
    const old = path.join(tmp, "obj.999999.abc.0")
    const fresh = path.join(tmp, "output.999999.1")
    fs.writeFileSync(old, "staged by a run that was killed")
    fs.writeFileSync(fresh, "a running command's output")
    const hourAgo = new Date(Date.now() - 3600_000)
    fs.utimesSync(old, hourAgo, hourAgo)
    expect(gc([], 600)).toMatch(/1 leftover file\(s\) in tmp\//)
    expect(fs.existsSync(old)).toBe(false)
    expect(fs.existsSync(fresh)).toBe(true)
  })
})
