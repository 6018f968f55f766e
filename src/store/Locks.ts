/**
 * Cross-process locks under `cache/locks/`, so two `cairn run` in one workspace never run one
 * stage twice at once nor interleave writes to `cairn.lock`. A lock is a file created with
 * O_EXCL holding the owner's pid (and, while a stage runs, its process group). A second run waits
 * and says so; it never fails. A lock whose owner died (kill -9) is taken over, after killing any
 * stage process group the dead owner left running, so an orphan cannot write over a new run.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"

interface LockOwner {
  readonly pid: number
  readonly host: string
  readonly child?: number
}

const host = os.hostname()

/** Lock directories this process has created: one mkdir per run, not one per stage. */
const madeDirs = new Set<string>()

/**
 * Releases a lock on libuv's thread pool: an unlink can wait behind the filesystem journal while
 * other stages' outputs are being synced, and the engine's loop has better things to do. A failure
 * means a stale-lock breaker already removed it.
 */
const removeLock = (file: string) => Effect.callback<void>((resume) => fs.unlink(file, () => resume(Effect.void)))

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM"
  }
}

const fileFor = (dir: string, name: string) =>
  path.join(dir, `${name.replace(/[^A-Za-z0-9_.-]/g, "_").slice(0, 60)}-${crypto.createHash("sha1").update(name).digest("hex").slice(0, 8)}.lock`)

const readOwner = (file: string): LockOwner | undefined => {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8")) as LockOwner
  } catch {
    return undefined
  }
}

const tryCreate = (file: string): boolean => {
  try {
    fs.writeFileSync(file, JSON.stringify({ pid: process.pid, host } satisfies LockOwner), { flag: "wx" })
    return true
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "EEXIST") return false
    // The lock directory was removed since this process made it (a long watch session).
    if (code === "ENOENT") {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      return tryCreate(file)
    }
    throw e
  }
}

/** Removes a lock whose owner is gone; kills the stage process group it left behind. */
const breakIfStale = (file: string): boolean => {
  const owner = readOwner(file)
  if (owner === undefined) {
    // Empty or half-written: the owner died between create and write, or is writing right now.
    const age = Date.now() - (fs.statSync(file, { throwIfNoEntry: false })?.mtimeMs ?? 0)
    if (age < 2_000) return false
  } else if (owner.host !== host || alive(owner.pid)) return false
  if (owner?.child !== undefined) {
    try {
      process.kill(-owner.child, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
  fs.rmSync(file, { force: true })
  return true
}

export interface HeldLock {
  readonly file: string
  /** Records the process group of the stage command, for stale-lock recovery. */
  readonly setChild: (pgid: number | undefined) => void
}

/**
 * Acquires the named lock for the scope, polling while another live process holds it.
 * `onWait` is called once, with the holder's pid, when the lock is busy.
 */
export const acquireLock = (dir: string, name: string, onWait: (holder: string) => Effect.Effect<void>) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      if (!madeDirs.has(dir)) {
        fs.mkdirSync(dir, { recursive: true })
        madeDirs.add(dir)
      }
      const file = fileFor(dir, name)
      let announced = false
      for (;;) {
        if (tryCreate(file) || (breakIfStale(file) && tryCreate(file))) break
        if (!announced) {
          announced = true
          const owner = readOwner(file)
          yield* onWait(owner ? `pid ${owner.pid}` : "another process")
        }
        yield* Effect.sleep("50 millis")
      }
      const held: HeldLock = {
        file,
        setChild: (child) => {
          const owner: LockOwner = child === undefined ? { pid: process.pid, host } : { pid: process.pid, host, child }
          fs.writeFileSync(file, JSON.stringify(owner))
        }
      }
      return held
    }),
    (held) => removeLock(held.file)
  )
