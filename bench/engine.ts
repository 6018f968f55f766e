/**
 * Engine benchmark: a layered DAG of 200 shell stages (10 layers × 20; each stage reads two
 * upstream outputs; 20 input files of 1 MiB), run by cairn, GNU make and, when installed,
 * Snakemake, in one session on one machine:
 *   - cold: every stage runs (fresh workspace, empty store); median of five, the tools taking turns
 *   - no-op: nothing changed (median of nine runs)
 *   - one input changed: the affected cone reruns (median of three changes, a different byte each)
 * Prints a table of wall times and ratios. `--json` prints the figures as one JSON object.
 */
import { execFileSync, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const LAYERS = 10
const WIDTH = 20
const INPUT_BYTES = 1 << 20
const NOOP_RUNS = 9
const COLD_RUNS = 5
const CHANGED_RUNS = 3
const binDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "bin")
/** The `cairn` command as installed (package.json `bin`). */
const cairn = path.join(binDir, "cairn")
/** The script it starts; run directly, Node loads NODE_EXTRA_CA_CERTS first, when that is set. */
const cairnScript = path.join(binDir, "cairn.cjs")
const jobs = os.availableParallelism()

const out = (l: number, s: number) => `out/l${l}_s${s}.bin`
const input = (s: number) => `in/f${s}.bin`
const depsOf = (l: number, s: number) =>
  l === 0 ? [input(s), input((s + 1) % WIDTH)] : [out(l - 1, s), out(l - 1, (s + 1) % WIDTH)]
/** Output depends on both inputs (so a change anywhere propagates) and stays 1 MiB. */
const command = (a: string, b: string, o: string) => `(cat ${a} ${b} | sha256sum; head -c ${INPUT_BYTES - 100} ${b}) > ${o}`

const writeInputs = (dir: string) => {
  fs.mkdirSync(path.join(dir, "in"), { recursive: true })
  fs.mkdirSync(path.join(dir, "out"), { recursive: true })
  for (let s = 0; s < WIDTH; s++) {
    const buf = Buffer.alloc(INPUT_BYTES)
    for (let i = 0; i < INPUT_BYTES; i += 4) buf.writeUInt32LE((i * 2654435761 + s * 97) >>> 0, i)
    fs.writeFileSync(path.join(dir, input(s)), buf)
  }
}

const stages = () => {
  const list: Array<{ name: string; deps: Array<string>; out: string }> = []
  for (let l = 0; l < LAYERS; l++) for (let s = 0; s < WIDTH; s++) list.push({ name: `l${l}_s${s}`, deps: depsOf(l, s), out: out(l, s) })
  return list
}

const setupCairn = (dir: string) => {
  writeInputs(dir)
  const yaml = ["stages:"]
  for (const st of stages()) {
    yaml.push(`  ${st.name}:`, `    cmd: ${JSON.stringify(command(st.deps[0]!, st.deps[1]!, st.out))}`, `    deps: [${st.deps.join(", ")}]`, `    outs: [${st.out}]`)
  }
  fs.writeFileSync(path.join(dir, "cairn.yaml"), yaml.join("\n") + "\n")
}

const setupMake = (dir: string) => {
  writeInputs(dir)
  const all = stages()
  const mk = [`all: ${all.map((s) => s.out).join(" ")}`, ""]
  for (const st of all) mk.push(`${st.out}: ${st.deps.join(" ")}`, `\t${command(st.deps[0]!, st.deps[1]!, st.out)}`, "")
  fs.writeFileSync(path.join(dir, "Makefile"), mk.join("\n"))
}

const setupSnakemake = (dir: string) => {
  writeInputs(dir)
  const all = stages()
  const sm = [`rule all:`, `    input: ${all.map((s) => JSON.stringify(s.out)).join(", ")}`, ""]
  for (const st of all) {
    sm.push(`rule ${st.name}:`, `    input: ${st.deps.map((d) => JSON.stringify(d)).join(", ")}`, `    output: ${JSON.stringify(st.out)}`, `    shell: ${JSON.stringify(command("{input[0]}", "{input[1]}", "{output}"))}`, "")
  }
  fs.writeFileSync(path.join(dir, "Snakefile"), sm.join("\n"))
}

const time = (cmd: string, args: ReadonlyArray<string>, cwd: string): number => {
  const t0 = process.hrtime.bigint()
  const r = spawnSync(cmd, args, { cwd, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8", env: { ...process.env, CI: "1" } })
  const ms = Number(process.hrtime.bigint() - t0) / 1e6
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr.slice(-2000)}`)
  return ms
}

const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

/** The k-th change to the same input: a different byte each time, so no change undoes another. */
const changeOneInput = (dir: string, k: number) => {
  const f = path.join(dir, input(7))
  const buf = fs.readFileSync(f)
  buf[12345 + k] = (buf[12345 + k]! + 1) % 256
  fs.writeFileSync(f, buf)
}

interface ToolResult {
  /** Median of the cold runs. */
  readonly cold: number
  readonly coldRuns: ReadonlyArray<number>
  readonly noop: number
  readonly noopRuns: ReadonlyArray<number>
  /** No-op median of the tool's variant, when it has one. */
  readonly variantNoop?: number
  readonly changed: number
  readonly changedRuns: ReadonlyArray<number>
}

interface Tool {
  readonly name: string
  readonly setup: (dir: string) => void
  readonly cmd: string
  readonly args: ReadonlyArray<string>
  /** Another way to start the tool, timed on the no-op only. */
  readonly variant?: { readonly cmd: string; readonly args: ReadonlyArray<string> }
}

/**
 * Workspaces are removed after every tool has run, not after each: on ext4 a file created soon
 * after many deletions in the same block group costs more (without a journal the allocator skips
 * inodes freed in the last seconds), so removing one tool's workspace would slow the next tool's
 * cold run.
 */
const workspaces: Array<string> = []

const freshWorkspace = (tool: Tool): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `cairn-bench-${tool.name}-`))
  workspaces.push(dir)
  tool.setup(dir)
  return dir
}

/**
 * Cold runs take turns across the tools (a slow minute on the machine then hits all of them),
 * and each tool's figure is the median of its runs. The last cold workspace then serves the no-op
 * and one-input-changed runs.
 */
const measureAll = (tools: ReadonlyArray<Tool>): Record<string, ToolResult> => {
  const cold = new Map<string, Array<number>>(tools.map((t) => [t.name, []]))
  const last = new Map<string, string>()
  for (let round = 0; round < COLD_RUNS; round++) {
    for (const tool of tools) {
      const dir = freshWorkspace(tool)
      // Each cold run starts with nothing left to write back from the runs before it.
      spawnSync("sync")
      cold.get(tool.name)!.push(time(tool.cmd, tool.args, dir))
      last.set(tool.name, dir)
    }
  }
  const results: Record<string, ToolResult> = {}
  for (const tool of tools) {
    const dir = last.get(tool.name)!
    // Outputs written within the last second are re-hashed on the next run (racy-stat guard);
    // a real no-op happens later than that, so the measurement does too.
    spawnSync("sync")
    spawnSync("sleep", ["1.1"])
    time(tool.cmd, tool.args, dir) // warm the page cache and let each tool settle its state files
    const noopRuns = Array.from({ length: NOOP_RUNS }, () => time(tool.cmd, tool.args, dir))
    const variant = tool.variant
    const variantNoop = variant !== undefined ? median(Array.from({ length: NOOP_RUNS }, () => time(variant.cmd, variant.args, dir))) : undefined
    const changedRuns = Array.from({ length: CHANGED_RUNS }, (_, k) => {
      changeOneInput(dir, k)
      // As for the no-op: an edit comes later than the racy-stat window of the last run's outputs.
      spawnSync("sync")
      spawnSync("sleep", ["1.1"])
      return time(tool.cmd, tool.args, dir)
    })
    const coldRuns = cold.get(tool.name)!
    results[tool.name] = {
      cold: median(coldRuns),
      coldRuns,
      noop: median(noopRuns),
      noopRuns,
      changed: median(changedRuns),
      changedRuns,
      ...(variantNoop !== undefined ? { variantNoop } : {})
    }
  }
  return results
}

/**
 * A bare `node -e 0`, the floor under every cairn run: the no-op figure is cairn's work on top of
 * it. NODE_EXTRA_CA_CERTS, when set, makes Node 20 parse its CA bundle at every start.
 */
const nodeStartup = (): number => median(Array.from({ length: 5 }, () => time(process.execPath, ["-e", "0"], os.tmpdir())))

const hasSnakemake = () => spawnSync("snakemake", ["--version"], { encoding: "utf8" }).status === 0

export const benchEngine = () => {
  const tools: Array<Tool> = [
    { name: "make", setup: setupMake, cmd: "make", args: ["-s", `-j${jobs}`] },
    {
      name: "cairn",
      setup: setupCairn,
      cmd: cairn,
      args: ["run", `-j${jobs}`],
      ...(process.env.NODE_EXTRA_CA_CERTS !== undefined ? { variant: { cmd: process.execPath, args: [cairnScript, "run", `-j${jobs}`] } } : {})
    }
  ]
  if (hasSnakemake()) tools.push({ name: "snakemake", setup: setupSnakemake, cmd: "snakemake", args: ["--cores", String(jobs), "--quiet"] })
  try {
    return measureAll(tools)
  } finally {
    for (const dir of workspaces.splice(0)) fs.rmSync(dir, { recursive: true, force: true })
  }
}

const main = () => {
  const json = process.argv.includes("--json")
  const bundle = path.join(binDir, "..", "dist", "bin", "cairn.cjs")
  if (!fs.existsSync(bundle)) throw new Error(`build first: ${bundle} is missing (npm run build)`)
  const r = benchEngine()
  const c = r.cairn!
  const m = r.make!
  const s = r.snakemake
  const figures = {
    dag: `${LAYERS}x${WIDTH} shell stages, ${WIDTH} inputs of 1 MiB, -j${jobs}`,
    cairn: c,
    make: m,
    ...(s ? { snakemake: s } : {}),
    nodeStartupMs: nodeStartup(),
    ratios: {
      coldVsMake: c.cold / m.cold,
      changedVsMake: c.changed / m.changed,
      ...(s ? { snakemakeNoopVsCairnNoop: s.noop / c.noop } : {})
    },
    versions: {
      node: process.version,
      make: execFileSync("make", ["--version"], { encoding: "utf8" }).split("\n")[0],
      ...(s ? { snakemake: execFileSync("snakemake", ["--version"], { encoding: "utf8" }).trim() } : {})
    }
  }
  if (json) {
    process.stdout.write(JSON.stringify(figures) + "\n")
    return
  }
  const row = (name: string, t: ToolResult | undefined) =>
    t === undefined ? `| ${name} | not installed | | |` : `| ${name} | ${t.cold.toFixed(0)} | ${t.noop.toFixed(0)} | ${t.changed.toFixed(0)} |`
  const lines = [
    `engine benchmark: ${figures.dag} (${figures.versions.make}${s ? `, snakemake ${figures.versions.snakemake}` : ""}, node ${process.version})`,
    "",
    `| tool | cold run ms (median of ${COLD_RUNS}) | no-op ms (median of ${NOOP_RUNS}) | one input changed ms (median of ${CHANGED_RUNS}) |`,
    "|---|---|---|---|",
    row("cairn", c),
    row("GNU make", m),
    row("Snakemake", s),
    "",
    `cold runs: ${Object.entries(r).map(([name, t]) => `${name} ${t.coldRuns.map((x) => x.toFixed(0)).join(" ")}`).join("; ")}`,
    `one input changed: ${Object.entries(r).map(([name, t]) => `${name} ${t.changedRuns.map((x) => x.toFixed(0)).join(" ")}`).join("; ")}`,
    `cairn no-op median ${c.noop.toFixed(0)} ms (target <= 150 ms); runs: ${c.noopRuns.map((x) => x.toFixed(0)).join(" ")}`,
    `node start-up (node -e 0, median of 5): ${figures.nodeStartupMs.toFixed(0)} ms${process.env.NODE_EXTRA_CA_CERTS !== undefined ? " (NODE_EXTRA_CA_CERTS is set: Node 20 parses the CA bundle at every start)" : ""}`,
    ...(c.variantNoop !== undefined
      ? [`cairn no-op as \`node bin/cairn.cjs run\` (Node loads NODE_EXTRA_CA_CERTS, which bin/cairn withholds from cairn's own process): median ${c.variantNoop.toFixed(0)} ms`]
      : []),
    `cold run: cairn / make = ${figures.ratios.coldVsMake.toFixed(2)}x (target <= 1.5x)`,
    `one input changed: cairn / make = ${figures.ratios.changedVsMake.toFixed(2)}x (target <= 2x)`,
    s ? `no-op: Snakemake / cairn = ${(s.noop / c.noop).toFixed(1)}x (target >= 10x)` : "no-op vs Snakemake: snakemake not installed (apt-get install snakemake)"
  ]
  process.stdout.write(lines.join("\n") + "\n")
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) main()
