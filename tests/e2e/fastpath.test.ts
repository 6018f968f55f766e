import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { cliPath, type CliResult, privateInstall, Rig, spawnSync } from "./rig.js"

const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0

/**
 * a reads a file and a directory; b reads a's out, a param and an env var. The no-op fast path
 * (bin/cairn.cjs) must answer only when a full run would find both fresh and print the same.
 */
const SCALE = "$" + "{b.scale}"
const pipeline = `stages:
  a:
    cmd: ${JSON.stringify(Rig.fake("a", "mkdir -p out && cat in/a.txt in/dir/* > out/a.txt"))}
    deps: [in/a.txt, in/dir]
    outs: [out/a.txt]
  b:
    cmd: ${JSON.stringify(Rig.fake("b", "(cat out/a.txt; echo scale=" + SCALE + " seed=$SEED) > out/b.txt"))}
    deps: [out/a.txt]
    params: [b.scale]
    env: [SEED]
    outs: [out/b.txt]
`

/** A snapshot trusts no path modified within a second of the run that writes it. */
const outlastRacyWindow = () => spawnSync("sleep", ["1.1"])

const DEBUG = { CAIRN_DEBUG_FASTPATH: "1" }
const taken = (r: CliResult) => r.stderr.includes("cairn fast path: taken")
const withoutDuration = (s: string) => s.replace(/done in \d+(ms|\.\ds)/, "done in <t>")

describe("no-op fast path", () => {
  let rig: Rig
  /** What the full run that wrote the snapshot printed. */
  let fullNoop: CliResult
  const calls = () => ["a", "b"].map((s) => rig.calls(s))
  const snapshots = () => fs.readdirSync(rig.path("cache/state")).filter((f) => /^noop-.*\.json$/.test(f))
  /** A plain `cairn run` that must not be answered from the snapshot. */
  const fullRun = () => {
    const r = rig.run(["run"], DEBUG)
    expect(taken(r)).toBe(false)
    return r
  }

  beforeEach(() => {
    rig = new Rig()
    rig.write("cairn.yaml", pipeline)
    rig.write("params.yaml", "b:\n  scale: 2\n")
    rig.write("in/a.txt", "hello\n")
    rig.write("in/dir/one.txt", "one\n")
    expect(rig.run(["run"]).code).toBe(0)
    expect(calls()).toEqual([1, 1])
    outlastRacyWindow()
    fullNoop = rig.run(["run"], DEBUG)
    expect(fullNoop.code).toBe(0)
    expect(taken(fullNoop)).toBe(false)
    expect(snapshots()).toHaveLength(1)
    rig.resetCalls()
  })
  afterEach(() => rig.cleanup())

  it("answers an unchanged workspace without loading the CLI, printing what the full run printed", () => {
    for (let i = 0; i < 2; i++) {
      const r = rig.run(["run"], DEBUG)
      expect(r.code).toBe(0)
      expect(taken(r)).toBe(true)
      expect(withoutDuration(r.stdout)).toBe(withoutDuration(fullNoop.stdout))
      expect(r.stdout).toMatch(/^done in \d+ms: 2 fresh$/m)
    }
    expect(calls()).toEqual([0, 0])
    // The switch turns it off, and the full run agrees.
    const off = rig.run(["run"], { ...DEBUG, CAIRN_NO_FASTPATH: "1" })
    expect(taken(off)).toBe(false)
    expect(withoutDuration(off.stdout)).toBe(withoutDuration(fullNoop.stdout))
  })

  it("changed bytes in a dep: full run, the stage reruns", () => {
    rig.write("in/a.txt", "changed\n")
    const r = fullRun()
    expect(r.code).toBe(0)
    expect(calls()).toEqual([1, 1])
    expect(rig.read("out/b.txt")).toBe("changed\none\nscale=2 seed=\n")
  })

  it("a dep touched without changing bytes: full run, still fresh; a later no-op run re-arms the fast path", () => {
    // Into the past: the file's ctime still says when it changed.
    const t = new Date(Date.now() - 60_000)
    fs.utimesSync(rig.path("in/a.txt"), t, t)
    const r = fullRun()
    expect(r.stderr).toContain("changed: ")
    expect(withoutDuration(r.stdout)).toBe(withoutDuration(fullNoop.stdout))
    expect(calls()).toEqual([0, 0])
    // A run soon after the change (by ctime) writes no snapshot; one a second later does.
    outlastRacyWindow()
    rig.run(["run"])
    const again = rig.run(["run"], DEBUG)
    expect(taken(again)).toBe(true)
    expect(withoutDuration(again.stdout)).toBe(withoutDuration(fullNoop.stdout))
  })

  it("edited params: full run; a changed param reruns its stage", () => {
    rig.write("params.yaml", "b:\n  scale: 3\n")
    const r = fullRun()
    expect(calls()).toEqual([0, 1])
    expect(rig.read("out/b.txt")).toContain("scale=3")
  })

  it("a deleted out: full run restores it", () => {
    fs.rmSync(rig.path("out/b.txt"))
    const r = fullRun()
    expect(r.stdout).toContain("restored  b")
    expect(rig.read("out/b.txt")).toBe("hello\none\nscale=2 seed=\n")
  })

  it("a modified out: full run restores it", () => {
    rig.write("out/a.txt", "tampered\n")
    const r = fullRun()
    expect(r.stdout).toContain("restored  a")
    expect(rig.read("out/a.txt")).toBe("hello\none\n")
    expect(calls()).toEqual([0, 0])
  })

  it("a file added to a dep directory: full run, its stage reruns", () => {
    rig.write("in/dir/two.txt", "two\n")
    const r = fullRun()
    expect(calls()).toEqual([1, 1])
    expect(rig.read("out/a.txt")).toBe("hello\none\ntwo\n")
  })

  it("a deleted params file: full run, which reports the param the pipeline lacks", () => {
    fs.rmSync(rig.path("params.yaml"))
    const r = fullRun()
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("b.scale")
  })

  it("a different command line, or a declared env var's value, is a different run", () => {
    const set = rig.run(["run", "--set", "b.scale=5"], DEBUG)
    expect(taken(set)).toBe(false)
    expect(calls()).toEqual([0, 1])
    expect(rig.read("out/b.txt")).toContain("scale=5")
    // That run changed an out (and removed the snapshot first): the plain run is a full one.
    rig.resetCalls()
    const back = rig.run(["run"], DEBUG)
    expect(taken(back)).toBe(false)
    expect(back.stdout).toContain("restored  b")

    const one = rig.run(["run", "a"], DEBUG)
    expect(taken(one)).toBe(false)
    expect(one.stdout).toContain("fresh     a")

    rig.resetCalls()
    const env = rig.run(["run"], { ...DEBUG, SEED: "7" })
    expect(taken(env)).toBe(false)
    expect(calls()).toEqual([0, 1])
    expect(rig.read("out/b.txt")).toContain("seed=7")
  })

  it("--force is never answered from the snapshot and removes it", () => {
    const r = rig.run(["run", "--force"], DEBUG)
    expect(taken(r)).toBe(false)
    expect(calls()).toEqual([1, 1])
    expect(snapshots()).toHaveLength(0)
  })

  it("-C and --cache-dir locate the snapshot as the CLI does", () => {
    const parent = path.dirname(rig.dir)
    const args = ["run", "-C", rig.dir, `--cache-dir=${rig.path("other-cache")}`]
    const run = (): CliResult => {
      const r = spawnSync(process.execPath, [cliPath, ...args], {
        cwd: parent,
        env: { ...process.env, CI: "1", ...DEBUG },
        encoding: "utf8"
      })
      return { code: r.status, stdout: r.stdout, stderr: r.stderr }
    }
    const full = run()
    expect(taken(full)).toBe(false)
    expect(fs.readdirSync(rig.path("other-cache/state")).some((f) => f.startsWith("noop-"))).toBe(true)
    const fast = run()
    expect(taken(fast)).toBe(true)
    expect(withoutDuration(fast.stdout)).toBe(withoutDuration(full.stdout))
  })

  it.skipIf(!hasScript)("on a terminal, replays the live view's output as the full run printed it", () => {
    // `script` gives the CLI a pseudo-terminal; its stderr shares it, so the debug line is cut.
    const env: Record<string, string | undefined> = { ...process.env, ...DEBUG }
    delete env.CI
    const tty = () => {
      const r = spawnSync("script", ["-qfec", `${process.execPath} ${cliPath} run`, "/dev/null"], { cwd: rig.dir, encoding: "utf8", env })
      return { taken: r.stdout.includes("cairn fast path: taken"), out: withoutDuration(r.stdout.replace(/cairn fast path: [^\n]*\n/g, "")) }
    }
    const full = tty()
    expect(full.taken).toBe(false)
    expect(full.out).toContain("\x1b[32m✓\x1b[0m a \x1b[2mfresh")
    const fast = tty()
    expect(fast.taken).toBe(true)
    expect(fast.out).toBe(full.out)
  })

  it("a different cairn build is not trusted", () => {
    const install = privateInstall()
    try {
      const run = (): CliResult => {
        const r = spawnSync(process.execPath, [path.join(install, "bin", "cairn.cjs"), "run"], {
          cwd: rig.dir,
          env: { ...process.env, CI: "1", ...DEBUG },
          encoding: "utf8"
        })
        return { code: r.status, stdout: r.stdout, stderr: r.stderr }
      }
      expect(run().stderr).toContain("not taken (cairn build)")
      expect(taken(run())).toBe(true)
      const bundle = path.join(install, "dist", "bin", "cairn.cjs")
      fs.writeFileSync(bundle, fs.readFileSync(bundle))
      const rebuilt = run()
      expect(rebuilt.stderr).toContain("not taken (cairn build)")
      expect(withoutDuration(rebuilt.stdout)).toBe(withoutDuration(fullNoop.stdout))
    } finally {
      fs.rmSync(install, { recursive: true, force: true })
    }
  })
})
