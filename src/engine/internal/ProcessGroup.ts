/**
 * Starting a stage's command, wherever it starts (the launcher process or the engine's own): it
 * leads a process group of its own, with stdout and stderr appending to its output file. The
 * stage has ended when the group has, not when its leader has: a shell's background children may
 * still be writing the stage's outs.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"

export interface GroupLog {
  readonly file: string
  readonly name: string
}

export interface CommandSpec {
  readonly file: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  /** The whole environment of the command. */
  readonly env: NodeJS.ProcessEnv
  /** The file stdout and stderr append to (stdin is /dev/null). */
  readonly output: string
  /** Where to log the new process group at once, before anyone is told of it (HeldLock.groupLog). */
  readonly groupLog?: GroupLog
}

export interface CommandHandlers {
  readonly spawned: (pid: number, child: ChildProcess) => void
  /** It could not start; nothing else follows. */
  readonly failed: (message: string) => void
  /** Its leader exited (`code`, `signal`) and no process of its group is left. */
  readonly exited: (code: number | null, signal: NodeJS.Signals | null) => void
}

/**
 * How often a group whose leader has exited is checked again: soon at first (a shell's last
 * background job usually ends with it), then less often, since each check on Linux reads every
 * process's /proc entry.
 */
const FIRST_POLL_MS = 10
const MAX_POLL_MS = 500

/**
 * True while a process of the group has not exited. A member that has exited stays in its group
 * until its parent reaps it; an orphan's parent is init, and an init that seldom reaps (some
 * containers' first process never does) must not keep the stage running. Linux tells exited
 * processes apart in /proc; elsewhere init reaps at once.
 */
const groupRuns = (pgid: number): boolean => {
  try {
    process.kill(-pgid, 0)
  } catch {
    // ESRCH: the group is empty. EPERM cannot come from a group this user's process started.
    return false
  }
  if (process.platform !== "linux") return true
  let entries: Array<string>
  try {
    entries = fs.readdirSync("/proc")
  } catch {
    return true
  }
  for (const pid of entries) {
    const c = pid.charCodeAt(0)
    if (c < 48 || c > 57) continue
    let stat: string
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, "latin1")
    } catch {
      continue
    }
    // `pid (comm) state ppid pgrp …`; comm may hold spaces and parentheses, so fields count from the last ")".
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3)
    if (Number(fields[2]) === pgid && fields[0] !== "Z") return true
  }
  return false
}

/** Calls `done` once no process of the group is running (at once when none is). */
export const whenGroupEnds = (pgid: number, done: () => void): void => {
  let wait = FIRST_POLL_MS
  const check = () => {
    if (!groupRuns(pgid)) return done()
    setTimeout(check, wait)
    wait = Math.min(wait * 2, MAX_POLL_MS)
  }
  check()
}

/** Appends `<name> <pgid>`; a failure only loses the record (the engine records the group too). */
const logGroup = (log: GroupLog | undefined, pid: number | undefined) => {
  if (log === undefined || pid === undefined) return
  try {
    fs.appendFileSync(log.file, `${log.name} ${pid}\n`)
  } catch {
    // Recorded by the engine once it hears of the pid.
  }
}

/** Starts the command (with an IPC channel to this process when `onMessage` is given). */
export const startCommand = (spec: CommandSpec, handlers: CommandHandlers, onMessage?: (m: unknown) => void): void => {
  let child: ChildProcess
  try {
    const output = fs.openSync(spec.output, "a")
    try {
      child = spawn(spec.file, [...spec.args], {
        cwd: spec.cwd,
        env: spec.env,
        detached: true,
        stdio: ["ignore", output, output, ...(onMessage !== undefined ? ["ipc" as const] : [])]
      })
    } finally {
      // The child has its own copy.
      fs.closeSync(output)
    }
  } catch (e) {
    handlers.failed((e as Error).message)
    return
  }
  // Logged before anything else happens here: if the engine is killed before it hears of the pid,
  // this still runs, and its next run can stop the group.
  logGroup(spec.groupLog, child.pid)
  let failed = false
  if (onMessage !== undefined) child.on("message", onMessage)
  child.on("error", (e) => {
    failed = true
    handlers.failed(e.message)
  })
  child.on("spawn", () => handlers.spawned(child.pid!, child))
  // "close", not "exit": a worker's last messages may still be on their way when it exits.
  child.on("close", (code, signal) => {
    if (!failed) whenGroupEnds(child.pid!, () => handlers.exited(code, signal))
  })
}
