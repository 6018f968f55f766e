import { afterEach, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import { isAlive, Rig, waitFor } from "./rig.js"

/**
 * Six independent stages; each logs when its command starts and ends. The log tells how many
 * commands ran at once.
 */
const stage = (name: string, extra = "") =>
  `  ${name}:
    cmd: ${JSON.stringify(`echo "+ ${name}" >> .calls/timeline; sleep 0.6; echo x > ${name}.txt; echo "- ${name}" >> .calls/timeline`)}
    outs: [${name}.txt]
${extra}`
const pipeline = `stages:
${["a", "b", "c", "d"].map((s) => stage(s)).join("")}${stage("g1", "    resources: { gpu: 1 }\n")}${stage("g2", "    resources: { gpu: 1 }\n")}`

/** Most commands running at once, and most of the named ones. */
const peak = (timeline: ReadonlyArray<string>, only?: ReadonlyArray<string>): number => {
  let now = 0
  let max = 0
  for (const line of timeline) {
    const [sign, name] = line.split(" ")
    if (only !== undefined && !only.includes(name!)) continue
    now += sign === "+" ? 1 : -1
    max = Math.max(max, now)
  }
  return max
}

describe("--jobs and resource slots", () => {
  let rig: Rig
  afterEach(() => rig.cleanup())

  it("run at most N commands at once, and a slot's stages one at a time", () => {
    rig = new Rig()
    rig.write("cairn.yaml", pipeline)
    const r = rig.run(["run", "-j", "3"])
    expect(r.code, r.stderr).toBe(0)
    const timeline = rig.read(".calls/timeline").trim().split("\n")
    expect(timeline).toHaveLength(12)
    expect(peak(timeline)).toBe(3)
    expect(peak(timeline, ["g1", "g2"])).toBe(1)
  })

  it("a slot holds one stage unless --slots gives it more", () => {
    rig = new Rig()
    rig.write("cairn.yaml", pipeline)
    const r = rig.run(["run", "g1", "g2", "-j", "4"])
    expect(r.code, r.stderr).toBe(0)
    expect(peak(rig.read(".calls/timeline").trim().split("\n"))).toBe(1)
    const again = rig.run(["run", "--force", "g1", "g2", "-j", "4", "--slots", "gpu=2"])
    expect(again.code, again.stderr).toBe(0)
    const forced = rig.read(".calls/timeline").trim().split("\n").slice(4)
    expect(forced).toHaveLength(4)
    expect(peak(forced)).toBe(2)
  })

  /** `first` runs alone (-j 1) while two independent stages wait for its job. */
  const queued = (first: string) => `stages:
  first:
    cmd: ${JSON.stringify(Rig.fake("first", first))}
    outs: [first.txt]
  w1:
    cmd: ${JSON.stringify(Rig.fake("w1", "echo 1 > w1.txt"))}
    outs: [w1.txt]
  w2:
    cmd: ${JSON.stringify(Rig.fake("w2", "echo 2 > w2.txt"))}
    outs: [w2.txt]
`

  it("a failure stops the stages still waiting for a job; --keep-going runs them", () => {
    rig = new Rig()
    rig.write("cairn.yaml", queued("exit 1"))
    const r = rig.run(["run", "-j", "1"])
    expect(r.code).toBe(1)
    expect(rig.calls("first")).toBe(1)
    expect(rig.calls("w1") + rig.calls("w2")).toBe(0)
    expect(r.stdout).toMatch(/skipped\s+w1: run stopped after a failure/)
    const k = rig.run(["run", "-j", "1", "--keep-going"])
    expect(k.code).toBe(1)
    expect(rig.read("w1.txt") + rig.read("w2.txt")).toBe("1\n2\n")
  })

  it("Ctrl-C stops the running stage and drops the waiting ones", async () => {
    rig = new Rig()
    rig.write("cairn.yaml", queued("echo $$ > .calls/first.pid; while [ ! -f go ]; do sleep 0.05; done; echo x > first.txt"))
    const run = rig.start(["run", "-j", "1"])
    await waitFor(() => rig.exists(".calls/first.pid"), 20_000, "first stage to start")
    const pid = Number(rig.read(".calls/first.pid"))
    run.child.kill("SIGINT")
    const r = await run.exited
    rig.write("go", "")
    expect(r.code).toBe(130)
    expect(isAlive(pid)).toBe(false)
    expect(rig.calls("w1") + rig.calls("w2")).toBe(0)
    expect(fs.readdirSync(rig.path("cache/locks")).filter((f) => f.endsWith(".lock"))).toEqual([])
    // The next run does it all.
    expect(rig.run(["run", "-j", "1"]).code).toBe(0)
    expect(rig.calls("w1") + rig.calls("w2")).toBe(2)
  })
})
