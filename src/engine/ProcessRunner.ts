/**
 * Runs one stage process and owns its whole process tree.
 *
 * The child leads a new process group, so a stage's own children (a shell's subprocesses, a
 * training worker) can be signalled together. Interrupting the fiber sends SIGTERM to the group,
 * waits a grace period, then SIGKILLs the group: whatever ignored SIGTERM or outlived its leader
 * is gone before the interruption completes.
 */
import { type ChildProcess, spawn } from "node:child_process"
import { Effect } from "effect"
import { StoreError } from "../core/Errors.js"

export interface ProcessSpec {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  /** Run through /bin/sh -c. */
  readonly shell: boolean
  /** Opens an IPC channel (for stage workers). */
  readonly ipc?: boolean
  readonly onLine: (line: string) => void
  readonly onMessage?: (message: unknown) => void
  readonly onSpawn?: (pid: number, child: ChildProcess) => void
}

export interface ProcessResult {
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
}

/** Time a stage gets to clean up after SIGTERM before the group is killed. */
const KILL_GRACE_MS = 2_000

const killGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}

export const runProcess = (spec: ProcessSpec): Effect.Effect<ProcessResult, StoreError> =>
  Effect.callback<ProcessResult, StoreError>((resume) => {
    let child: ChildProcess
    try {
      child = spec.shell
        ? spawn("/bin/sh", ["-c", spec.command], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", "pipe", "pipe", ...(spec.ipc ? ["ipc" as const] : [])] })
        : spawn(spec.command, [...spec.args], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", "pipe", "pipe", ...(spec.ipc ? ["ipc" as const] : [])] })
    } catch (e) {
      resume(Effect.fail(new StoreError({ path: spec.command, reason: `cannot start: ${(e as Error).message}` })))
      return
    }
    let closed = false
    const splitter = () => {
      let rest = ""
      return {
        push: (chunk: Buffer) => {
          const text = rest + chunk.toString("utf8")
          const lines = text.split("\n")
          rest = lines.pop()!
          for (const l of lines) spec.onLine(l)
        },
        end: () => {
          if (rest !== "") spec.onLine(rest)
          rest = ""
        }
      }
    }
    const out = splitter()
    const err = splitter()
    child.stdout!.on("data", out.push)
    child.stderr!.on("data", err.push)
    if (spec.onMessage) child.on("message", spec.onMessage)
    child.on("error", (e) => {
      if (closed) return
      closed = true
      resume(Effect.fail(new StoreError({ path: spec.command, reason: `cannot start: ${e.message}` })))
    })
    child.on("spawn", () => spec.onSpawn?.(child.pid!, child))
    child.on("close", (code, signal) => {
      out.end()
      err.end()
      if (closed) return
      closed = true
      resume(Effect.succeed({ exitCode: code, signal }))
    })
    return Effect.callback<void>((done) => {
      const pid = child.pid
      if (pid === undefined || closed) {
        done(Effect.void)
        return
      }
      killGroup(pid, "SIGTERM")
      const timer = setTimeout(() => {
        killGroup(pid, "SIGKILL")
        done(Effect.void)
      }, KILL_GRACE_MS)
      child.once("close", () => {
        clearTimeout(timer)
        // Leaders can exit before their children: sweep the group once more.
        killGroup(pid, "SIGKILL")
        done(Effect.void)
      })
    })
  })
