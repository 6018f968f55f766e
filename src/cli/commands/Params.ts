/**
 * `cairn params diff`: params each stage reads now versus what its last run read.
 */
import { Effect } from "effect"
import { Command } from "effect/cli"
import { canonicalJson } from "../../fingerprint/Fingerprint.js"
import { openGraph } from "../../engine/Workspace.js"
import { readLockFile } from "../../store/LockFile.js"
import { layerShippedStages } from "../StageRegistry.js"
import { jsonFlag, pathsFrom, sharedFlags } from "../Common.js"
import { reportFailures } from "../ExitCode.js"

const diffCommand = Command.make(
  "diff",
  { ...sharedFlags, json: jsonFlag },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const paths = pathsFrom(f)
      const graph = yield* openGraph(paths, []).pipe(Effect.provide(layerShippedStages))
      const lock = readLockFile(paths.lockFile)
      const rows: Array<{ stage: string; param: string; old: unknown; new: unknown }> = []
      for (const name of graph.order) {
        const stage = graph.stages.get(name)!
        const now: Record<string, unknown> = stage.kind === "builtin" ? { ...stage.params, with: stage.with } : { ...stage.params }
        const before = lock.stages[name]?.params ?? {}
        for (const k of [...new Set([...Object.keys(before), ...Object.keys(now)])].sort()) {
          if (canonicalJson(before[k]) !== canonicalJson(now[k])) rows.push({ stage: name, param: k, old: before[k], new: now[k] })
        }
      }
      if (f.json) return process.stdout.write(JSON.stringify({ changes: rows }) + "\n")
      if (rows.length === 0) return process.stdout.write("no param changes since the last run\n")
      const show = (v: unknown) => v === undefined ? "(none)" : canonicalJson(v)
      for (const r of rows) process.stdout.write(`${r.stage}  ${r.param}: ${show(r.old)} -> ${show(r.new)}\n`)
    }))
).pipe(Command.withDescription("Show params that changed since each stage's last run"))

export const paramsCommand = Command.make("params").pipe(
  Command.withDescription("Inspect params"),
  Command.withSubcommands([diffCommand])
)
