/**
 * The contract between the engine and a built-in stage (`uses:` in a pipeline file).
 *
 * A built-in stage is declared in `stages/<name>/index.ts` with {@link defineStage}. The
 * declaration must stay cheap to import: the engine loads it on every plan to validate `with:`
 * and to learn which files the stage reads and writes. Heavy libraries (tfjs, arquero, vega) are
 * imported lazily inside `run`, so a no-op `cairn run` never pays for them.
 */
import { Data, type Effect } from "effect"

/** A JSON Schema document (draft 2020-12 or draft-07), kept as plain data. */
export type JsonSchema = { readonly [key: string]: unknown }

/** Files a stage reads and writes, as workspace-relative paths. */
export interface StageIO {
  /** Files or directories whose bytes the stage reads; they enter the stage key. */
  readonly deps: ReadonlyArray<string>
  /** Files or directories the stage writes; they are cached and restored. */
  readonly outs: ReadonlyArray<string>
  /** JSON files (also written by the stage) shown by `cairn metrics`. */
  readonly metrics?: ReadonlyArray<string>
}

/** Progress a stage reports while it runs (training steps, records processed, ...). */
export interface StageProgress {
  readonly step?: number
  readonly total?: number
  readonly metrics?: Readonly<Record<string, number>>
  readonly message?: string
}

export interface StageRunContext<P> {
  /** The stage's name in the pipeline (not the built-in's name). */
  readonly stage: string
  /** `with:` after schema validation, with schema defaults applied. */
  readonly params: P
  /** Absolute path of the workspace root; declared paths are relative to it. */
  readonly workspace: string
  /** Resolve a workspace-relative path to an absolute one. */
  readonly resolve: (relative: string) => string
  /** A line for the stage log (stored with the run and replayed on a cache hit). */
  readonly log: (line: string) => Effect.Effect<void>
  readonly progress: (progress: StageProgress) => Effect.Effect<void>
  /** Records where the stage computed (e.g. the TensorFlow.js backend) in its run record. */
  readonly setBackend?: (backend: string) => Effect.Effect<void>
}

/** Why a built-in stage failed; the engine reports `message` and exits 1. */
export class StageRunError extends Data.TaggedError("StageRunError")<{
  readonly stage: string
  readonly message: string
  readonly cause?: unknown
}> {}

export interface BuiltinStage<P = any> {
  readonly name: string
  /** Bumped whenever the stage's output for the same inputs changes; it is part of the key. */
  readonly version: number
  readonly description: string
  readonly paramsSchema: JsonSchema
  /** Files the stage reads and writes for these params (merged with any `deps`/`outs` given). */
  readonly io: (params: P) => StageIO
  /**
   * Run in a child Node process: heavy ML stages, so they can be cancelled by signal and keep
   * TensorFlow's global state out of the engine, and stages that open network connections, which
   * need the environment the engine's own process starts without (NODE_EXTRA_CA_CERTS, bin/cairn).
   * A function decides per params.
   */
  readonly isolated?: boolean | ((params: P) => boolean)
  /** Needs the `gpu` resource slot when the process runs on a GPU backend. */
  readonly gpu?: boolean
  readonly run: (ctx: StageRunContext<P>) => Effect.Effect<void, StageRunError>
}

/** Whether the stage runs in a child process with these params (see {@link BuiltinStage.isolated}). */
export const runsIsolated = <P>(stage: BuiltinStage<P>, params: P): boolean =>
  typeof stage.isolated === "function" ? stage.isolated(params) : stage.isolated === true

export const defineStage = <P>(stage: BuiltinStage<P>): BuiltinStage<P> => stage
