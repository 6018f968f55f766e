/**
 * A small long-lived process that starts stage commands for the engine.
 *
 * `fork()` copies the page tables of the process that calls it, and Node's spawn blocks that
 * process's event loop until the child has exec'd. The engine is a large process doing the
 * hashing and saving of every stage; this one holds almost nothing, so each start is cheaper and
 * the engine's loop never waits for one. Stages still lead their own process groups, which the
 * engine signals directly by pid.
 *
 * It also keeps each run's jobs (JobQueue): the engine hands over a command as soon as the stage
 * is ready, and this process starts it once a job is free — the moment another command's process
 * ends, without waiting for the engine, which may be busy saving that command's outputs.
 *
 * Protocol (Node IPC), engine → here:
 *   `pool {pool, limit, env, stopOnFailure}`   a run's jobs, and the environment its commands start from;
 *                                   with stopOnFailure, a command that fails drops what waits
 *   `spawn {id, pool, file, args, cwd, env, output, groupLog?}`   start when a job is free (env adds
 *                                   to the pool's; stdout and stderr append to the file `output`)
 *   `acquire {id, pool}`            a job for work the engine does itself; `release {id, pool}` ends it
 *   `cancel {id, pool}`             drop a waiting entry
 *   `stop {pool}`                   no new work: drop every waiting entry, and refuse later ones
 *   `close {pool}`
 * here → engine: `spawned {id, pid}` or `error {id, message}`, then `exit {id, code, signal}` once
 * the process and the rest of its group have exited; `granted {id}`; `cancelled {id}` for each
 * entry dropped while waiting or refused. A command's output goes to the file the engine names
 * (`output`, see OutputFiles), not through here.
 * When the engine goes away (even by SIGKILL) the channel closes and this process exits, leaving
 * running stages alone, as they would be had the engine started them itself.
 */
import { type JobQueue, makeJobQueue } from "./JobQueue.js"
import { type CommandSpec, startCommand } from "./ProcessGroup.js"

/** A command to start; its `env` adds to the pool's. */
interface SpawnRequest extends CommandSpec {
  readonly t: "spawn"
  readonly id: number
  readonly pool: number
}

type Request =
  | SpawnRequest
  | { readonly t: "pool"; readonly pool: number; readonly limit: number; readonly env: NodeJS.ProcessEnv; readonly stopOnFailure: boolean }
  | { readonly t: "acquire" | "release" | "cancel"; readonly id: number; readonly pool: number }
  | { readonly t: "stop" | "close"; readonly pool: number }

interface Pool {
  readonly jobs: JobQueue<number>
  readonly env: NodeJS.ProcessEnv
  readonly stopOnFailure: boolean
}

/** No new work in the pool: what waits is dropped, and the engine hears of each. */
const stop = (pool: Pool | undefined) => {
  for (const id of pool?.jobs.stop() ?? []) send({ t: "cancelled", id })
}

const pools = new Map<number, Pool>()

const send = (message: unknown) => {
  if (process.connected) process.send!(message)
}

const start = (req: SpawnRequest, pool: Pool) => {
  let ended = false
  // The job ends with the process (or with its failure to start), once.
  const end = () => {
    if (ended) return
    ended = true
    pool.jobs.done()
  }
  startCommand({ ...req, env: { ...pool.env, ...req.env } }, {
    spawned: (pid) => send({ t: "spawned", id: req.id, pid }),
    failed: (message) => {
      end()
      send({ t: "error", id: req.id, message })
    },
    exited: (code, signal) => {
      send({ t: "exit", id: req.id, code, signal })
      // A failure stops new work at once: nothing waiting starts in the time the engine takes to hear of it.
      if (pool.stopOnFailure && (code !== 0 || signal !== null)) stop(pool)
      end()
    }
  })
}

const handle = (req: Request) => {
  if (req.t === "pool") {
    pools.set(req.pool, { jobs: makeJobQueue(req.limit), env: req.env, stopOnFailure: req.stopOnFailure })
    return
  }
  const pool = pools.get(req.pool)
  switch (req.t) {
    case "spawn":
      if (pool === undefined) return send({ t: "error", id: req.id, message: `unknown job pool ${req.pool}` })
      if (!pool.jobs.add(req.id, () => start(req, pool))) send({ t: "cancelled", id: req.id })
      return
    case "acquire":
      if (pool === undefined || !pool.jobs.add(req.id, () => send({ t: "granted", id: req.id }))) send({ t: "cancelled", id: req.id })
      return
    case "release":
      return pool?.jobs.done()
    case "cancel":
      if (pool?.jobs.cancel(req.id) === true) send({ t: "cancelled", id: req.id })
      return
    case "stop":
      return stop(pool)
    case "close":
      pools.delete(req.pool)
  }
}

process.on("message", handle)
process.on("disconnect", () => process.exit(0))
