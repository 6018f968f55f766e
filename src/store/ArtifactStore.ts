/**
 * The content-addressed store (DESIGN.md §5).
 *
 *   objects/sha256/ab/cdef…   immutable blobs and tree manifests
 *   runs/<key>.json           run records
 *   state/                    the FileHasher's stat cache
 *   locks/                    per-stage and store locks
 *   tmp/                      staging for atomic writes
 *
 * Every write goes tmp → fsync → rename, and a run record is written only after every object it
 * names, so a crash at any instant leaves a store in which every record is complete. Objects are
 * verified against their names when restored; a corrupt one is removed and reported, and the
 * stage reruns.
 */
import * as fs from "node:fs"
import * as fsp from "node:fs/promises"
import * as path from "node:path"
import { Context, Data, Effect, Layer } from "effect"
import { StoreError } from "../core/Errors.js"
import { ContentHash, type StageKey } from "../core/Ids.js"
import type { PreImage } from "../fingerprint/Fingerprint.js"
import { hashFileBytes, manifestBytes, type PathHash, sha256, type TreeManifest } from "../fingerprint/FileHasher.js"

export interface OutEntry {
  readonly type: "file" | "dir"
  readonly hash: string
}

export interface RunRecord {
  readonly v: 1
  readonly key: string
  readonly stage: string
  readonly preImage: PreImage
  readonly outs: Readonly<Record<string, OutEntry>>
  /** Parsed contents of the stage's metrics files. */
  readonly metrics: Readonly<Record<string, unknown>>
  /** Blob holding the stage's interleaved stdout/stderr. */
  readonly log: string | null
  readonly startedAt: string
  readonly durationMs: number
  /** Where it ran: the TensorFlow.js backend for ML stages, else "process". */
  readonly backend?: string
}

/** An object is missing or its bytes do not match its name. */
export class ObjectCorrupt extends Data.TaggedError("ObjectCorrupt")<{
  readonly hash: string
  readonly out: string
  readonly reason: string
}> {
  override get message(): string {
    return `store object ${this.hash.slice(0, 10)}… for ${this.out} ${this.reason}`
  }
}

export interface ArtifactStoreShape {
  readonly root: string
  /** Copies a workspace path into the store; returns its out entry. */
  readonly save: (abs: string, known: PathHash) => Effect.Effect<OutEntry, StoreError>
  readonly putBlob: (data: Buffer | string) => Effect.Effect<ContentHash, StoreError>
  readonly readBlob: (hash: string) => Effect.Effect<Buffer | undefined>
  readonly readRecord: (key: StageKey | string) => Effect.Effect<RunRecord | undefined>
  readonly writeRecord: (record: RunRecord) => Effect.Effect<void, StoreError>
  readonly listRecords: Effect.Effect<ReadonlyArray<RunRecord>>
  /** Restores a saved out to `abs`, verifying every object first. */
  readonly restore: (out: string, entry: OutEntry, abs: string) => Effect.Effect<void, ObjectCorrupt | StoreError>
  readonly objectPath: (hash: string) => string
  readonly tmpDir: string
}

export class ArtifactStore extends Context.Service<ArtifactStore, ArtifactStoreShape>()("cairn/ArtifactStore") {
  static readonly layerFileSystem = (root: string) => Layer.effect(ArtifactStore, Effect.sync(() => makeStore(root)))
}

const fsyncFile = (file: string) => {
  const fd = fs.openSync(file, "r")
  try {
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

/** Clone where the filesystem can (btrfs, xfs), copy elsewhere. */
const cloneOrCopy = (src: string, dest: string) => fs.copyFileSync(src, dest, fs.constants.COPYFILE_FICLONE)

let tmpCounter = 0
const uniqueName = (base: string) => `${base}.${process.pid}.${Date.now().toString(36)}.${(tmpCounter++).toString(36)}`

const ioError = (p: string) => (e: unknown) => new StoreError({ path: p, reason: (e as Error).message })

export const makeStore = (root: string): ArtifactStoreShape => {
  const objects = path.join(root, "objects", "sha256")
  const runs = path.join(root, "runs")
  const tmpDir = path.join(root, "tmp")
  const objectPath = (hash: string) => path.join(objects, hash.slice(0, 2), hash.slice(2))
  const ensureTmp = () => fs.mkdirSync(tmpDir, { recursive: true })

  /** Places `tmp` at the object path for `hash` (or drops it when the object already exists). */
  const commitObject = (tmp: string, hash: string) => {
    const dest = objectPath(hash)
    if (fs.existsSync(dest)) {
      fs.rmSync(tmp, { force: true })
      return
    }
    fs.mkdirSync(path.dirname(dest), { recursive: true })
    fsyncFile(tmp)
    fs.chmodSync(tmp, 0o444)
    fs.renameSync(tmp, dest)
  }

  /** Marks an existing object as recently used, so a concurrent gc's grace period covers it. */
  const touch = (p: string): boolean => {
    try {
      const now = new Date()
      fs.utimesSync(p, now, now)
      return true
    } catch {
      return false
    }
  }

  /** Files up to this size are read once into memory, hashed and written; larger ones stream. */
  const IN_MEMORY_LIMIT = 64 << 20

  /**
   * Copies a workspace file into the store. Asynchronous (libuv's thread pool does the reads,
   * writes and fsync), so the engine keeps starting other stages while outputs are saved.
   */
  const putFile = async (abs: string, expected: string): Promise<void> => {
    if (touch(objectPath(expected))) return
    ensureTmp()
    const tmp = path.join(tmpDir, uniqueName("obj"))
    let actual: string
    if ((await fsp.stat(abs)).size <= IN_MEMORY_LIMIT) {
      const data = await fsp.readFile(abs)
      actual = sha256(data)
      if (actual === expected) {
        const fh = await fsp.open(tmp, "w")
        try {
          await fh.writeFile(data)
          await fh.sync()
        } finally {
          await fh.close()
        }
      }
    } else {
      await fsp.copyFile(abs, tmp, fs.constants.COPYFILE_FICLONE)
      actual = hashFileBytes(tmp)
      if (actual === expected) fsyncFile(tmp)
    }
    // The bytes stored are the bytes hashed: a file rewritten since the stage ended is refused.
    if (actual !== expected) {
      await fsp.rm(tmp, { force: true })
      throw new Error(`changed while being saved (hash ${actual.slice(0, 10)}… ≠ ${expected.slice(0, 10)}…)`)
    }
    const dest = objectPath(expected)
    if (fs.existsSync(dest)) return void (await fsp.rm(tmp, { force: true }))
    await fsp.mkdir(path.dirname(dest), { recursive: true })
    await fsp.chmod(tmp, 0o444)
    await fsp.rename(tmp, dest)
  }

  const putBytes = (data: Buffer): ContentHash => {
    const hash = sha256(data)
    if (touch(objectPath(hash))) return hash
    ensureTmp()
    const tmp = path.join(tmpDir, uniqueName("blob"))
    fs.writeFileSync(tmp, data)
    commitObject(tmp, hash)
    return hash
  }

  const verified = (hash: string, out: string): Buffer | ObjectCorrupt => {
    const p = objectPath(hash)
    let data: Buffer
    try {
      data = fs.readFileSync(p)
    } catch {
      return new ObjectCorrupt({ hash, out, reason: "is missing from the store" })
    }
    if (sha256(data) !== hash) {
      // Quarantine: a later run that produces these bytes writes a good copy.
      fs.rmSync(p, { force: true })
      return new ObjectCorrupt({ hash, out, reason: "is corrupt (its bytes do not match its hash); removed it" })
    }
    return data
  }

  const restore: ArtifactStoreShape["restore"] = (out, entry, abs) =>
    Effect.gen(function*() {
      if (entry.type === "file") {
        const data = verified(entry.hash, out)
        if (data instanceof ObjectCorrupt) return yield* data
        yield* Effect.try({
          try: () => {
            fs.mkdirSync(path.dirname(abs), { recursive: true })
            const tmp = uniqueName(abs + ".cairn-restore")
            cloneOrCopy(objectPath(entry.hash), tmp)
            fs.chmodSync(tmp, 0o644)
            fs.rmSync(abs, { recursive: true, force: true })
            fs.renameSync(tmp, abs)
          },
          catch: ioError(abs)
        })
        return
      }
      const manifestData = verified(entry.hash, out)
      if (manifestData instanceof ObjectCorrupt) return yield* manifestData
      const manifest = JSON.parse(manifestData.toString("utf8")) as TreeManifest
      for (const [rel, hash] of manifest.entries) {
        const data = verified(hash, `${out}/${rel}`)
        if (data instanceof ObjectCorrupt) return yield* data
      }
      yield* Effect.try({
        try: () => {
          fs.mkdirSync(path.dirname(abs), { recursive: true })
          const staging = uniqueName(abs + ".cairn-restore")
          for (const [rel, hash, mode] of manifest.entries) {
            const dest = path.join(staging, ...rel.split("/"))
            fs.mkdirSync(path.dirname(dest), { recursive: true })
            cloneOrCopy(objectPath(hash), dest)
            fs.chmodSync(dest, mode)
          }
          fs.mkdirSync(staging, { recursive: true })
          fs.rmSync(abs, { recursive: true, force: true })
          fs.renameSync(staging, abs)
        },
        catch: ioError(abs)
      })
    })

  const readRecordSync = (file: string): RunRecord | undefined => {
    try {
      return JSON.parse(fs.readFileSync(file, "utf8")) as RunRecord
    } catch {
      return undefined
    }
  }

  return {
    root,
    tmpDir,
    objectPath,
    save: (abs, known) =>
      Effect.tryPromise({
        try: async (): Promise<OutEntry> => {
          if (known.type === "missing") throw new Error("was not produced by the stage")
          if (known.type === "file") {
            await putFile(abs, known.hash)
            return { type: "file", hash: known.hash }
          }
          for (const [rel, hash] of known.manifest.entries) await putFile(path.join(abs, ...rel.split("/")), hash)
          const treeHash = putBytes(manifestBytes(known.manifest))
          return { type: "dir", hash: treeHash }
        },
        catch: ioError(abs)
      }),
    putBlob: (data) => Effect.try({ try: () => putBytes(Buffer.from(data)), catch: ioError(objects) }),
    readBlob: (hash) =>
      Effect.sync(() => {
        const data = verified(hash, "log")
        return data instanceof ObjectCorrupt ? undefined : data
      }),
    readRecord: (key) => Effect.sync(() => readRecordSync(path.join(runs, `${key}.json`))),
    writeRecord: (record) =>
      Effect.tryPromise({
        try: async () => {
          await fsp.mkdir(runs, { recursive: true })
          ensureTmp()
          const tmp = path.join(tmpDir, uniqueName("run"))
          const fh = await fsp.open(tmp, "w")
          try {
            await fh.writeFile(JSON.stringify(record, null, 1))
            await fh.sync()
          } finally {
            await fh.close()
          }
          await fsp.rename(tmp, path.join(runs, `${record.key}.json`))
        },
        catch: ioError(runs)
      }),
    listRecords: Effect.sync(() => {
      if (!fs.existsSync(runs)) return []
      return fs.readdirSync(runs)
        .filter((f) => f.endsWith(".json"))
        .flatMap((f) => readRecordSync(path.join(runs, f)) ?? [])
    }),
    restore
  }
}
