/**
 * Runs one stage process and owns its whole process tree.
 *
 * The child leads a new process group, so a stage's own children (a shell's subprocesses, a
 * training worker) can be signalled together. Interrupting the fiber sends SIGTERM to the group,
 * waits a grace period, then SIGKILLs the group: whatever ignored SIGTERM or outlived its leader
 * is gone before the interruption completes.
 *
 * A run's `--jobs` are a JobPool. A command waits in the pool until a job is free and starts
 * from wherever the pool lives: this process, or — when the CLI provides one — the small launcher
 * process (internal/Launcher.ts), which makes each start cheaper, keeps the engine's event loop
 * from blocking on fork and exec, and starts the next command as soon as a job ends. Work that is
 * not a command started there (built-in stages, and isolated built-ins, whose IPC channel is to
 * this process) takes a job from the same pool.
 */
import { type ChildProcess, spawn } from "node:child_process"
import * as fs from "node:fs"
import { Context, Effect } from "effect"
import { StoreError } from "../core/Errors.js"
import { makeJobQueue } from "./internal/JobQueue.js"
import { makeLineReader, type OutputFiles } from "./internal/OutputFiles.js"
import { type CommandSpec, type GroupLog, startCommand } from "./internal/ProcessGroup.js"

export interface ProcessSpec {
  readonly command: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  /** Added to the pool's environment. */
  readonly env: NodeJS.ProcessEnv
  /** Run through /bin/sh -c. */
  readonly shell: boolean
  /** Opens an IPC channel (for stage workers). */
  readonly ipc?: boolean
  /** The run's output files: stdout and stderr go to one, read back as lines for `onLine`. */
  readonly output: OutputFiles
  readonly onLine: (line: string) => void
  readonly onMessage?: (message: unknown) => void
  readonly onSpawn?: (pid: number, child: ChildProcess | undefined) => void
  /** Where to log the new process group at once, before anyone is told of it (HeldLock.groupLog). */
  readonly groupLog?: GroupLog
}

export interface ProcessResult {
  readonly exitCode: number | null
  readonly signal: NodeJS.Signals | null
}

/** What a process given to a pool reports, wherever it starts. */
interface StartHandlers {
  readonly spawned: (pid: number, child: ChildProcess | undefined) => void
  readonly failed: (message: string) => void
  readonly exited: (code: number | null, signal: NodeJS.Signals | null) => void
  /** Dropped while it waited for a job (JobPool.stop, Ticket.cancel). */
  readonly cancelled: () => void
}

/** A command given to a pool: its `env` adds to the pool's environment. */
type StartSpec = CommandSpec

/** A place in a pool's queue. */
export interface Ticket {
  /** Gives up the place if it is still waiting (its `cancelled` handler runs); no effect later. */
  readonly cancel: () => void
}

/** A job held for work the engine does itself. */
export interface JobTicket extends Ticket {
  /** Ends the job once granted; safe to call more than once. */
  readonly release: () => void
}

/** One run's jobs: at most `limit` at once, the rest waiting in arrival order. */
export interface JobPool {
  readonly options: PoolOptions
  /** Starts the process once a job is free; the job ends with the process. */
  readonly start: (spec: StartSpec, handlers: StartHandlers) => Ticket
  readonly acquire: (handlers: { readonly granted: () => void; readonly cancelled: () => void; readonly failed: (message: string) => void }) => JobTicket
  /**
   * No new work (a failure without --keep-going): everything still waiting, and everything given
   * to the pool from now on, is dropped; their `cancelled` handlers run.
   */
  readonly stop: () => void
  readonly close: () => void
}

export interface PoolOptions {
  /** Jobs at once. */
  readonly limit: number
  /** What the pool's commands start from; each adds its own variables. */
  readonly env: NodeJS.ProcessEnv
  /**
   * A command that fails (exits non-zero or by a signal) stops the pool where the jobs are kept,
   * before the next one could start: the run stops new work (no --keep-going).
   */
  readonly stopOnFailure: boolean
}

export interface LauncherShape {
  /** The jobs of one run. */
  readonly openPool: (options: PoolOptions) => JobPool
}

/**
 * Starts a process from this process on one of the pool's jobs, which ends with the process. A
 * failed process stops the pool first when the pool says so (PoolOptions.stopOnFailure).
 */
const startOnJob = (pool: JobPool, spec: StartSpec, handlers: StartHandlers, onMessage?: (m: unknown) => void): Ticket => {
  let job: JobTicket | undefined
  let ended = false
  const end = () => {
    ended = true
    job?.release()
  }
  job = pool.acquire({
    granted: () =>
      startCommand({ ...spec, env: { ...pool.options.env, ...spec.env } }, {
        ...handlers,
        exited: (code, signal) => {
          handlers.exited(code, signal)
          // Before the job ends: nothing waiting may start after a failure.
          if (pool.options.stopOnFailure && (code !== 0 || signal !== null)) pool.stop()
          end()
        },
        failed: (message) => {
          end()
          handlers.failed(message)
        }
      }, onMessage),
    cancelled: handlers.cancelled,
    failed: handlers.failed
  })
  // A start that failed at once, inside acquire, ended before the ticket existed.
  if (ended) job.release()
  return job
}

/** Jobs kept and processes started in this process. */
const inProcessPool = (options: PoolOptions): JobPool => {
  const jobs = makeJobQueue<number>(options.limit)
  const onCancel = new Map<number, () => void>()
  let nextId = 0
  const enqueue = (go: () => void, cancelled: () => void): number => {
    const id = nextId++
    onCancel.set(id, cancelled)
    const added = jobs.add(id, () => {
      onCancel.delete(id)
      go()
    })
    if (!added) dropped(id)
    return id
  }
  const dropped = (id: number) => {
    const cancelled = onCancel.get(id)
    onCancel.delete(id)
    cancelled?.()
  }
  const cancel = (id: number) => {
    if (jobs.cancel(id)) dropped(id)
  }
  const stop = () => {
    for (const id of jobs.stop()) dropped(id)
  }
  const pool: JobPool = {
    options,
    start: (spec, handlers) => startOnJob(pool, spec, handlers),
    acquire: (handlers) => {
      let state: "waiting" | "granted" | "done" = "waiting"
      const id = enqueue(() => {
        state = "granted"
        handlers.granted()
      }, () => {
        state = "done"
        handlers.cancelled()
      })
      return {
        cancel: () => cancel(id),
        release: () => {
          if (state !== "granted") return
          state = "done"
          jobs.done()
        }
      }
    },
    stop,
    close: () => {}
  }
  return pool
}

/** Where stage commands start and jobs are kept: this process unless the CLI provides the launcher process. */
export const Launcher = Context.Reference<LauncherShape>("cairn/Launcher", { defaultValue: () => ({ openPool: inProcessPool }) })

interface LauncherMessage {
  readonly t: string
  readonly id: number
  readonly pid?: number
  readonly message?: string
  readonly code?: number | null
  readonly signal?: NodeJS.Signals | null
}

/**
 * The launcher process, started on first use. Its channel and handle are unref'd: it never keeps
 * the engine alive, and it exits when the engine does.
 */
export const makeProcessLauncher = (script: string, prestarted?: ChildProcess): LauncherShape => {
  let launcher: ChildProcess | undefined
  let spare = prestarted
  let nextId = 0
  let nextPool = 0
  const running = new Map<number, { handlers: StartHandlers; pid?: number }>()
  const grants = new Map<number, { readonly granted: () => void; readonly cancelled: () => void; readonly failed: (message: string) => void }>()
  /** Pools each launcher process knows (a launcher that died took its pools with it). */
  const known = new WeakMap<ChildProcess, Set<number>>()
  const poolSpecs = new Map<number, PoolOptions>()

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

  const onMessage = (m: LauncherMessage) => {
    const grant = grants.get(m.id)
    if (grant !== undefined) {
      grants.delete(m.id)
      if (m.t === "granted") grant.granted()
      else grant.cancelled()
      return
    }
    const run = running.get(m.id)
    if (run === undefined) return
    if (m.t === "spawned") {
      run.pid = m.pid
      run.handlers.spawned(m.pid!, undefined)
    } else if (m.t === "cancelled") {
      running.delete(m.id)
      run.handlers.cancelled()
    } else if (m.t === "error") {
      running.delete(m.id)
      run.handlers.failed(m.message!)
    } else if (m.t === "exit") {
      running.delete(m.id)
      run.handlers.exited(m.code ?? null, m.signal ?? null)
    }
  }

  const launcherProcess = (): ChildProcess => {
    if (launcher !== undefined) return launcher
    // bin/cairn.cjs starts one early for commands that run stages (same script, same options).
    const early = spare
    spare = undefined
    const child = early !== undefined && early.connected && early.exitCode === null ? early : spawnLauncher()
    child.on("message", onMessage)
    const lost = (why: string) => {
      if (launcher !== child) return
      launcher = undefined
      // Its stages can no longer be watched: stop them rather than leave them running unobserved.
      for (const [id, run] of running) {
        running.delete(id)
        if (run.pid !== undefined) killGroup(run.pid, "SIGKILL")
        run.handlers.failed(`stage launcher ${why}`)
      }
      for (const [id, grant] of grants) {
        grants.delete(id)
        grant.failed(`stage launcher ${why}`)
      }
    }
    child.on("exit", (code, signal) => lost(`exited (${signal ?? code})`))
    child.on("error", (e) => lost(`failed: ${e.message}`))
    child.unref()
    child.channel?.unref()
    launcher = child
    return child
  }

  /** Sends to the launcher, introducing the pool first to a launcher that has not seen it. */
  const send = (pool: number, message: object) => {
    const child = launcherProcess()
    let pools = known.get(child)
    if (pools === undefined) known.set(child, pools = new Set())
    const spec = poolSpecs.get(pool)
    if (!pools.has(pool) && spec !== undefined) {
      pools.add(pool)
      child.send({ t: "pool", pool, ...spec })
    }
    if (child.connected) child.send(message)
  }

  return {
    openPool: (options) => {
      const pool = nextPool++
      poolSpecs.set(pool, options)
      return {
        options,
        start: (spec, handlers) => {
          const id = nextId++
          running.set(id, { handlers })
          send(pool, { t: "spawn", id, pool, file: spec.file, args: spec.args, cwd: spec.cwd, env: spec.env, output: spec.output, groupLog: spec.groupLog })
          return { cancel: () => send(pool, { t: "cancel", id, pool }) }
        },
        acquire: (handlers) => {
          const id = nextId++
          let state: "waiting" | "cancelling" | "granted" | "done" = "waiting"
          const release = () => {
            if (state !== "granted") return
            state = "done"
            send(pool, { t: "release", id, pool })
          }
          grants.set(id, {
            granted: () => {
              // Given up while the grant was on its way: hand the job straight back.
              if (state === "cancelling") {
                state = "granted"
                release()
                handlers.cancelled()
                return
              }
              state = "granted"
              handlers.granted()
            },
            cancelled: () => {
              state = "done"
              handlers.cancelled()
            },
            failed: (message) => {
              state = "done"
              handlers.failed(message)
            }
          })
          send(pool, { t: "acquire", id, pool })
          return {
            cancel: () => {
              if (state !== "waiting") return
              state = "cancelling"
              send(pool, { t: "cancel", id, pool })
            },
            release
          }
        },
        stop: () => send(pool, { t: "stop", pool }),
        close: () => {
          poolSpecs.delete(pool)
          if (launcher?.connected === true) launcher.send({ t: "close", pool })
        }
      }
    }
  }
}

/** The launcher script beside the bundled CLI, when there is one. */
export const bundledLauncher = (script: string, prestarted?: ChildProcess): LauncherShape | undefined =>
  fs.existsSync(script) ? makeProcessLauncher(script, prestarted) : undefined

/** How often a running command's output is read: as often as the executor reports it. */
const OUTPUT_POLL_MS = 100

/** Time a stage gets to clean up after SIGTERM before the group is killed. */
const KILL_GRACE_MS = 2_000

const killGroup = (pid: number, signal: NodeJS.Signals) => {
  try {
    process.kill(-pid, signal)
  } catch {
    // The group is already gone.
  }
}

/** Waits for one of the pool's jobs; `undefined` when the pool dropped the wait. */
const takeJob = (pool: JobPool) =>
  Effect.callback<JobTicket | undefined, StoreError>((resume) => {
    // `granted` may come at once, from inside acquire: the ticket is read when the fiber resumes.
    const ticket: JobTicket = pool.acquire({
      granted: () => resume(Effect.sync(() => ticket)),
      cancelled: () => resume(Effect.succeed(undefined)),
      failed: (message) => resume(Effect.fail(new StoreError({ path: "jobs", reason: message })))
    })
    // Interrupted: give up the place, or the job if it was granted meanwhile.
    return Effect.sync(() => {
      ticket.cancel()
      ticket.release()
    })
  })

/** Holds one of the pool's jobs while `effect` runs; `undefined` when the pool dropped the wait. */
export const withJob = <A, E, R>(pool: JobPool, effect: Effect.Effect<A, E, R>): Effect.Effect<A | undefined, E | StoreError, R> =>
  // The wait and the work can be interrupted; between them, the job is never left unheld.
  Effect.uninterruptibleMask((restore) =>
    Effect.flatMap(restore(takeJob(pool)), (ticket) =>
      ticket === undefined ? Effect.succeed(undefined) : restore(effect).pipe(Effect.ensuring(Effect.sync(() => ticket.release())))))

/**
 * Reads a started command's output file as it grows. The file exists: it was opened for the
 * process before it started. Should it be gone (removed by hand), the command runs on unread.
 */
const readOutput = (file: string, onLine: (line: string) => void) => {
  let fd: number
  try {
    fd = fs.openSync(file, "r+")
  } catch {
    return undefined
  }
  const lines = makeLineReader(fd, onLine)
  const poll = setInterval(lines.read, OUTPUT_POLL_MS)
  poll.unref()
  return { fd, lines, poll }
}

/**
 * Runs the process once the pool has a job for it. `onStart` runs when it has started (the
 * stage's start, for events and timing); `cancelled` when the pool dropped it while it waited.
 */
export const runProcess = (
  pool: JobPool,
  spec: ProcessSpec,
  onStart: Effect.Effect<void>
): Effect.Effect<ProcessResult | "cancelled", StoreError> =>
  Effect.suspend(() => {
    let closed = false
    let pid: number | undefined
    /** Set when the fiber is interrupted before the process reported its pid. */
    let stopWhenSpawned: (() => void) | undefined
    let startedResume: ((e: Effect.Effect<number | undefined, StoreError>) => void) | undefined
    let exitResume: ((e: Effect.Effect<ProcessResult, StoreError>) => void) | undefined
    /** Outcomes that arrived before the fiber waited for them. */
    let startOutcome: Effect.Effect<number | undefined, StoreError> | undefined
    let exitOutcome: Effect.Effect<ProcessResult, StoreError> | undefined
    const settleStart = (e: Effect.Effect<number | undefined, StoreError>) => {
      if (startOutcome !== undefined) return
      startOutcome = e
      startedResume?.(e)
    }
    const settleExit = (e: Effect.Effect<ProcessResult, StoreError>) => {
      if (exitOutcome !== undefined) return
      exitOutcome = e
      exitResume?.(e)
    }
    const file = spec.output.take()
    // Output is read as it grows while the process runs, and once more when it has ended.
    let output: ReturnType<typeof readOutput>
    const closeWaiters: Array<() => void> = []
    const close = () => {
      closed = true
      if (output !== undefined) {
        clearInterval(output.poll)
        output.lines.end()
      }
      spec.output.give(file, output?.fd)
      closeWaiters.splice(0).forEach((f) => f())
    }
    const handlers: StartHandlers = {
      spawned: (p, child) => {
        pid = p
        output = readOutput(file, spec.onLine)
        spec.onSpawn?.(p, child)
        settleStart(Effect.succeed(p))
        stopWhenSpawned?.()
      },
      failed: (message) => {
        if (closed) return
        close()
        const failure = Effect.fail(new StoreError({ path: spec.command, reason: `cannot start: ${message}` }))
        settleStart(failure)
        settleExit(failure)
      },
      exited: (code, signal) => {
        if (closed) return
        close()
        settleStart(Effect.succeed(pid))
        settleExit(Effect.succeed({ exitCode: code, signal }))
      },
      cancelled: () => {
        if (closed) return
        close()
        settleStart(Effect.succeed(undefined))
      }
    }
    const groupLog = spec.groupLog !== undefined ? { groupLog: spec.groupLog } : {}
    const start: StartSpec = spec.shell
      ? { file: "/bin/sh", args: ["-c", spec.command], cwd: spec.cwd, env: spec.env, output: file, ...groupLog }
      : { file: spec.command, args: spec.args, cwd: spec.cwd, env: spec.env, output: file, ...groupLog }
    // A worker's IPC channel must be to this process: it starts here, on a job from the pool.
    const ticket = spec.ipc === true ? startOnJob(pool, start, handlers, spec.onMessage) : pool.start(start, handlers)

    /** Interrupted: give up the place in the queue, or stop the process tree and wait for it. */
    const stop = Effect.callback<void>((done) => {
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
      const kill = () => {
        const group = pid!
        killGroup(group, "SIGTERM")
        timer = setTimeout(() => {
          killGroup(group, "SIGKILL")
          finish()
        }, KILL_GRACE_MS)
      }
      if (pid !== undefined) kill()
      else {
        // Still waiting for a job, or its start is on the way: whichever comes back settles it.
        stopWhenSpawned = kill
        ticket.cancel()
      }
    })

    return Effect.gen(function*() {
      const started = yield* Effect.callback<number | undefined, StoreError>((resume) => {
        if (startOutcome !== undefined) resume(startOutcome)
        else startedResume = resume
      })
      if (started === undefined && exitOutcome === undefined) return "cancelled" as const
      yield* onStart
      return yield* Effect.callback<ProcessResult, StoreError>((resume) => {
        if (exitOutcome !== undefined) resume(exitOutcome)
        else exitResume = resume
      })
    }).pipe(Effect.onInterrupt(() => stop))
  })
