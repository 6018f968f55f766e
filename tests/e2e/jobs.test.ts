import { afterEach, describe, expect, it } from "vitest"
import { Rig } from "./rig.js"

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
})
