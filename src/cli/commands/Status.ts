/**
 * `cairn status [--explain]`: which stages would rerun and why, without running anything.
 */
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { assessStage } from "../../engine/Assess.js"
import { openGraph } from "../../engine/Workspace.js"
import { FileHasher } from "../../fingerprint/FileHasher.js"
import { engineLayer } from "../../platform/NodeLive.js"
import { readLockFile } from "../../store/LockFile.js"
import { jsonFlag, pathsFrom, sharedFlags } from "../Common.js"
import { reportFailures } from "../ExitCode.js"

export const statusCommand = Command.make(
  "status",
  {
    ...sharedFlags,
    explain: Flag.Boolean("explain").pipe(Flag.withDefault(false), Flag.withDescription("Name exactly which input of each stale stage changed")),
    json: jsonFlag
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const paths = pathsFrom(f)
      yield* Effect.gen(function*() {
        const graph = yield* openGraph(paths, [])
        const lock = readLockFile(paths.lockFile)
        const stale = new Set<string>()
        const rows: Array<{ stage: string; state: string; reason: string; changes: ReadonlyArray<string> }> = []
        for (const name of graph.order) {
          const stage = graph.stages.get(name)!
          const a = yield* assessStage(stage, graph.workspace, lock.stages[name], process.env)
          const staleUp = stage.upstream.filter((u) => stale.has(u))
          let state: string = a.state
          let reason = ""
          let changes: ReadonlyArray<string> = []
          if (a.state === "stale") {
            reason = a.reason
            changes = a.changes
          } else if (a.state === "uncached") reason = "no outs: never cached, always runs"
          else if (a.state === "restorable") reason = "outputs will be restored from the cache"
          if (staleUp.length > 0 && a.state !== "uncached") {
            state = a.state === "stale" ? "stale" : "stale-upstream"
            if (a.state !== "stale") reason = `upstream will rerun: ${staleUp.join(", ")} (reruns unless their outputs come out identical)`
          }
          if (state === "stale" || state === "stale-upstream" || state === "uncached") stale.add(name)
          rows.push({ stage: name, state, reason, changes })
        }
        yield* (yield* FileHasher).flush
        if (f.json) {
          process.stdout.write(JSON.stringify({ stages: rows }) + "\n")
          return
        }
        const width = Math.max(...rows.map((r) => r.stage.length), 5)
        for (const r of rows) {
          process.stdout.write(`${r.stage.padEnd(width)}  ${r.state.padEnd(16)}${r.reason}\n`)
          if (f.explain) {
            for (const c of r.changes) process.stdout.write(`${" ".repeat(width + 2)}  ${c}\n`)
          }
        }
        const n = rows.filter((r) => r.state !== "fresh").length
        process.stdout.write(n === 0 ? "everything is up to date\n" : `${n} of ${rows.length} stage(s) not fresh\n`)
      }).pipe(Effect.provide(engineLayer(paths, { json: false })))
    }))
).pipe(Command.withDescription("Show which stages are fresh, cached or stale, and why"))
