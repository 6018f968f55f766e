/**
 * `cairn.lock`, beside the pipeline file: per stage, the key, dep hashes, params read and out
 * hashes of its last successful run. Keys are sorted at every level so the file diffs well in
 * git and two runs that reach the same state write byte-identical files.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { canonicalJson } from "../fingerprint/Fingerprint.js"

export interface LockEntry {
  readonly key: string
  readonly deps: Readonly<Record<string, string>>
  readonly params: Readonly<Record<string, unknown>>
  readonly outs: Readonly<Record<string, string>>
}

export interface LockFileData {
  readonly version: 1
  readonly stages: Readonly<Record<string, LockEntry>>
}

export const lockPathFor = (pipelineFile: string): string => {
  const base = path.basename(pipelineFile).replace(/\.(ya?ml|[cm]?[jt]s)$/, "")
  return path.join(path.dirname(pipelineFile), base === "cairn" ? "cairn.lock" : `${base}.cairn.lock`)
}

export const readLockFile = (file: string): LockFileData => {
  try {
    const data = JSON.parse(fs.readFileSync(file, "utf8")) as LockFileData
    if (data.version === 1 && typeof data.stages === "object") return data
  } catch {
    // Missing or unreadable: every stage is checked against the store instead.
  }
  return { version: 1, stages: {} }
}

export const renderLockFile = (data: LockFileData): string => JSON.stringify(JSON.parse(canonicalJson(data)), null, 2) + "\n"

/**
 * Merges updates into the file on disk (re-read now, under the caller's lock, so a concurrent
 * run's entries survive) and drops stages that no longer exist.
 */
export const updateLockFile = (
  file: string,
  updates: ReadonlyMap<string, LockEntry>,
  existing: ReadonlySet<string>
): void => {
  const current = readLockFile(file)
  const stages: Record<string, LockEntry> = {}
  for (const [name, entry] of Object.entries(current.stages)) if (existing.has(name)) stages[name] = entry
  for (const [name, entry] of updates) stages[name] = entry
  const text = renderLockFile({ version: 1, stages })
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, text)
  fs.renameSync(tmp, file)
}
