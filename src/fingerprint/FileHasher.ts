/**
 * Content hashes of files and directories, behind a persistent stat cache.
 *
 * A file whose `(dev, ino, size, mtimeNs, ctimeNs)` is unchanged since it was last hashed is not
 * read again: that is what makes a no-op run over hundreds of megabytes of inputs take
 * milliseconds. `touch` changes mtime, so the file is re-read, hashes the same, and nothing reruns.
 *
 * A directory hashes as its sorted tree manifest, the same bytes the store keeps for a directory
 * out, so a dep hash and an out hash of one directory are equal.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Context, Effect, Layer } from "effect"
import { ContentHash } from "../core/Ids.js"

export type PathHash =
  | { readonly type: "file"; readonly hash: ContentHash; readonly size: number; readonly mode: number }
  | { readonly type: "dir"; readonly hash: ContentHash; readonly manifest: TreeManifest }
  | { readonly type: "missing" }

/** A directory's contents: sorted relative POSIX paths with their blob hashes and modes. */
export interface TreeManifest {
  readonly type: "tree"
  readonly entries: ReadonlyArray<readonly [path: string, hash: string, mode: number]>
}

export const manifestBytes = (m: TreeManifest): Buffer => Buffer.from(JSON.stringify(m))
export const sha256 = (data: Buffer | string): ContentHash =>
  ContentHash(crypto.createHash("sha256").update(data).digest("hex"))

type StatEntry = readonly [key: string, hash: string]
const STAT_CACHE_VERSION = 1

/**
 * A file modified within this window of its last hash might change again within the same
 * timestamp tick (Linux file times are jiffy-grained), so it is hashed but not remembered.
 */
const RACY_WINDOW_MS = 1_000

const statKey = (st: fs.BigIntStats): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`

/**
 * One read buffer for the whole process: hashing is synchronous, so it is never shared, and a
 * fresh 1 MiB buffer per file would cost a page fault per 4 KiB read.
 */
let chunkBuffer: Buffer | undefined
export const readChunkBuffer = (): Buffer => (chunkBuffer ??= Buffer.allocUnsafeSlow(1 << 20))

export const hashFileBytes = (abs: string): ContentHash => {
  const h = crypto.createHash("sha256")
  const fd = fs.openSync(abs, "r")
  try {
    const buf = readChunkBuffer()
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      h.update(buf.subarray(0, n))
    }
  } finally {
    fs.closeSync(fd)
  }
  return ContentHash(h.digest("hex"))
}

/** The mode a tree manifest records: only whether the file is executable. */
export const fileMode = (st: fs.BigIntStats): number => Number(st.mode) & 0o111 ? 0o755 : 0o644

/**
 * The regular files under a directory, in manifest order (sorted names, depth first), with their
 * stats. Hashing and saving a directory both walk it this way, so a directory's dep hash equals
 * its out hash.
 */
export const listTree = (root: string): Array<{ readonly abs: string; readonly rel: string; readonly stat: fs.BigIntStats }> => {
  const files: Array<{ readonly abs: string; readonly rel: string; readonly stat: fs.BigIntStats }> = []
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const abs = path.join(dir, name)
      const r = rel === "" ? name : `${rel}/${name}`
      const stat = fs.statSync(abs, { bigint: true })
      if (stat.isDirectory()) walk(abs, r)
      else if (stat.isFile()) files.push({ abs, rel: r, stat })
    }
  }
  walk(root, "")
  return files
}

/** A file whose hash is known from reading it (e.g. while saving it), with its stat at the time. */
export interface KnownFile {
  readonly abs: string
  readonly stat: fs.BigIntStats
  readonly hash: ContentHash
  /** False when the file changed while it was read: the hash is of the bytes read, not of the file now. */
  readonly stable: boolean
}

export interface FileHasherShape {
  /** Hash of a file or directory (or `missing`), using and refreshing the stat cache. */
  readonly hash: (abs: string) => Effect.Effect<PathHash>
  /** Records hashes computed elsewhere (the store hashes outs as it saves them). */
  readonly remember: (files: ReadonlyArray<KnownFile>) => Effect.Effect<void>
  /** Forget a path (after the engine deletes or rewrites it). */
  readonly forget: (abs: string) => Effect.Effect<void>
  /** Persist the stat cache. */
  readonly flush: Effect.Effect<void>
}

export class FileHasher extends Context.Service<FileHasher, FileHasherShape>()("cairn/FileHasher") {
  /** Hashes with the stat cache kept in memory and persisted to `stateFile` (atomically). */
  static readonly layerFile = (stateFile: string | undefined) =>
    Layer.effect(FileHasher, Effect.sync(() => makeHasher(stateFile)))
  /** No persistence: every process starts cold. */
  static readonly layerMemory = Layer.effect(FileHasher, Effect.sync(() => makeHasher(undefined)))
}

const makeHasher = (stateFile: string | undefined): FileHasherShape => {
  const cache = new Map<string, StatEntry>()
  let dirty = false
  if (stateFile !== undefined && fs.existsSync(stateFile)) {
    try {
      const data = JSON.parse(fs.readFileSync(stateFile, "utf8")) as { v: number; entries: Record<string, StatEntry> }
      if (data.v === STAT_CACHE_VERSION) for (const [k, v] of Object.entries(data.entries)) cache.set(k, v)
    } catch {
      // A damaged stat cache only costs re-hashing; start empty.
    }
  }

  /**
   * Hashes of recently modified files: trusted for the rest of this process (the engine hashes a
   * stage's outs once its process has exited, and its downstream reads them moments later), but
   * never persisted.
   */
  const racy = new Map<string, StatEntry>()

  const learn = (abs: string, st: fs.BigIntStats, hash: ContentHash) => {
    const key = statKey(st)
    if (Date.now() - Number(st.mtimeMs) > RACY_WINDOW_MS) {
      cache.set(abs, [key, hash])
      racy.delete(abs)
      dirty = true
    } else {
      racy.set(abs, [key, hash])
      if (cache.delete(abs)) dirty = true
    }
  }

  const hashFile = (abs: string, st: fs.BigIntStats): ContentHash => {
    const key = statKey(st)
    const hit = cache.get(abs) ?? racy.get(abs)
    if (hit !== undefined && hit[0] === key) return ContentHash(hit[1])
    const hash = hashFileBytes(abs)
    learn(abs, st, hash)
    return hash
  }

  const hashTree = (root: string): TreeManifest => ({
    type: "tree",
    entries: listTree(root).map((f) => [f.rel, hashFile(f.abs, f.stat), fileMode(f.stat)] as const)
  })

  const hashSync = (abs: string): PathHash => {
    let st: fs.BigIntStats
    try {
      st = fs.statSync(abs, { bigint: true })
    } catch {
      return { type: "missing" }
    }
    if (st.isDirectory()) {
      const manifest = hashTree(abs)
      return { type: "dir", hash: sha256(manifestBytes(manifest)), manifest }
    }
    return { type: "file", hash: hashFile(abs, st), size: Number(st.size), mode: fileMode(st) }
  }

  return {
    hash: (abs) => Effect.sync(() => hashSync(abs)),
    remember: (files) => Effect.sync(() => files.forEach((f) => f.stable && learn(f.abs, f.stat, f.hash))),
    forget: (abs) =>
      Effect.sync(() => {
        for (const k of cache.keys()) {
          if (k === abs || k.startsWith(abs + path.sep)) {
            cache.delete(k)
            dirty = true
          }
        }
        for (const k of racy.keys()) if (k === abs || k.startsWith(abs + path.sep)) racy.delete(k)
      }),
    flush: Effect.sync(() => {
      if (!dirty || stateFile === undefined) return
      const entries = Object.fromEntries([...cache].filter(([k]) => fs.existsSync(k)))
      fs.mkdirSync(path.dirname(stateFile), { recursive: true })
      const tmp = `${stateFile}.${process.pid}.tmp`
      fs.writeFileSync(tmp, JSON.stringify({ v: STAT_CACHE_VERSION, entries }))
      fs.renameSync(tmp, stateFile)
      dirty = false
    })
  }
}
