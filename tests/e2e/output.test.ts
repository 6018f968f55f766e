import { afterEach, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import { Rig } from "./rig.js"

/** The lines cairn printed for one stage's output, in order. */
const linesOf = (stdout: string, stage: string) =>
  stdout.split("\n").filter((l) => l.startsWith(`  ${stage} | `)).map((l) => l.slice(`  ${stage} | `.length))

describe("a stage's output", () => {
  let rig: Rig
  afterEach(() => rig.cleanup())

  it("keeps the order it was written in across stdout and stderr, and is replayed on a cache hit", () => {
    rig = new Rig()
    rig.write("cairn.yaml", `stages:
  talk:
    cmd: ${JSON.stringify(Rig.fake("talk", "echo one; echo two >&2; echo three; printf 'caf\\303\\251 without newline'; echo done > out.txt"))}
    outs: [out.txt]
`)
    const r = rig.run(["run"])
    expect(r.code, r.stderr).toBe(0)
    const expected = ["one", "two", "three", "café without newline"]
    expect(linesOf(r.stdout, "talk")).toEqual(expected)
    // Restored from the store: the stored log is replayed.
    fs.rmSync(rig.path("out.txt"))
    const again = rig.run(["run"])
    expect(again.code, again.stderr).toBe(0)
    expect(rig.calls("talk")).toBe(1)
    expect(linesOf(again.stdout, "talk")).toEqual(expected)
    // No output file of a command outlives the run.
    expect(fs.readdirSync(rig.path("cache/tmp")).filter((f) => f.startsWith("output."))).toEqual([])
  })

  it("goes on until the stage's background processes have ended, and what they write is saved", () => {
    rig = new Rig()
    // The child holds no output of the stage: only its process group says it still runs.
    rig.write("cairn.yaml", `stages:
  bg:
    cmd: ${JSON.stringify(Rig.fake("bg", "(sleep 0.5; echo late > late.txt; echo child done) > child.log 2>&1 & echo leader done"))}
    outs: [late.txt]
`)
    const r = rig.run(["run"])
    expect(r.code, r.stderr).toBe(0)
    expect(rig.read("late.txt")).toBe("late\n")
    expect(rig.read("child.log")).toBe("child done\n")
    expect(linesOf(r.stdout, "bg")).toEqual(["leader done"])
    fs.rmSync(rig.path("late.txt"))
    const again = rig.run(["run"])
    expect(again.code, again.stderr).toBe(0)
    expect(rig.calls("bg")).toBe(1)
    expect(rig.read("late.txt")).toBe("late\n")
  })
})
