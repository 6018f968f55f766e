/**
 * The bridge from the ML stages' `run` (pretrain, train, evaluate) to the plain async library
 * functions in this folder.
 *
 * The library reports through {@link StageHooks}, plain callbacks, because its training and
 * generation loops are synchronous TensorFlow.js work between rare awaits: a queue drained by
 * another fiber would only be drained at those awaits, so a progress bar would jump from 0 to
 * done. Each callback instead starts the context's effect at once; in a stage worker that
 * effect writes to the IPC channel synchronously, so lines and progress leave while the loop
 * runs, in the order they were made.
 */
import { Effect } from "effect"
import { StageRunError, type StageProgress, type StageRunContext } from "../../core/BuiltinStage.js"
import { describeError } from "../data/DataErrors.js"

export interface StageHooks {
  /** A line for the stage log. */
  readonly log: (line: string) => void
  readonly progress: (progress: StageProgress) => void
  /** The TensorFlow.js backend the stage computes on, for the run record. */
  readonly backend: (name: string) => void
}

/** Hooks that discard everything (library callers that want no reports). */
export const silentHooks: StageHooks = { log: () => undefined, progress: () => undefined, backend: () => undefined }

/** Progress events at most this often, except the last step and evaluations. */
const PROGRESS_INTERVAL_MS = 250

export const stageHooks = <P>(ctx: StageRunContext<P>): StageHooks => {
  let last = -Infinity
  return {
    log: (line) => void Effect.runFork(ctx.log(line)),
    progress: (p) => {
      // Steps can take a few milliseconds; a bar needs a few updates a second, not hundreds.
      // Evaluation results always go out: sweeps stop trials early on them.
      const now = performance.now()
      const important = p.step === p.total || p.metrics?.["evalLoss"] !== undefined
      if (!important && now - last < PROGRESS_INTERVAL_MS) return
      last = now
      Effect.runFork(ctx.progress(p))
    },
    backend: (name) => void (ctx.setBackend === undefined ? undefined : Effect.runFork(ctx.setBackend(name)))
  }
}

/**
 * Run `task` (which lazily imports its heavy modules) with the context's hooks; a rejection
 * becomes a `StageRunError` carrying the library error as its cause.
 */
export const runMlTask = <P, A>(ctx: StageRunContext<P>, task: (hooks: StageHooks) => Promise<A>): Effect.Effect<A, StageRunError> =>
  Effect.tryPromise({
    try: () => task(stageHooks(ctx)),
    catch: (cause) => new StageRunError({ stage: ctx.stage, message: describeError(cause), cause })
  })
