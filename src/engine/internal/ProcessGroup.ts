/**
 * A stage's command leads a process group of its own. The stage has ended when the group has, not
 * when its leader has: a shell's background children may still be writing the stage's outs.
 */
import * as fs from "node:fs"

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
