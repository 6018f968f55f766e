/**
 * Cross-process locks under `cache/locks/`, so two `cairn run` in one workspace never run one
 * stage twice at once nor interleave writes to `cairn.lock`. A second run waits and says so; it
 * never fails. A lock whose owner died (kill -9) is taken over, after killing any stage process
 * group the dead owner left running, so an orphan cannot write over a new run.
 *
 * Each process writes one holder file (its pid and host), and a lock is a hard link to it made
 * with link(2), which fails if the name exists.
 * Creating and deleting a file per stage would allocate and free an inode each time; on ext4 that
 * makes every later file creation (the stages' own outputs included) scan past the recently freed
 * inodes, which cost more than the stages' bookkeeping itself. Where hard links are not supported
 * a lock is a file of its own, created with O_EXCL.
 *
 * Beside the holder, an append-only log (`holder-….groups`) gets `<lock> <pgid>` from whoever
 * starts a stage's process, the moment it has the pid: the launcher process writes it before it
 * tells this one, so a run killed in between still leaves the group findable. `<lock> -` marks
 * the stage finished. The holder itself never changes after it is written.
 */
import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"

interface LockOwner {
  readonly pid: number
  readonly host: string
  /** The holder file's name in the lock directory (absent in a lock file of its own). */
  readonly holder?: string
  /** Process group of the stage command, in a lock file of its own. */
  readonly child?: number
}

const host = os.hostname()

/** This process's holder in one lock directory. */
interface Holder {
  readonly file: string
}

/** Holders this process has written, by lock directory (`undefined`: hard links unsupported there). */
const holders = new Map<string, Holder | undefined>()

let removeHoldersOnExit = false

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

/** The append-only log of stage process groups beside a holder (see HeldLock.groupLog). */
const groupLogOf = (holderFile: string) => holderFile.replace(/\.json$/, ".groups")

/** The process group last logged for a lock, or undefined when its stage has finished. */
const loggedGroup = (holderFile: string, lockName: string): number | undefined => {
  let text: string
  try {
    text = fs.readFileSync(groupLogOf(holderFile), "utf8")
  } catch {
    return undefined
  }
  let group: number | undefined
  for (const line of text.split("\n")) {
    const [name, value] = line.split(" ")
    if (name === lockName) group = value === "-" ? undefined : Number(value)
  }
  return group
}

const removeHolderFiles = (holderFile: string) => {
  fs.rmSync(holderFile, { force: true })
  fs.rmSync(groupLogOf(holderFile), { force: true })
}

/** Removes holders of dead processes on this host that no lock links to any more. */
const sweepHolders = (dir: string) => {
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith("holder-") || !name.endsWith(".json")) continue
    const file = path.join(dir, name)
    const owner = readOwner(file)
    if (owner === undefined || owner.host !== host || alive(owner.pid)) continue
    if (fs.statSync(file, { throwIfNoEntry: false })?.nlink === 1) removeHolderFiles(file)
  }
}

const makeHolder = (dir: string): Holder | undefined => {
  fs.mkdirSync(dir, { recursive: true })
  sweepHolders(dir)
  const file = path.join(dir, `holder-${process.pid}-${crypto.randomBytes(6).toString("hex")}.json`)
  const holder: Holder = { file }
  fs.writeFileSync(file, JSON.stringify({ pid: process.pid, host, holder: path.basename(file) } satisfies LockOwner), { flag: "wx" })
  // Probe once: some filesystems (FAT, some network mounts) have no hard links.
  const probe = `${holder.file}.probe`
  try {
    fs.linkSync(holder.file, probe)
    fs.unlinkSync(probe)
  } catch {
    fs.rmSync(holder.file, { force: true })
    return undefined
  }
  if (!removeHoldersOnExit) {
    removeHoldersOnExit = true
    process.once("exit", () => {
      for (const h of holders.values()) if (h !== undefined) removeHolderFiles(h.file)
    })
  }
  return holder
}

const holderIn = (dir: string): Holder | undefined => {
  if (!holders.has(dir)) holders.set(dir, makeHolder(dir))
  return holders.get(dir)
}

/** Takes the lock if it is free. */
const tryCreate = (dir: string, file: string): boolean => {
  try {
    const holder = holderIn(dir)
    if (holder !== undefined) fs.linkSync(holder.file, file)
    else fs.writeFileSync(file, JSON.stringify({ pid: process.pid, host } satisfies LockOwner), { flag: "wx" })
    return true
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === "EEXIST") return false
    // The lock directory was removed since this process made it (a long watch session).
    if (code === "ENOENT") {
      holders.delete(dir)
      fs.mkdirSync(dir, { recursive: true })
      return tryCreate(dir, file)
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
  const holderFile = owner?.holder !== undefined ? path.join(path.dirname(file), owner.holder) : undefined
  const child = holderFile !== undefined ? loggedGroup(holderFile, path.basename(file)) : owner?.child
  if (child !== undefined) {
    try {
      process.kill(-child, "SIGKILL")
    } catch {
      // Already gone.
    }
  }
  fs.rmSync(file, { force: true })
  // The dead process's holder goes with the last of its locks.
  if (holderFile !== undefined && fs.statSync(holderFile, { throwIfNoEntry: false })?.nlink === 1) removeHolderFiles(holderFile)
  return true
}

export interface HeldLock {
  readonly file: string
  /**
   * Told the stage command's process group once this process hears of it. With a group log the
   * starter has logged it already; without one (no hard links) it is recorded in the lock file.
   */
  readonly setChild: (pgid: number | undefined) => void
  /**
   * Where whoever starts the stage's process appends `<name> <pgid>` the moment it has the pid,
   * before this process hears of it: a run killed in between still leaves the group findable.
   */
  readonly groupLog?: { readonly file: string; readonly name: string }
}

/**
 * Acquires the named lock for the scope, polling while another live process holds it.
 * `onWait` is called once, with the holder's pid, when the lock is busy.
 */
export const acquireLock = (dir: string, name: string, onWait: (holder: string) => Effect.Effect<void>) =>
  Effect.acquireRelease(
    Effect.gen(function*() {
      const file = fileFor(dir, name)
      let announced = false
      for (;;) {
        if (tryCreate(dir, file) || (breakIfStale(file) && tryCreate(dir, file))) break
        if (!announced) {
          announced = true
          const owner = readOwner(file)
          yield* onWait(owner ? `pid ${owner.pid}` : "another process")
        }
        yield* Effect.sleep("50 millis")
      }
      const holder = holders.get(dir)
      const base = path.basename(file)
      let logged = false
      const held: HeldLock = {
        file,
        ...(holder !== undefined ? { groupLog: { file: groupLogOf(holder.file), name: base } } : {}),
        setChild: (child) => {
          if (holder !== undefined) logged ||= child !== undefined
          else fs.writeFileSync(file, JSON.stringify(child === undefined ? { pid: process.pid, host } : { pid: process.pid, host, child } satisfies LockOwner))
        }
      }
      return { held, finished: () => {
        // A finished stage's process group must not be killed later in a stranger's name.
        if (holder !== undefined && logged) fs.appendFileSync(groupLogOf(holder.file), `${base} -\n`)
      } }
    }),
    ({ finished, held }) => Effect.suspend(() => {
      finished()
      return removeLock(held.file)
    })
  ).pipe(Effect.map(({ held }) => held))
