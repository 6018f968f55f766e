/**
 * The bridge from a built-in data stage's `run` to the plain async library functions here.
 *
 * The library stays free of Effect so it can be called from the CLI, tests and the benchmark
 * alike; a stage wraps the whole call, including the lazy `import()` of the heavy module, in one
 * `Effect.tryPromise`, and any rejection (a `DatasetInvalid`, a `DataConfigInvalid`, an I/O
 * error) becomes a `StageRunError` whose message is the library error's and whose cause is the
 * error itself.
 */
import { Effect } from "effect"
import { StageRunError } from "../../core/BuiltinStage.js"
import { describeError } from "./DataErrors.js"

export const runDataTask = <A>(stage: string, task: () => Promise<A>): Effect.Effect<A, StageRunError> =>
  Effect.tryPromise({
    try: task,
    catch: (cause) => new StageRunError({ stage, message: describeError(cause), cause })
  })
