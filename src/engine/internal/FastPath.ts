/**
 * The no-op fast path, run by bin/cairn.cjs before the CLI bundle loads: when the last run with
 * this exact command line found everything fresh and nothing it depended on has changed since
 * (NoopSnapshot.ts), print what that run printed, with this check's own duration, and stop. Any
 * doubt, mismatch or error means false, and the full run decides.
 *
 * `CAIRN_NO_FASTPATH=1` turns it off; `CAIRN_DEBUG_FASTPATH=1` says on stderr whether it was
 * taken and, if not, why.
 */
import * as fs from "node:fs"
import { formatDuration } from "../../report/Duration.js"
import { buildFiles, fastPathDisabled, isModulePipeline, mismatch, type NoopSnapshot } from "../NoopSnapshot.js"
import { noopSnapshotFile, resolveLocation, workspaceFlagsOf } from "../WorkspaceLocation.js"

export const tryNoop = (argv: ReadonlyArray<string>, script: string, distBin: string): boolean => {
  const started = performance.now()
  const debug = process.env.CAIRN_DEBUG_FASTPATH === "1"
  const miss = (why: string) => {
    if (debug) process.stderr.write(`cairn fast path: not taken (${why})\n`)
    return false
  }
  let output: readonly [stdout: string, stderr: string]
  try {
    if (fastPathDisabled(process.env)) return miss("CAIRN_NO_FASTPATH")
    if (argv[0] !== "run") return miss("not a run")
    const flags = workspaceFlagsOf(argv.slice(1))
    if (flags === undefined) return miss("arguments")
    const location = resolveLocation(flags)
    if (isModulePipeline(location.pipelineFile)) return miss("module pipeline")
    const file = noopSnapshotFile(location.cacheDir, location.pipelineFile)
    let text: string
    try {
      text = fs.readFileSync(file, "utf8")
    } catch {
      return miss("no snapshot")
    }
    const snapshot = JSON.parse(text) as NoopSnapshot
    const why = mismatch(snapshot, { file, argv, cwd: process.cwd(), env: process.env, build: buildFiles(script, distBin) })
    if (why !== undefined) return miss(why)
    const { stdoutHead, stdoutTail, stderr } = snapshot.output
    if (typeof stdoutHead !== "string" || typeof stdoutTail !== "string" || typeof stderr !== "string") return miss("snapshot output")
    output = [stdoutHead + formatDuration(performance.now() - started) + stdoutTail, stderr]
  } catch (e) {
    return miss(String(e))
  }
  // Once printing has begun the run is answered: a full run after a failed write would print twice.
  try {
    process.stdout.write(output[0])
    if (output[1] !== "") process.stderr.write(output[1])
    if (debug) process.stderr.write("cairn fast path: taken\n")
  } catch {
    process.exitCode = 1
  }
  return true
}
