/**
 * Where a sweep lives in a workspace. Kept apart from the results code (arquero, charts) because
 * opening any pipeline with a `sweeps:` section needs it.
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** Where a sweep keeps its journal, results and trial workspaces. */
export const sweepDirectory = (workspace: string, sweep: string): string => path.join(workspace, ".cairn", "sweeps", sweep)

/** The results table's file, which the `sweep` stage reads; it exists from a sweep's first run on. */
const resultsFile = (dir: string): string => path.join(dir, "results.json")

/**
 * Writes an empty results table where none exists yet, so a pipeline whose `sweep` stage depends
 * on it validates before the sweep has produced anything.
 */
export const ensureResultsFile = (dir: string): void => {
  const file = resultsFile(dir)
  if (fs.existsSync(file)) return
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(file, "[]\n")
}
