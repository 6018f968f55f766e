import * as fs from "node:fs"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Rig } from "./rig.js"

/**
 * a → b → c, and d independent. `b` copies a's out; `c` counts lines of b's out.
 */
const SCALE = "$" + "{b.scale}"
const pipeline = `params: params.yaml
stages:
  a:
    cmd: ${JSON.stringify(Rig.fake("a", "mkdir -p out && cat in/a.txt > out/a.txt && echo made a"))}
    deps: [in/a.txt]
    outs: [out/a.txt]
  b:
    cmd: ${JSON.stringify(Rig.fake("b", "tr a-z A-Z < out/a.txt > out/b.txt; echo 'scale=" + SCALE + "' >> out/b.txt"))}
    deps: [out/a.txt]
    params: [b.scale]
    outs: [out/b.txt]
  c:
    cmd: ${JSON.stringify(Rig.fake("c", "wc -c < out/b.txt | tr -d ' ' > out/c.txt"))}
    deps: [out/b.txt]
    outs: [out/c.txt]
  d:
    cmd: ${JSON.stringify(Rig.fake("d", "cat in/d.txt > out/d.txt"))}
    deps: [in/d.txt]
    outs: [out/d.txt]
`

describe("freshness", () => {
  let rig: Rig
  beforeEach(() => {
    rig = new Rig()
    rig.write("cairn.yaml", pipeline)
    rig.write("params.yaml", "b:\n  scale: 2\n  unrelated: 1\n")
    rig.write("in/a.txt", "hello\n")
    rig.write("in/d.txt", "dee\n")
    const r = rig.run(["run"])
    expect(r.code, r.stderr).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([1, 1, 1, 1])
    rig.resetCalls()
  })
  afterEach(() => rig.cleanup())

  it("skips fresh stages", () => {
    const r = rig.run(["run"])
    expect(r.code).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([0, 0, 0, 0])
    expect(r.stdout).toContain("fresh     a")
  })

  it("reruns nothing when a file is touched without changing its bytes", () => {
    const t = new Date(Date.now() + 5_000)
    fs.utimesSync(rig.path("in/a.txt"), t, t)
    expect(rig.run(["run"]).code).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([0, 0, 0, 0])
  })

  it("reruns exactly the downstream cone of a changed input", () => {
    rig.write("in/a.txt", "changed\n")
    expect(rig.run(["run"]).code).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([1, 1, 1, 0])
    expect(rig.read("out/b.txt")).toBe("CHANGED\nscale=2\n")
  })

  it("only a param a stage reads enters its key", () => {
    rig.write("params.yaml", "b:\n  scale: 2\n  unrelated: 99\n")
    expect(rig.run(["run"]).code).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([0, 0, 0, 0])
  })

  it("reverting a param restores earlier outputs from the store without running anything", () => {
    const before = rig.read("out/b.txt")
    rig.write("params.yaml", "b:\n  scale: 3\n  unrelated: 1\n")
    expect(rig.run(["run"]).code).toBe(0)
    expect(rig.read("out/b.txt")).toContain("scale=3")
    rig.resetCalls()
    rig.write("params.yaml", "b:\n  scale: 2\n  unrelated: 1\n")
    const r = rig.run(["run"])
    expect(r.code).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([0, 0, 0, 0])
    expect(rig.read("out/b.txt")).toBe(before)
    expect(r.stdout).toContain("restored  b")
  })

  it("early cutoff: an upstream that reruns with identical output leaves downstream fresh", () => {
    // Same bytes after a rewrite that changes a's key (the command), not its output.
    rig.write("cairn.yaml", pipeline.replace("echo made a", "echo made a again"))
    expect(rig.run(["run"]).code).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([1, 0, 0, 0])
  })

  it("a deleted out is restored from the store, not rebuilt", () => {
    fs.rmSync(rig.path("out/c.txt"))
    const r = rig.run(["run"])
    expect(r.code).toBe(0)
    expect(rig.calls("c")).toBe(0)
    expect(rig.exists("out/c.txt")).toBe(true)
  })

  it("--force reruns the selection; targets pull in their upstream; --downstream the cone", () => {
    expect(rig.run(["run", "b", "--force"]).code).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([1, 1, 0, 0])
    rig.resetCalls()
    expect(rig.run(["run", "b", "--force", "--downstream"]).code).toBe(0)
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([0, 1, 1, 0])
  })

  it("--dry-run changes nothing", () => {
    rig.write("in/a.txt", "changed\n")
    const r = rig.run(["run", "--dry-run"])
    expect(r.code).toBe(0)
    expect(r.stdout).toContain("would run a")
    // Downstream of a stage that would rerun is reported too; an unrelated stage is not.
    expect(r.stdout).toMatch(/would run c \(upstream would rerun: b/)
    expect(r.stdout).toContain("fresh     d")
    expect(["a", "b", "c", "d"].map((s) => rig.calls(s))).toEqual([0, 0, 0, 0])
    expect(rig.read("out/a.txt")).toBe("hello\n")
  })

  it("--set overrides a param for one run and leaves the lock file alone", () => {
    const lock = rig.read("cairn.lock")
    const r = rig.run(["run", "--set", "b.scale=5"])
    expect(r.code).toBe(0)
    expect(rig.read("out/b.txt")).toContain("scale=5")
    expect(rig.read("cairn.lock")).toBe(lock)
    rig.resetCalls()
    // The next plain run puts the workspace back from the store.
    expect(rig.run(["run"]).code).toBe(0)
    expect(rig.read("out/b.txt")).toContain("scale=2")
    expect(rig.calls("b")).toBe(0)
  })

  it("params reach commands as CAIRN_PARAM_* env vars", () => {
    rig.write("cairn.yaml", pipeline + `  e:
    cmd: echo "$CAIRN_PARAM_B_SCALE" > out/e.txt
    params: [b.scale]
    outs: [out/e.txt]
`)
    expect(rig.run(["run", "e"]).code).toBe(0)
    expect(rig.read("out/e.txt")).toBe("2\n")
  })

  it("the lock file is deterministic", () => {
    const first = rig.read("cairn.lock")
    fs.rmSync(rig.path("cairn.lock"))
    expect(rig.run(["run"]).code).toBe(0)
    expect(rig.read("cairn.lock")).toBe(first)
    expect(Object.keys(JSON.parse(first).stages)).toEqual(["a", "b", "c", "d"])
  })

  it("status --explain names the changed input", () => {
    rig.write("params.yaml", "b:\n  scale: 4\n  unrelated: 1\n")
    const r = rig.run(["status", "--explain"])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/b\s+stale/)
    expect(r.stdout).toContain("params.b.scale: 2 → 4")
    expect(r.stdout).toMatch(/c\s+stale-upstream/)
    expect(r.stdout).toMatch(/d\s+fresh/)
  })
})
