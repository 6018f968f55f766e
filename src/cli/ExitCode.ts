/**
 * The one mapping from failures to exit codes and messages: bad input 2, a failing stage 1,
 * interruption 130 (set by the runtime on SIGINT/SIGTERM).
 */
import { Cause, Effect } from "effect"

export const EXIT_INPUT = 2
export const EXIT_FAILED = 1

const INPUT_TAGS = new Set(["PipelineInvalid", "PipelineInvalidMany", "CycleDetected", "UsageError"])

/** Prints a command's typed failure to stderr and sets the exit code, instead of a stack trace. */
export const reportFailures = <A, E extends { readonly _tag: string; readonly message: string }, R>(
  eff: Effect.Effect<A, E, R>
): Effect.Effect<void, never, R> =>
  eff.pipe(
    Effect.asVoid,
    Effect.catch((e: E) =>
      Effect.sync(() => {
        const input = INPUT_TAGS.has(e._tag)
        if (e._tag !== "RunFailed") process.stderr.write(`cairn: ${input ? "" : "error: "}${e.message}\n`)
        else process.stderr.write(`cairn: ${e.message}\n`)
        process.exitCode = input ? EXIT_INPUT : EXIT_FAILED
      })
    ),
    Effect.catchDefect((d) =>
      Effect.sync(() => {
        process.stderr.write(`cairn: internal error: ${d instanceof Error ? d.stack ?? d.message : String(d)}\n`)
        process.exitCode = EXIT_FAILED
      })
    )
  )

export { Cause }
