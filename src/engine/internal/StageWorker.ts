/**
 * Child-process host for isolated built-in stages (training, evaluation). The engine sends one
 * message naming the built-in and its params; logs, progress and the backend name flow back over
 * IPC. Running here keeps TensorFlow's global state out of the engine and lets the engine cancel
 * a stage by signalling its process group.
 */
import * as path from "node:path"
import { Cause, Effect, Exit } from "effect"
import { builtinStages } from "../../../stages/index.js"

interface Job {
  readonly builtin: string
  readonly stage: string
  readonly params: unknown
  readonly workspace: string
}

const send = (message: unknown) => Effect.callback<void>((resume) => void process.send!(message, () => resume(Effect.void)))

const runJob = (job: Job) =>
  Effect.gen(function*() {
    const load = builtinStages[job.builtin]
    if (load === undefined) return yield* Effect.fail(`unknown built-in stage ${job.builtin}`)
    const stage = yield* Effect.promise(load)
    return yield* stage.run({
      stage: job.stage,
      params: job.params,
      workspace: job.workspace,
      resolve: (rel) => path.resolve(job.workspace, rel),
      log: (line) => send({ type: "log", line }),
      progress: (p) => send({ type: "progress", ...p }),
      setBackend: (backend) => send({ type: "backend", backend })
    })
  })

process.once("message", (job: Job) => {
  void Effect.runPromiseExit(runJob(job)).then((exit) =>
    Effect.runPromise(Effect.gen(function*() {
      if (Exit.isSuccess(exit)) {
        yield* send({ type: "done" })
        process.exit(0)
      }
      const err = Cause.squash(exit.cause)
      yield* send({ type: "error", message: (err as { message?: string } | undefined)?.message ?? String(err) })
      process.exit(1)
    }))
  )
})
