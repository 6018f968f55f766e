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
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { Context, Data, Effect, Layer } from "effect"
import { StoreError } from "../core/Errors.js"
import { ContentHash, type StageKey } from "../core/Ids.js"
import type { PreImage } from "../fingerprint/Fingerprint.js"
import { fileMode, hashFileBytes, type KnownFile, listTree, manifestBytes, readChunkBuffer, sha256, type TreeManifest } from "../fingerprint/FileHasher.js"

export interface OutEntry {
  readonly type: "file" | "dir"
  readonly hash: string
}

/**
 * An out copied into the store's staging area and hashed: its entry for the run record and the
 * hash of every file read; `commit` syncs the copies and gives them their names.
 */
export interface StagedOut {
  readonly entry: OutEntry
  readonly files: ReadonlyArray<KnownFile>
  readonly commit: Effect.Effect<void, StoreError>
  /** Drops the staged copy instead (no effect once `commit` has begun). */
  readonly abort: () => void
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
  /**
   * Copies a workspace file or directory into the store's staging area, hashing the bytes as they
   * are copied: an object's name is always the hash of the bytes it holds, even if the workspace
   * file changes meanwhile, and an out is read once rather than once to hash and again to save.
   * `commit` then waits for the disk and names the objects; whoever needs only the hashes can go
   * on before it.
   */
  readonly stage: (abs: string) => Effect.Effect<StagedOut, StoreError>
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

const isMissing = (e: unknown) => (e as NodeJS.ErrnoException | null)?.code === "ENOENT"

/**
 * Runs `op`, which writes into `dir`; creates `dir` and runs it again if it was missing. Store
 * directories exist after the first write, so each write costs no directory check.
 */
const inDir = <A>(dir: string, op: () => A): A => {
  try {
    return op()
  } catch (e) {
    if (!isMissing(e)) throw e
    fs.mkdirSync(dir, { recursive: true })
    return op()
  }
}

/** `inDir` for a callback-style step. */
const inDirAsync = (dir: string, op: (done: (e: Error | null) => void) => void, done: (e: Error | null) => void) =>
  op((e) => {
    if (!isMissing(e)) return done(e)
    fs.mkdir(dir, { recursive: true }, (mkdirErr) => mkdirErr ? done(mkdirErr) : op(done))
  })

export const makeStore = (root: string): ArtifactStoreShape => {
  const objects = path.join(root, "objects", "sha256")
  const runs = path.join(root, "runs")
  const tmpDir = path.join(root, "tmp")
  const objectPath = (hash: string) => path.join(objects, hash.slice(0, 2), hash.slice(2))
  /**
   * Places `tmp` at the object path for `hash`. An object that is already there (another run
   * saved the same bytes meanwhile) is replaced by an identical one, which no reader can tell.
   */
  const commitObject = (tmp: string, hash: string) => {
    const dest = objectPath(hash)
    fsyncFile(tmp)
    fs.chmodSync(tmp, 0o444)
    inDir(path.dirname(dest), () => fs.renameSync(tmp, dest))
  }

  /** Writes `data` to a new file in tmp/, syncs it and renames it to `dest`, all on libuv's thread pool. */
  const writeDurably = (base: string, data: string | Buffer, dest: string, mode = 0o666): Effect.Effect<void, StoreError> =>
    Effect.callback<void, StoreError>((resume) => {
      const tmp = path.join(tmpDir, uniqueName(base))
      const fail = (e: Error) => fs.rm(tmp, { force: true }, () => resume(Effect.fail(ioError(dest)(e))))
      let fd = -1
      inDirAsync(tmpDir, (done) => fs.open(tmp, "w", mode, (e, opened) => {
        fd = opened
        done(e)
      }), (openErr) => {
        if (openErr) return fail(openErr)
        fs.writeFile(fd, data, (writeErr) => {
          if (writeErr) return fs.close(fd, () => fail(writeErr))
          fs.fsync(fd, (syncErr) =>
            fs.close(fd, (closeErr) => {
              const e = syncErr ?? closeErr
              if (e) return fail(e)
              inDirAsync(path.dirname(dest), (done) => fs.rename(tmp, dest, done), (renameErr) => renameErr ? fail(renameErr) : resume(Effect.void))
            }))
        })
      })
    })

  /** Marks an existing object as recently used, so a concurrent gc's grace period covers it. */
  const touch = (p: string): boolean => {
    // Most objects a run saves are new; a missing one should not cost an exception.
    if (!fs.existsSync(p)) return false
    try {
      const now = new Date()
      fs.utimesSync(p, now, now)
      return true
    } catch {
      return false
    }
  }

  /** Files above this size are cloned (cheap on btrfs and xfs) and the clone hashed; smaller ones are copied in chunks. */
  const CLONE_ABOVE = 64 << 20

  /** Writes and closes a staged object, synced, then renames it to its name. */
  const commitStaged = (fd: number, tmp: string, hash: string): Effect.Effect<void, StoreError> =>
    Effect.callback<void, StoreError>((resume) => {
      // fsync on libuv's thread pool: the engine starts other stages while outputs reach the disk.
      fs.fsync(fd, (syncErr) => {
        fs.close(fd, (closeErr) => {
          const e = syncErr ?? closeErr
          if (e) resume(Effect.fail(ioError(tmp)(e)))
          else resume(Effect.void)
        })
      })
    }).pipe(
      // An object saved meanwhile by another run is replaced by an identical one (commitObject).
      Effect.andThen(Effect.try({
        try: () => {
          const dest = objectPath(hash)
          inDir(path.dirname(dest), () => fs.renameSync(tmp, dest))
        },
        catch: ioError(tmp)
      })),
      Effect.tapError(() => Effect.sync(() => fs.rmSync(tmp, { force: true })))
    )

  /**
   * Stages a copy of a workspace file in tmp/ and hashes exactly the bytes written. Returns the
   * staged object still open, or nothing when the store already has those bytes.
   */
  const stageFile = (abs: string): { readonly known: KnownFile; readonly staged?: { readonly fd: number; readonly tmp: string } } => {
    const tmp = path.join(tmpDir, uniqueName("obj"))
    const src = fs.openSync(abs, "r")
    let out: number | undefined
    try {
      const stat = fs.fstatSync(src, { bigint: true })
      let hash: ContentHash
      if (Number(stat.size) > CLONE_ABOVE) {
        inDir(tmpDir, () => fs.copyFileSync(abs, tmp, fs.constants.COPYFILE_FICLONE))
        out = fs.openSync(tmp, "r")
        hash = hashFileBytes(tmp)
      } else {
        out = inDir(tmpDir, () => fs.openSync(tmp, "wx", 0o444))
        const h = crypto.createHash("sha256")
        const buf = readChunkBuffer()
        for (;;) {
          const n = fs.readSync(src, buf, 0, buf.length, null)
          if (n === 0) break
          h.update(buf.subarray(0, n))
          for (let off = 0; off < n;) off += fs.writeSync(out, buf, off, n - off)
        }
        hash = ContentHash(h.digest("hex"))
      }
      fs.fchmodSync(out, 0o444)
      // The workspace file's hash is only worth remembering if it did not change while read.
      const after = fs.fstatSync(src, { bigint: true })
      const stable = after.size === stat.size && after.mtimeNs === stat.mtimeNs && after.ctimeNs === stat.ctimeNs
      const known: KnownFile = { abs, stat, hash, stable }
      if (touch(objectPath(hash))) {
        fs.closeSync(out)
        out = undefined
        fs.rmSync(tmp, { force: true })
        return { known }
      }
      const staged = { fd: out, tmp }
      out = undefined
      return { known, staged }
    } catch (e) {
      if (out !== undefined) fs.closeSync(out)
      fs.rmSync(tmp, { force: true })
      throw e
    } finally {
      fs.closeSync(src)
    }
  }

  /** Stages a file; the commit is a no-op when the store has its bytes already. */
  const stageOne = (abs: string): { readonly known: KnownFile; readonly commit: Effect.Effect<void, StoreError>; readonly abort: () => void } => {
    const { known, staged } = stageFile(abs)
    if (staged === undefined) return { known, commit: Effect.void, abort: () => {} }
    // The fd belongs to whichever comes first: closing it twice could close a file opened since.
    let settled = false
    return {
      known,
      commit: Effect.suspend(() => {
        settled = true
        return commitStaged(staged.fd, staged.tmp, known.hash)
      }),
      abort: () => {
        if (settled) return
        settled = true
        fs.closeSync(staged.fd)
        fs.rmSync(staged.tmp, { force: true })
      }
    }
  }

  const putBytes = (data: Buffer): ContentHash => {
    const hash = sha256(data)
    if (touch(objectPath(hash))) return hash
    const tmp = path.join(tmpDir, uniqueName("blob"))
    inDir(tmpDir, () => fs.writeFileSync(tmp, data))
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

  const stage = (abs: string): Effect.Effect<StagedOut, StoreError> =>
    Effect.try({
      try: (): StagedOut => {
        let st: fs.Stats
        try {
          st = fs.statSync(abs)
        } catch {
          throw new Error("was not produced by the stage")
        }
        if (!st.isDirectory()) {
          const { known, commit, abort } = stageOne(abs)
          return { entry: { type: "file", hash: known.hash }, files: [known], commit, abort }
        }
        const staged: Array<{ readonly rel: string } & ReturnType<typeof stageOne>> = []
        try {
          for (const f of listTree(abs)) staged.push({ rel: f.rel, ...stageOne(f.abs) })
        } catch (e) {
          for (const f of staged) f.abort()
          throw e
        }
        const files = staged.map((f) => f.known)
        const manifest: TreeManifest = { type: "tree", entries: staged.map((f) => [f.rel, f.known.hash, fileMode(f.known.stat)] as const) }
        const bytes = manifestBytes(manifest)
        return {
          entry: { type: "dir", hash: sha256(bytes) },
          files,
          // The manifest names the files: it is written after they are.
          commit: Effect.forEach(staged, (f) => f.commit, { discard: true }).pipe(
            Effect.andThen(Effect.try({ try: () => void putBytes(bytes), catch: ioError(abs) })),
            Effect.ensuring(Effect.sync(() => staged.forEach((f) => f.abort())))
          ),
          abort: () => staged.forEach((f) => f.abort())
        }
      },
      catch: ioError(abs)
    })

  const readRecordSync = (file: string): RunRecord | undefined => {
    // Most lookups miss (every stage of a first run); a miss should not cost an exception.
    if (!fs.existsSync(file)) return undefined
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
    stage,
    // Logs are saved for every stage that prints: off the engine's loop, like outs.
    putBlob: (data) =>
      Effect.suspend(() => {
        const bytes = Buffer.from(data)
        const hash = sha256(bytes)
        if (touch(objectPath(hash))) return Effect.succeed(hash)
        return Effect.as(writeDurably("blob", bytes, objectPath(hash), 0o444), hash)
      }),
    readBlob: (hash) =>
      Effect.sync(() => {
        const data = verified(hash, "log")
        return data instanceof ObjectCorrupt ? undefined : data
      }),
    readRecord: (key) => Effect.sync(() => readRecordSync(path.join(runs, `${key}.json`))),
    writeRecord: (record) => Effect.suspend(() => writeDurably("run", JSON.stringify(record, null, 1), path.join(runs, `${record.key}.json`))),
    listRecords: Effect.sync(() => {
      if (!fs.existsSync(runs)) return []
      return fs.readdirSync(runs)
        .filter((f) => f.endsWith(".json"))
        .flatMap((f) => readRecordSync(path.join(runs, f)) ?? [])
    }),
    restore
  }
}
