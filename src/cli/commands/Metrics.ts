/**
 * `cairn metrics show|diff`: the JSON metrics files stages declare, flattened to dotted keys.
 * `diff` compares the workspace with the last run records (`cairn.lock`), another lock file
 * (`--from FILE`), or the lock file at a git revision (`cairn metrics diff HEAD~1`).
 */
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Option } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { UsageError } from "../../core/Errors.js"
import { openGraph } from "../../engine/Workspace.js"
import { makeStore } from "../../store/ArtifactStore.js"
import { type LockFileData, readLockFile } from "../../store/LockFile.js"
import { layerShippedStages } from "../StageRegistry.js"
import { jsonFlag, pathsFrom, sharedFlags } from "../Common.js"
import { reportFailures } from "../ExitCode.js"

/** `{a: {b: 1}}` → `{"a.b": 1}`; numbers, strings and booleans are leaves. */
export const flatten = (value: unknown, prefix = "", out: Record<string, unknown> = {}): Record<string, unknown> => {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) flatten(v, prefix === "" ? k : `${prefix}.${k}`, out)
  } else if (Array.isArray(value) && value.every((v) => typeof v === "number")) out[prefix] = value
  else if (!Array.isArray(value)) out[prefix] = value
  return out
}

const workspaceMetrics = (paths: ReturnType<typeof pathsFrom>) =>
  openGraph(paths, []).pipe(
    Effect.provide(layerShippedStages),
    Effect.map((graph) => {
      const out: Record<string, Record<string, unknown>> = {}
      for (const name of graph.order) {
        for (const m of graph.stages.get(name)!.metrics) {
          const abs = path.join(graph.workspace, m)
          if (!fs.existsSync(abs)) continue
          try {
            out[m] = flatten(JSON.parse(fs.readFileSync(abs, "utf8")))
          } catch {
            out[m] = { "(unreadable)": true }
          }
        }
      }
      return out
    })
  )

const lockMetrics = (cacheDir: string, lock: LockFileData) =>
  Effect.gen(function*() {
    const store = makeStore(cacheDir)
    const out: Record<string, Record<string, unknown>> = {}
    for (const entry of Object.values(lock.stages)) {
      const record = yield* store.readRecord(entry.key)
      for (const [file, value] of Object.entries(record?.metrics ?? {})) out[file] = flatten(value)
    }
    return out
  })

const fmt = (v: unknown) => typeof v === "number" ? (Number.isInteger(v) ? String(v) : v.toPrecision(6)) : JSON.stringify(v)

const showCommand = Command.make(
  "show",
  { ...sharedFlags, json: jsonFlag },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const metrics = yield* workspaceMetrics(pathsFrom(f))
      if (f.json) return process.stdout.write(JSON.stringify(metrics) + "\n")
      if (Object.keys(metrics).length === 0) return process.stdout.write("no metrics files in the workspace\n")
      for (const [file, values] of Object.entries(metrics)) {
        process.stdout.write(`${file}\n`)
        for (const [k, v] of Object.entries(values)) process.stdout.write(`  ${k}: ${fmt(v)}\n`)
      }
    }))
).pipe(Command.withDescription("Print the metrics files in the workspace"))

const diffCommand = Command.make(
  "diff",
  {
    ...sharedFlags,
    rev: Argument.String("rev").pipe(Argument.withDescription("Git revision whose lock file to compare against"), Argument.optional),
    from: Flag.String("from").pipe(Flag.withDescription("A lock file to compare against"), Flag.optional),
    json: jsonFlag
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const paths = pathsFrom(f)
      let base: LockFileData
      let baseName: string
      if (Option.isSome(f.from)) {
        const file = path.resolve(f.from.value)
        if (!fs.existsSync(file)) return yield* new UsageError({ reason: `--from: ${f.from.value} not found` })
        base = readLockFile(file)
        baseName = f.from.value
      } else if (Option.isSome(f.rev)) {
        const rel = path.relative(paths.root, paths.lockFile)
        let text: string
        try {
          text = execFileSync("git", ["show", `${f.rev.value}:./${rel}`], { cwd: paths.root, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })
        } catch (e) {
          return yield* new UsageError({ reason: `cannot read ${rel} at ${f.rev.value}: ${String((e as { stderr?: string }).stderr ?? e).trim()}` })
        }
        base = JSON.parse(text) as LockFileData
        baseName = f.rev.value
      } else {
        base = readLockFile(paths.lockFile)
        baseName = "last run"
      }
      const before = yield* lockMetrics(paths.cacheDir, base)
      const after = yield* workspaceMetrics(paths)
      const rows: Array<{ file: string; metric: string; old: unknown; new: unknown; change?: number }> = []
      for (const file of [...new Set([...Object.keys(before), ...Object.keys(after)])].sort()) {
        const a = before[file] ?? {}
        const b = after[file] ?? {}
        for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
          if (JSON.stringify(a[k]) === JSON.stringify(b[k])) continue
          const change = typeof a[k] === "number" && typeof b[k] === "number" ? (b[k] as number) - (a[k] as number) : undefined
          rows.push({ file, metric: k, old: a[k], new: b[k], ...(change !== undefined ? { change } : {}) })
        }
      }
      if (f.json) return process.stdout.write(JSON.stringify({ base: baseName, changes: rows }) + "\n")
      if (rows.length === 0) return process.stdout.write(`metrics unchanged against ${baseName}\n`)
      process.stdout.write(`against ${baseName}:\n`)
      for (const r of rows) {
        const delta = r.change !== undefined ? ` (${r.change >= 0 ? "+" : ""}${fmt(r.change)})` : ""
        process.stdout.write(`${r.file}  ${r.metric}: ${r.old === undefined ? "-" : fmt(r.old)} -> ${r.new === undefined ? "-" : fmt(r.new)}${delta}\n`)
      }
    }))
).pipe(Command.withDescription("Compare workspace metrics with the last run, a lock file (--from) or a git revision"))

export const metricsCommand = Command.make("metrics").pipe(
  Command.withDescription("Show and compare metrics"),
  Command.withSubcommands([showCommand, diffCommand])
)
