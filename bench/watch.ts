/**
 * Watch latency benchmark: the time from a write to an input until the stage reading it starts,
 * under `cairn watch --json` with the default debounce (100 ms), over EDITS separate edits. The
 * edited stage sits among STAGES independent ones and has a downstream stage, so the lookup of
 * the affected cone and the run's freshness checks are measured at a realistic size.
 *
 * Two clocks: the arrival of the stage's Started event on the watcher's stdout (returned), and the
 * stage command's own start, stamped by `date` (printed when the platform's date has %N).
 * Run standalone: `node dist/bench/watch.js [--json]`.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"

const EDITS = 20
const STAGES = 100
const cairn = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bin", "cairn.cjs")

interface Event {
  readonly _tag: string
  readonly stage?: string
  readonly state?: string
  readonly run?: number
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const setup = (dir: string) => {
  fs.mkdirSync(path.join(dir, "in"), { recursive: true })
  const yaml = ["stages:"]
  for (let i = 0; i < STAGES; i++) {
    fs.writeFileSync(path.join(dir, `in/f${i}.txt`), `input ${i}\n`)
    // Stage 0 stamps its start (ms since the epoch) before doing its work.
    const cmd = i === 0 ? "date +%s%3N > stamp; mkdir -p out && cat in/f0.txt > out/0.txt" : `mkdir -p out && cat in/f${i}.txt > out/${i}.txt`
    yaml.push(`  s${i}:`, `    cmd: ${JSON.stringify(cmd)}`, `    deps: [in/f${i}.txt]`, `    outs: [out/${i}.txt]`)
  }
  yaml.push("  d0:", `    cmd: ${JSON.stringify("tr a-z A-Z < out/0.txt > out/d0.txt")}`, "    deps: [out/0.txt]", "    outs: [out/d0.txt]")
  fs.writeFileSync(path.join(dir, "cairn.yaml"), yaml.join("\n") + "\n")
}

export async function benchWatch(): Promise<{ medianMs: number; p90Ms: number; edits: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-bench-watch-"))
  setup(dir)
  const child = spawn(process.execPath, [cairn, "watch", "--json"], { cwd: dir, env: { ...process.env, CI: "1" }, stdio: ["ignore", "pipe", "inherit"] })
  const seen: Array<{ readonly event: Event; readonly at: number }> = []
  let rest = ""
  child.stdout.on("data", (d: Buffer) => {
    const at = Date.now()
    const lines = (rest + d.toString("utf8")).split("\n")
    rest = lines.pop()!
    for (const l of lines) if (l.trim() !== "") seen.push({ event: JSON.parse(l) as Event, at })
  })
  const until = async (cond: () => boolean, what: string, timeoutMs = 30_000) => {
    const t0 = Date.now()
    while (!cond()) {
      if (child.exitCode !== null) throw new Error(`cairn watch exited (${child.exitCode}) while waiting for ${what}`)
      if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 2))
    }
  }
  const idles = () => seen.filter((s) => s.event._tag === "WatchState" && s.event.state === "watching").length

  const eventLatencies: Array<number> = []
  const commandLatencies: Array<number> = []
  try {
    await until(() => idles() > 0, "the first run")
    for (let i = 0; i < EDITS; i++) {
      const idle = idles()
      const from = seen.length
      const t0 = Date.now()
      fs.writeFileSync(path.join(dir, "in/f0.txt"), `edit ${i}\n`)
      await until(() => seen.slice(from).some((s) => s.event._tag === "Started" && s.event.stage === "s0"), `edit ${i} to start s0`)
      eventLatencies.push(seen.slice(from).find((s) => s.event._tag === "Started" && s.event.stage === "s0")!.at - t0)
      await until(() => idles() > idle, `edit ${i} to finish`)
      const stamp = Number(fs.readFileSync(path.join(dir, "stamp"), "utf8").trim())
      if (Number.isFinite(stamp)) commandLatencies.push(stamp - t0)
      // Separate edits, not a burst: a pause longer than the debounce window.
      await new Promise((r) => setTimeout(r, 150))
    }
  } finally {
    child.kill("SIGINT")
    await new Promise((r) => child.once("close", r))
    fs.rmSync(dir, { recursive: true, force: true })
  }
  const sorted = [...eventLatencies].sort((a, b) => a - b)
  const cmd = [...commandLatencies].sort((a, b) => a - b)
  if (cmd.length === EDITS && !process.argv.includes("--json")) {
    process.stdout.write(`stage command start: median ${percentile(cmd, 50)} ms, p90 ${percentile(cmd, 90)} ms\n`)
  }
  return { medianMs: percentile(sorted, 50), p90Ms: percentile(sorted, 90), edits: sorted.length }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const r = await benchWatch()
  if (process.argv.includes("--json")) process.stdout.write(JSON.stringify(r) + "\n")
  else {
    process.stdout.write(`write → Started event (${r.edits} edits, debounce 100 ms, ${STAGES + 1} stages): median ${r.medianMs} ms, p90 ${r.p90Ms} ms\n`)
  }
}
