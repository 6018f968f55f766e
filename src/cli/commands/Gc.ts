/**
 * `cairn gc`: bound the store, never touching what the lock file references.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../../core/Errors.js"
import { makeStore } from "../../store/ArtifactStore.js"
import { collectGarbage, formatBytes, parseSize } from "../../store/Gc.js"
import { readLockFile } from "../../store/LockFile.js"
import { acquireLock } from "../../store/Locks.js"
import { pathsFrom, sharedFlags } from "../Common.js"
import { reportFailures } from "../ExitCode.js"

/** Every `*cairn.lock` beside the pipeline file protects what it references. */
const protectedKeys = (lockFile: string): Set<string> => {
  const dir = path.dirname(lockFile)
  const keys = new Set<string>()
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith("cairn.lock"))) {
    for (const e of Object.values(readLockFile(path.join(dir, f)).stages)) keys.add(e.key)
  }
  return keys
}

export const gcCommand = Command.make(
  "gc",
  {
    ...sharedFlags,
    keep: Flag.Int("keep").pipe(Flag.withDefault(3), Flag.withDescription("Run records kept per stage, newest first")),
    maxSize: Flag.String("max-size").pipe(Flag.withDescription("Drop oldest records until the store fits, e.g. 500M, 2G"), Flag.optional),
    dryRun: Flag.Boolean("dry-run").pipe(Flag.withDefault(false), Flag.withDescription("Report what would be removed; remove nothing"))
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const paths = pathsFrom(f)
      const maxBytes = Option.isSome(f.maxSize) ? parseSize(f.maxSize.value) : undefined
      if (Option.isSome(f.maxSize) && maxBytes === undefined) {
        return yield* new UsageError({ reason: `--max-size: cannot read ${JSON.stringify(f.maxSize.value)} as a size (e.g. 500M, 2G)` })
      }
      if (f.keep < 0) return yield* new UsageError({ reason: "--keep must be >= 0" })
      yield* Effect.scoped(Effect.gen(function*() {
        // Runs save objects before records; gc must not delete an object between those steps.
        yield* acquireLock(paths.locksDir, "store:gc", (holder) => Effect.sync(() => void process.stderr.write(`waiting for ${holder}\n`)))
        const store = makeStore(paths.cacheDir)
        const records = yield* store.listRecords
        const report = collectGarbage(paths.cacheDir, records, {
          keep: f.keep,
          maxBytes,
          dryRun: f.dryRun,
          protectedKeys: protectedKeys(paths.lockFile),
          graceMs: Number(process.env.CAIRN_GC_GRACE_SECONDS ?? 600) * 1000
        })
        const verb = f.dryRun ? "would remove" : "removed"
        for (const r of report.recordsRemoved) process.stdout.write(`${verb} run ${r}\n`)
        process.stdout.write(`${verb} ${report.recordsRemoved.length} run record(s), ${report.objectsRemoved} object(s) and ${report.leftoversRemoved} leftover file(s) in tmp/, ${formatBytes(report.bytesFreed)}; store objects now ${formatBytes(report.bytesAfter)}\n`)
      }))
    }))
).pipe(Command.withDescription("Remove old run records and unreferenced objects from the store"))
