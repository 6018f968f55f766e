/**
 * A small long-lived process that starts stage commands for the engine.
 *
 * `fork()` copies the page tables of the process that calls it, and Node's spawn blocks that
 * process's event loop until the child has exec'd. The engine is a large process doing the
 * hashing and saving of every stage; this one holds almost nothing, so each start is cheaper and
 * the engine's loop never waits for one. Stages still lead their own process groups, which the
 * engine signals directly by pid.
 *
 * Protocol (Node IPC): the engine sends `{ t: "spawn", id, file, args, cwd, env, groupLog? }`; this process
 * answers `spawned {id, pid}` or `error {id, message}`, then `data {id, fd, text}` for output and
 * `exit {id, code, signal}` once the stage's process has exited and its output is drained.
 * When the engine goes away (even by SIGKILL) the channel closes and this process exits, leaving
 * running stages alone, as they would be had the engine started them itself.
 */
import { spawn } from "node:child_process"
import { appendFileSync } from "node:fs"
import { StringDecoder } from "node:string_decoder"

interface SpawnRequest {
  readonly t: "spawn"
  readonly id: number
  readonly file: string
  readonly args: ReadonlyArray<string>
  readonly cwd: string
  readonly env: NodeJS.ProcessEnv
  /** Where to log the stage's process group before reporting it (the engine's HeldLock.groupLog). */
  readonly groupLog?: { readonly file: string; readonly name: string }
}

const send = (message: unknown) => {
  if (process.connected) process.send!(message)
}

const start = (req: SpawnRequest) => {
  const child = spawn(req.file, [...req.args], { cwd: req.cwd, env: req.env, detached: true, stdio: ["ignore", "pipe", "pipe"] })
  // Logged before anything else happens here: if the engine is killed before it hears of the pid,
  // this still runs, and its next run can stop the group.
  if (req.groupLog !== undefined && child.pid !== undefined) {
    try {
      appendFileSync(req.groupLog.file, `${req.groupLog.name} ${child.pid}\n`)
    } catch {
      // The engine records the group too, once it hears of the pid.
    }
  }
  let failed = false
  child.on("error", (e) => {
    failed = true
    send({ t: "error", id: req.id, message: e.message })
  })
  child.on("spawn", () => send({ t: "spawned", id: req.id, pid: child.pid }))
  for (const [fd, stream] of [[1, child.stdout!], [2, child.stderr!]] as const) {
    // Chunks can split a UTF-8 sequence; the decoder holds partial characters back.
    const decoder = new StringDecoder("utf8")
    stream.on("data", (chunk: Buffer) => {
      const text = decoder.write(chunk)
      if (text !== "") send({ t: "data", id: req.id, fd, text })
    })
    stream.on("end", () => {
      const text = decoder.end()
      if (text !== "") send({ t: "data", id: req.id, fd, text })
    })
  }
  child.on("close", (code, signal) => {
    if (!failed) send({ t: "exit", id: req.id, code, signal })
  })
}

process.on("message", (req: SpawnRequest) => {
  if (req.t !== "spawn") return
  try {
    start(req)
  } catch (e) {
    send({ t: "error", id: req.id, message: (e as Error).message })
  }
})
process.on("disconnect", () => process.exit(0))
