/**
 * Runs one stage process and owns its whole process tree.
 *
 * The child leads a new process group, so a stage's own children (a shell's subprocesses, a
 * training worker) can be signalled together. Interrupting the fiber sends SIGTERM to the group,
 * waits a grace period, then SIGKILLs the group: whatever ignored SIGTERM or outlived its leader
 * is gone before the interruption completes.
 *
 * Commands are started in this process or, when a `Launcher` is provided, by the small launcher
 * process (internal/Launcher.ts), which makes each start cheaper and keeps the engine's event loop
 * from blocking on fork and exec. Stages with an IPC channel (isolated built-ins) always start
 * here: the channel is to this process.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { Context, Effect } from "effect"
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
  readonly onSpawn?: (pid: number, child: ChildProcess | undefined) => void
  /** Where to log the new process group at once, before anyone is told of it (HeldLock.groupLog). */
  readonly groupLog?: GroupLog
}

export interface GroupLog {
  readonly file: string
  readonly name: string
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

export interface ProcessResult {
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
}

/** What a started process reports, whichever process started it. */
interface StartHandlers {
  readonly spawned: (pid: number, child: ChildProcess | undefined) => void
  readonly output: (fd: 1 | 2, text: string) => void
  readonly failed: (message: string) => void
  readonly exited: (code: number | null, signal: NodeJS.Signals | null) => void
}

interface StartSpec {
  readonly file: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  readonly groupLog?: GroupLog
}

export interface LauncherShape {
  readonly start: (spec: StartSpec, handlers: StartHandlers) => void
}

/** Starts processes from this process. */
const inProcess: LauncherShape = {
  start: (spec, handlers) => startHere(spec, false, handlers)
}

/** Where stage commands are started; this process unless the CLI provides the launcher process. */
export const Launcher = Context.Reference<LauncherShape>("cairn/Launcher", { defaultValue: () => inProcess })

const startHere = (spec: StartSpec, ipc: boolean, handlers: StartHandlers, onMessage?: (m: unknown) => void) => {
  let child: ChildProcess
  try {
    child = spawn(spec.file, [...spec.args], { cwd: spec.cwd, env: spec.env, detached: true, stdio: ["ignore", "pipe", "pipe", ...(ipc ? ["ipc" as const] : [])] })
  } catch (e) {
    handlers.failed((e as Error).message)
    return
  }
  logGroup(spec.groupLog, child.pid)
  let failed = false
  child.stdout!.on("data", (chunk: Buffer) => handlers.output(1, chunk.toString("utf8")))
  child.stderr!.on("data", (chunk: Buffer) => handlers.output(2, chunk.toString("utf8")))
  if (onMessage) child.on("message", onMessage)
  child.on("error", (e) => {
    failed = true
    handlers.failed(e.message)
  })
  child.on("spawn", () => handlers.spawned(child.pid!, child))
  child.on("close", (code, signal) => {
    if (!failed) handlers.exited(code, signal)
  })
}

/**
 * The launcher process, started on first use. Its channel and handle are unref'd: it never keeps
 * the engine alive, and it exits when the engine does.
 */
export const makeProcessLauncher = (script: string, prestarted?: ChildProcess): LauncherShape => {
  let launcher: ChildProcess | undefined
  let spare = prestarted
  let nextId = 0
  const running = new Map<number, { handlers: StartHandlers; pid?: number }>()

  const spawnLauncher = (): ChildProcess => {
    // Its own environment stays lean: it makes no TLS connections (NODE_EXTRA_CA_CERTS costs tens
    // of milliseconds at every Node start) and must not load what NODE_OPTIONS preloads.
    const { NODE_OPTIONS: _o, NODE_EXTRA_CA_CERTS: _c, ...env } = process.env
    // A small young generation keeps its resident set, and so each fork, small. Its code runs once
    // per stage: optimizing it costs more than it saves (see bin/cairn.cjs).
    return spawn(process.execPath, ["--max-semi-space-size=1", "--interrupt-budget=1048576", script], {
      env,
      detached: true,
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
  }

  const launcherProcess = (): ChildProcess => {
    if (launcher !== undefined) return launcher
    // bin/cairn.cjs starts one early for commands that run stages (same script, same options).
    const early = spare
    spare = undefined
    const child = early !== undefined && early.connected && early.exitCode === null ? early : spawnLauncher()
    child.on("message", (m: { t: string; id: number; pid?: number; fd?: 1 | 2; text?: string; message?: string; code?: number | null; signal?: NodeJS.Signals | null }) => {
      const run = running.get(m.id)
      if (run === undefined) return
      if (m.t === "spawned") {
        run.pid = m.pid
        run.handlers.spawned(m.pid!, undefined)
      } else if (m.t === "data") run.handlers.output(m.fd!, m.text!)
      else if (m.t === "error") {
        running.delete(m.id)
        run.handlers.failed(m.message!)
      } else if (m.t === "exit") {
        running.delete(m.id)
        run.handlers.exited(m.code ?? null, m.signal ?? null)
      }
    })
    const lost = (why: string) => {
      if (launcher !== child) return
      launcher = undefined
      // Its stages can no longer be watched: stop them rather than leave them running unobserved.
      for (const [id, run] of running) {
        running.delete(id)
        if (run.pid !== undefined) killGroup(run.pid, "SIGKILL")
        run.handlers.failed(`stage launcher ${why}`)
      }
    }
    child.on("exit", (code, signal) => lost(`exited (${signal ?? code})`))
    child.on("error", (e) => lost(`failed: ${e.message}`))
    child.unref()
    child.channel?.unref()
    launcher = child
    return child
  }

  return {
    start: (spec, handlers) => {
      const id = nextId++
      running.set(id, { handlers })
      launcherProcess().send({ t: "spawn", id, file: spec.file, args: spec.args, cwd: spec.cwd, env: spec.env, groupLog: spec.groupLog })
    }
  }
}

/** The launcher script beside the bundled CLI, when there is one. */
export const bundledLauncher = (script: string, prestarted?: ChildProcess): LauncherShape | undefined =>
  fs.existsSync(script) ? makeProcessLauncher(script, prestarted) : undefined

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
  Effect.flatMap(Launcher, (launcher) =>
    Effect.callback<ProcessResult, StoreError>((resume) => {
      let closed = false
      let pid: number | undefined
      /** Set when the fiber is interrupted before the process reported its pid. */
      let stopWhenSpawned: (() => void) | undefined
      const splitter = () => {
        let rest = ""
        return {
          push: (text: string) => {
            const lines = (rest + text).split("\n")
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
      const closeWaiters: Array<() => void> = []
      const handlers: StartHandlers = {
        spawned: (p, child) => {
          pid = p
          spec.onSpawn?.(p, child)
          stopWhenSpawned?.()
        },
        output: (fd, text) => (fd === 1 ? out : err).push(text),
        failed: (message) => {
          if (closed) return
          closed = true
          closeWaiters.splice(0).forEach((f) => f())
          resume(Effect.fail(new StoreError({ path: spec.command, reason: `cannot start: ${message}` })))
        },
        exited: (code, signal) => {
          out.end()
          err.end()
          if (closed) return
          closed = true
          closeWaiters.splice(0).forEach((f) => f())
          resume(Effect.succeed({ exitCode: code, signal }))
        }
      }
      const groupLog = spec.groupLog !== undefined ? { groupLog: spec.groupLog } : {}
      const start: StartSpec = spec.shell
        ? { file: "/bin/sh", args: ["-c", spec.command], cwd: spec.cwd, env: spec.env, ...groupLog }
        : { file: spec.command, args: spec.args, cwd: spec.cwd, env: spec.env, ...groupLog }
      if (spec.ipc === true) startHere(start, true, handlers, spec.onMessage)
      else launcher.start(start, handlers)
      return Effect.callback<void>((done) => {
        if (closed) {
          done(Effect.void)
          return
        }
        let finished = false
        let timer: ReturnType<typeof setTimeout> | undefined
        const finish = () => {
          if (finished) return
          finished = true
          if (timer !== undefined) clearTimeout(timer)
          done(Effect.void)
        }
        closeWaiters.push(() => {
          // Leaders can exit before their children: sweep the group once more.
          if (pid !== undefined) killGroup(pid, "SIGKILL")
          finish()
        })
        const stop = () => {
          const group = pid!
          killGroup(group, "SIGTERM")
          timer = setTimeout(() => {
            killGroup(group, "SIGKILL")
            finish()
          }, KILL_GRACE_MS)
        }
        if (pid !== undefined) stop()
        else stopWhenSpawned = stop
      })
    }))
