/**
 * Child-process host for isolated built-in stages (training, evaluation). The engine sends one
 * message naming the stage module and its params; logs, progress and the backend name flow back
 * over IPC. Running here keeps TensorFlow's global state out of the engine and lets the engine
 * cancel a stage by signalling its process group.
 */
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Effect, Exit, Cause } from "effect"
import type { BuiltinStage } from "../../core/BuiltinStage.js"

interface Job {
  readonly modulePath: string
  readonly stage: string
  readonly params: unknown
  readonly workspace: string
}

const send = (message: unknown) => new Promise<void>((resolve) => process.send!(message, () => resolve()))

process.once("message", (job: Job) => {
  void import(pathToFileURL(job.modulePath).href).then(async (mod: { default: BuiltinStage }) => {
    const stage = mod.default
    const exit = await Effect.runPromiseExit(stage.run({
      stage: job.stage,
      params: job.params,
      workspace: job.workspace,
      resolve: (rel) => path.resolve(job.workspace, rel),
      log: (line) => Effect.promise(() => send({ type: "log", line })),
      progress: (p) => Effect.promise(() => send({ type: "progress", ...p })),
      setBackend: (backend) => Effect.promise(() => send({ type: "backend", backend }))
    }))
    if (Exit.isSuccess(exit)) {
      await send({ type: "done" })
      process.exit(0)
    }
    const err = Cause.squash(exit.cause)
    const message = (err as { message?: string })?.message ?? String(err)
    await send({ type: "error", message })
    process.exit(1)
  }, async (e: unknown) => {
    await send({ type: "error", message: `cannot load stage module: ${String(e)}` })
    process.exit(1)
  })
})
