/**
 * `cairn gc`: bounds the store. Keeps the newest N run records per stage and everything a lock
 * file references, then drops the oldest remaining records until the store fits `maxBytes`,
 * then deletes every object no kept record reaches. Records go first, objects after: a crash in
 * between leaves unreferenced objects (harmless), never a record without its objects. It also
 * removes what runs that were killed left in tmp/ (staged objects, command output files).
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { TreeManifest } from "../fingerprint/FileHasher.js"
import type { RunRecord } from "./ArtifactStore.js"

export interface GcOptions {
  readonly keep: number
  readonly maxBytes: number | undefined
  readonly dryRun: boolean
  /** Keys referenced by lock files: never removed. */
  readonly protectedKeys: ReadonlySet<string>
  /** Unreferenced objects younger than this are kept (see below). */
  readonly graceMs: number
}

export interface GcReport {
  readonly recordsRemoved: ReadonlyArray<string>
  readonly objectsRemoved: number
  /** Files in tmp/ that no run in progress can be writing (older than the grace period). */
  readonly leftoversRemoved: number
  readonly bytesFreed: number
  readonly bytesAfter: number
}

const walkFiles = (dir: string): Array<string> => {
  if (!fs.existsSync(dir)) return []
  const out: Array<string> = []
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name)
    if (e.isDirectory()) out.push(...walkFiles(p))
    else out.push(p)
  }
  return out
}

export const collectGarbage = (root: string, records: ReadonlyArray<RunRecord>, o: GcOptions): GcReport => {
  const objectsDir = path.join(root, "objects", "sha256")
  const objectPath = (h: string) => path.join(objectsDir, h.slice(0, 2), h.slice(2))
  const size = (p: string) => fs.statSync(p, { throwIfNoEntry: false })?.size ?? 0
  const reach = (rs: ReadonlyArray<RunRecord>) => {
    const live = new Set<string>()
    for (const r of rs) {
      if (r.log !== null) live.add(r.log)
      for (const out of Object.values(r.outs)) {
        live.add(out.hash)
        if (out.type === "dir") {
          try {
            const m = JSON.parse(fs.readFileSync(objectPath(out.hash), "utf8")) as TreeManifest
            for (const [, h] of m.entries) live.add(h)
          } catch {
            // A missing manifest leaves nothing further to keep.
          }
        }
      }
    }
    return live
  }

  const byStage = new Map<string, Array<RunRecord>>()
  for (const r of records) byStage.set(r.stage, [...(byStage.get(r.stage) ?? []), r])
  const kept: Array<RunRecord> = []
  const removed: Array<RunRecord> = []
  for (const rs of byStage.values()) {
    rs.sort((a, b) => b.startedAt.localeCompare(a.startedAt))
    rs.forEach((r, i) => (i < o.keep || o.protectedKeys.has(r.key) ? kept : removed).push(r))
  }
  const allObjects = walkFiles(objectsDir)
  if (o.maxBytes !== undefined) {
    // Oldest unprotected first, until what the kept records reach fits.
    const candidates = kept.filter((r) => !o.protectedKeys.has(r.key)).sort((a, b) => a.startedAt.localeCompare(b.startedAt))
    const bytesOf = (rs: ReadonlyArray<RunRecord>) => [...reach(rs)].reduce((n, h) => n + size(objectPath(h)), 0)
    while (candidates.length > 0 && bytesOf(kept) > o.maxBytes) {
      const r = candidates.shift()!
      kept.splice(kept.indexOf(r), 1)
      removed.push(r)
    }
  }
  const live = reach(kept)
  // A run saves objects before it writes the record naming them; young objects may belong to
  // a run in progress, so they survive until a later gc.
  const cutoff = Date.now() - o.graceMs
  const young = (p: string) => (fs.statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0) > cutoff
  const dead = allObjects.filter((p) => !live.has(path.basename(path.dirname(p)) + path.basename(p)) && !young(p))
  // A run writes its tmp/ files (a staged object, a running command's output) within moments, or
  // keeps them open: removing an open file's name loses nothing, the run goes on writing to it.
  const leftovers = walkFiles(path.join(root, "tmp")).filter((p) => !young(p))
  const objectBytesFreed = dead.reduce((n, p) => n + size(p), 0)
  const bytesFreed = objectBytesFreed + leftovers.reduce((n, p) => n + size(p), 0)
  const bytesAfter = allObjects.reduce((n, p) => n + size(p), 0) - objectBytesFreed
  if (!o.dryRun) {
    for (const r of removed) fs.rmSync(path.join(root, "runs", `${r.key}.json`), { force: true })
    for (const p of [...dead, ...leftovers]) fs.rmSync(p, { force: true })
  }
  return {
    recordsRemoved: removed.map((r) => `${r.stage} ${r.key.slice(0, 10)} (${r.startedAt})`),
    objectsRemoved: dead.length,
    leftoversRemoved: leftovers.length,
    bytesFreed,
    bytesAfter
  }
}

const UNITS: Record<string, number> = { b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3, t: 1024 ** 4, tb: 1024 ** 4 }

/** "500M", "2GiB", "1024" → bytes. */
export const parseSize = (text: string): number | undefined => {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  if (!m) return undefined
  const unit = UNITS[(m[2] || "b").toLowerCase()]
  return unit === undefined ? undefined : Math.floor(Number(m[1]) * unit)
}

export const formatBytes = (n: number): string =>
  n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`
