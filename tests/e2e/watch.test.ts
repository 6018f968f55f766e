import * as crypto from "node:crypto"
import * as fs from "node:fs"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { isAlive, Rig, waitFor } from "./rig.js"

/**
 * `cairn watch --json` on a temp workspace: the test edits files and follows the event stream.
 * a → b (b reads a's out), and c on its own; `slow` waits for a go-file so a test can edit its
 * input while it runs.
 */
const pipeline = (extra = "") => `stages:
  a:
    cmd: ${JSON.stringify(Rig.fake("a", "mkdir -p out && cat in/a.txt > out/a.txt"))}
    deps: [in/a.txt]
    outs: [out/a.txt]
  b:
    cmd: ${JSON.stringify(Rig.fake("b", "tr a-z A-Z < out/a.txt > out/b.txt"))}
    deps: [out/a.txt]
    outs: [out/b.txt]
  c:
    cmd: ${JSON.stringify(Rig.fake("c", "cat in/c.txt > out/c.txt"))}
    deps: [in/c.txt]
    outs: [out/c.txt]
${extra}`

const slowStage = `  slow:
    cmd: ${JSON.stringify(Rig.fake("slow", "echo $$ > .calls/slow.pid; sleep 300 & echo $! > .calls/grandchild.pid; echo partial > out/s.txt; while [ ! -f go ]; do sleep 0.02; done; kill $! 2>/dev/null; cat in/s.txt > out/s.txt"))}
    deps: [in/s.txt]
    outs: [out/s.txt]
`

type Event = { readonly _tag: string; readonly [k: string]: unknown }

/** A running `cairn watch --json` and the events it has printed so far. */
class Session {
  readonly events: Array<Event> = []
  readonly proc: ReturnType<Rig["start"]>
  constructor(rig: Rig, args: ReadonlyArray<string> = []) {
    this.proc = rig.start(["watch", "--json", ...args])
    let rest = ""
    this.proc.child.stdout!.on("data", (d: Buffer) => {
      const lines = (rest + d.toString("utf8")).split("\n")
      rest = lines.pop()!
      for (const l of lines) if (l.trim() !== "") this.events.push(JSON.parse(l) as Event)
    })
  }
  count(tag: string, pred: (e: Event) => boolean = () => true): number {
    return this.events.filter((e) => e._tag === tag && pred(e)).length
  }
  idles(): number {
    return this.count("WatchState", (e) => e.state === "watching")
  }
  /** Runs `act`, then waits until the watcher has been busy and is idle again. */
  async settle(act: () => void, what: string): Promise<void> {
    const before = this.idles()
    const triggers = this.count("WatchTriggered") + this.count("WatchInvalid") + this.count("WatchReloaded")
    act()
    await waitFor(() => this.count("WatchTriggered") + this.count("WatchInvalid") + this.count("WatchReloaded") > triggers, 10_000, `${what}: a reaction`)
    await waitFor(() => this.idles() > before || this.events.at(-1)?._tag === "WatchInvalid", 15_000, `${what}: idle again`)
  }
  /** Nothing more happens for a while: no rerun follows cairn's own writes. */
  async quiet(ms = 400): Promise<void> {
    const n = this.events.length
    await new Promise((r) => setTimeout(r, ms))
    expect(this.events.slice(n)).toEqual([])
  }
  async stop(): Promise<number | null> {
    this.proc.child.kill("SIGINT")
    return (await this.proc.exited).code
  }
}

const sha256 = (s: string) => crypto.createHash("sha256").update(s).digest("hex")
const calls = (rig: Rig, ...names: Array<string>) => names.map((n) => rig.calls(n))

describe("cairn watch", () => {
  let rig: Rig
  let session: Session | undefined
  beforeEach(() => {
    rig = new Rig("cairn-watch-")
    rig.write("in/a.txt", "hello\n")
    rig.write("in/c.txt", "sea\n")
    rig.write("in/s.txt", "slow one\n")
  })
  afterEach(async () => {
    rig.write("go", "")
    if (session !== undefined && session.proc.child.exitCode === null) await session.stop()
    session = undefined
    rig.cleanup()
  })

  const start = async (yaml: string | undefined, args: ReadonlyArray<string> = []) => {
    if (yaml !== undefined) rig.write("cairn.yaml", yaml)
    session = new Session(rig, args)
    await waitFor(() => session!.idles() > 0, 15_000, "the first run to finish")
    rig.resetCalls()
    return session
  }

  it("one edit reruns exactly the affected cone, once; cairn's own writes trigger nothing", async () => {
    const s = await start(pipeline())
    await s.settle(() => rig.write("in/a.txt", "changed\n"), "edit")
    await s.quiet()
    expect(calls(rig, "a", "b", "c")).toEqual([1, 1, 0])
    expect(rig.read("out/b.txt")).toBe("CHANGED\n")
    const triggered = s.events.filter((e) => e._tag === "WatchTriggered")
    expect(triggered).toEqual([{ _tag: "WatchTriggered", paths: ["in/a.txt"], stages: ["a", "b"], interrupting: [] }])
    expect(s.count("Planned")).toBe(2)
  })

  it("an input deleted and created again is still watched", async () => {
    const s = await start(pipeline())
    await s.settle(() => fs.rmSync(rig.path("in/c.txt")), "delete")
    expect(s.events.filter((e) => e._tag === "Failed").map((e) => e.stage)).toEqual(["c"])
    await s.settle(() => rig.write("in/c.txt", "sea again\n"), "create")
    await s.settle(() => rig.write("in/c.txt", "sea three\n"), "edit")
    expect(calls(rig, "a", "b", "c")).toEqual([0, 0, 3])
    expect(rig.read("out/c.txt")).toBe("sea three\n")
  })

  it("a burst of 20 writes in 50 ms is one rerun", async () => {
    const s = await start(pipeline())
    await s.settle(() => {
      const t0 = Date.now()
      for (let i = 0; i < 20; i++) {
        rig.write("in/a.txt", `burst ${i}\n`)
        while (Date.now() - t0 < (i + 1) * 2.5) { /* spread the writes over 50 ms */ }
      }
    }, "burst")
    await s.quiet()
    expect(calls(rig, "a", "b", "c")).toEqual([1, 1, 0])
    expect(s.count("WatchTriggered")).toBe(1)
    expect(rig.read("out/b.txt")).toBe("BURST 19\n")
  })

  it("an edit during a long stage interrupts it and reruns it; the partial output never reaches the store", async () => {
    rig.write("cairn.yaml", pipeline(slowStage))
    session = new Session(rig)
    const s = session
    await waitFor(() => rig.exists(".calls/grandchild.pid") && rig.calls("slow") === 1, 15_000, "slow to start")
    const first = [Number(rig.read(".calls/slow.pid")), Number(rig.read(".calls/grandchild.pid"))]
    fs.rmSync(rig.path(".calls/grandchild.pid"))
    rig.write("in/s.txt", "slow two\n")
    await waitFor(() => rig.calls("slow") === 2 && rig.exists(".calls/grandchild.pid"), 10_000, "slow to rerun")
    for (const pid of first) expect(isAlive(pid)).toBe(false)
    expect(s.count("WatchTriggered", (e) => (e.interrupting as Array<string>).includes("slow"))).toBe(1)
    expect(s.count("Interrupted", (e) => e.stage === "slow")).toBe(1)
    rig.write("go", "")
    await waitFor(() => s.count("Succeeded", (e) => e.stage === "slow") === 1, 10_000, "slow to finish")
    expect(rig.read("out/s.txt")).toBe("slow two\n")
    // The store holds one run of slow, for the new input; nothing of the interrupted one.
    const records = fs.readdirSync(rig.path("cache/runs")).map((f) => JSON.parse(rig.read(`cache/runs/${f}`)) as { stage: string; outs: Record<string, { hash: string }> })
    const slowRecords = records.filter((r) => r.stage === "slow")
    expect(slowRecords).toHaveLength(1)
    expect(slowRecords[0]!.outs["out/s.txt"]!.hash).toBe(sha256("slow two\n"))
    expect(calls(rig, "a", "b", "c")).toEqual([1, 1, 1])
  })

  it("a stage the change does not affect keeps running while the affected one reruns beside it", async () => {
    rig.write("cairn.yaml", pipeline(slowStage))
    session = new Session(rig)
    const s = session
    await waitFor(() => rig.exists(".calls/slow.pid") && s.count("Succeeded", (e) => e.stage === "c") === 1, 15_000, "slow running, c done")
    const pid = Number(rig.read(".calls/slow.pid"))
    rig.write("in/c.txt", "sea two\n")
    await waitFor(() => s.count("Succeeded", (e) => e.stage === "c" && e.run === 2) === 1, 10_000, "c to rerun")
    expect(isAlive(pid)).toBe(true)
    expect(rig.calls("slow")).toBe(1)
    expect(s.count("Interrupted")).toBe(0)
    rig.write("go", "")
    await waitFor(() => s.count("Succeeded", (e) => e.stage === "slow") === 1, 10_000, "slow to finish")
    expect(rig.read("out/c.txt")).toBe("sea two\n")
  })

  it("adding a stage to the pipeline file runs only the new stage", async () => {
    const s = await start(pipeline())
    rig.write("in/d.txt", "dee\n")
    await s.settle(() =>
      rig.write("cairn.yaml", pipeline(`  d:
    cmd: ${JSON.stringify(Rig.fake("d", "cat in/d.txt out/c.txt > out/d.txt"))}
    deps: [in/d.txt, out/c.txt]
    outs: [out/d.txt]
`)), "pipeline edit")
    await s.quiet()
    expect(calls(rig, "a", "b", "c", "d")).toEqual([0, 0, 0, 1])
    expect(rig.read("out/d.txt")).toBe("dee\nsea\n")
    expect(s.events.find((e) => e._tag === "WatchReloaded")).toMatchObject({ added: ["d"], changed: [], removed: [] })
    // The new stage's own input is watched from now on.
    await s.settle(() => rig.write("in/d.txt", "dee two\n"), "edit of the new stage's input")
    expect(calls(rig, "a", "b", "c", "d")).toEqual([0, 0, 0, 2])
  })

  it("an invalid edit is reported, the watcher keeps the last valid pipeline, and fixing it resumes", async () => {
    const s = await start(pipeline())
    await s.settle(() => rig.write("cairn.yaml", pipeline() + "  broken: [\n"), "invalid edit")
    const invalid = s.events.find((e) => e._tag === "WatchInvalid")
    expect(invalid?.message).toMatch(/cairn\.yaml:\d+:\d+: \(syntax\): malformed YAML/)
    expect(s.proc.child.exitCode).toBe(null)
    // Still watching, with the last valid graph.
    await s.settle(() => rig.write("in/c.txt", "sea two\n"), "edit while invalid")
    expect(calls(rig, "a", "b", "c")).toEqual([0, 0, 1])
    // The fix changes stage c's command: only c reruns.
    await s.settle(() => rig.write("cairn.yaml", pipeline().replace("cat in/c.txt > out/c.txt", "cat in/c.txt in/c.txt > out/c.txt")), "fix")
    await s.quiet()
    expect(s.events.filter((e) => e._tag === "WatchReloaded").at(-1)).toMatchObject({ added: [], changed: ["c"], removed: [] })
    expect(calls(rig, "a", "b", "c")).toEqual([0, 0, 2])
    expect(rig.read("out/c.txt")).toBe("sea two\nsea two\n")
  })

  it("a module pipeline reloads when a module it imports changes", async () => {
    const stagesModule = (cmd: string) =>
      `export const c = { cmd: ${JSON.stringify(Rig.fake("c", cmd))}, deps: ["in/c.txt"], outs: ["out/c.txt"] }\n`
    rig.write("stages.mjs", stagesModule("mkdir -p out && cat in/c.txt > out/c.txt"))
    rig.write("pipeline.mjs", 'import { c } from "./stages.mjs"\nexport default { stages: { c } }\n')
    const s = await start(undefined, ["-f", "pipeline.mjs"])
    await s.settle(() => rig.write("stages.mjs", stagesModule("mkdir -p out && cat in/c.txt in/c.txt > out/c.txt")), "module edit")
    expect(s.events.find((e) => e._tag === "WatchReloaded")).toMatchObject({ file: "stages.mjs", changed: ["c"] })
    expect(rig.calls("c")).toBe(1)
    expect(rig.read("out/c.txt")).toBe("sea\nsea\n")
  })

  it("a failed stage is held until one of its inputs changes: no retry loop", async () => {
    rig.write("in/f.txt", "bad\n")
    const s = await start(pipeline(`  f:
    cmd: ${JSON.stringify(Rig.fake("f", "grep -q good in/f.txt && cat out/a.txt in/f.txt > out/f.txt"))}
    deps: [out/a.txt, in/f.txt]
    outs: [out/f.txt]
`))
    expect(s.count("Failed", (e) => e.stage === "f")).toBe(1)
    // An unrelated edit leaves it alone.
    await s.settle(() => rig.write("in/c.txt", "sea two\n"), "unrelated edit")
    expect(calls(rig, "a", "b", "c", "f")).toEqual([0, 0, 1, 0])
    // Its upstream is saved with the same bytes: its key is unchanged, so it is not retried.
    await s.settle(() => rig.write("in/a.txt", "hello\n"), "same-bytes save upstream")
    expect(calls(rig, "a", "b", "c", "f")).toEqual([0, 0, 1, 0])
    expect(s.events.filter((e) => e._tag === "Skipped" && e.stage === "f").at(-1)?.reason).toMatch(/failed with these inputs/)
    await s.quiet()
    // Fixing its input runs it again.
    await s.settle(() => rig.write("in/f.txt", "good\n"), "fix")
    await s.quiet()
    expect(calls(rig, "a", "b", "c", "f")).toEqual([0, 0, 1, 1])
    expect(rig.read("out/f.txt")).toBe("hello\ngood\n")
  })

  it("Ctrl-C exits 130, leaves no child running and nothing partial in the store", async () => {
    rig.write("cairn.yaml", pipeline(slowStage))
    session = new Session(rig)
    await waitFor(() => rig.exists(".calls/grandchild.pid") && rig.exists(".calls/slow.pid"), 15_000, "slow to start")
    await waitFor(() => session!.count("Succeeded") === 3, 10_000, "a, b and c to finish")
    const pids = [Number(rig.read(".calls/slow.pid")), Number(rig.read(".calls/grandchild.pid"))]
    const code = await session.stop()
    expect(code).toBe(130)
    for (const pid of pids) expect(isAlive(pid)).toBe(false)
    expect(rig.exists("out/s.txt")).toBe(false)
    const stages = fs.readdirSync(rig.path("cache/runs")).map((f) => (JSON.parse(rig.read(`cache/runs/${f}`)) as { stage: string }).stage)
    expect(stages.sort()).toEqual(["a", "b", "c"])
    expect(session.events.at(-1)).toEqual({ _tag: "WatchStopped" })
  })
})
