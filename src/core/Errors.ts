/**
 * Every way a cairn command can fail, as tagged errors with structured fields. The CLI maps each
 * tag to an exit code in one place (`src/cli/ExitCode.ts`): bad input is 2, a failing stage 1,
 * an interruption 130.
 */
import { Data } from "effect"

/** Where in a file something is: 1-based line and column. */
export interface SourcePosition {
  readonly line: number
  readonly column: number
}

const at = (file: string, pos: SourcePosition | undefined): string =>
  pos === undefined ? file : `${file}:${pos.line}:${pos.column}`

/** The pipeline file (or params file) is malformed or violates the contract. */
export class PipelineInvalid extends Data.TaggedError("PipelineInvalid")<{
  readonly file: string
  readonly position?: SourcePosition
  /** Dotted path of the offending field, e.g. `stages.train.outs[0]`. */
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `${at(this.file, this.position)}: ${this.field}: ${this.reason}`
  }
}

/** Several independent problems found while validating one file. */
export class PipelineInvalidMany extends Data.TaggedError("PipelineInvalidMany")<{
  readonly errors: ReadonlyArray<PipelineInvalid>
}> {
  override get message(): string {
    return this.errors.map((e) => e.message).join("\n")
  }
}

export class CycleDetected extends Data.TaggedError("CycleDetected")<{
  readonly file: string
  readonly position?: SourcePosition
  /** The stages on the cycle, first repeated at the end: a → b → c → a. */
  readonly path: ReadonlyArray<string>
}> {
  override get message(): string {
    return `${at(this.file, this.position)}: stages: dependency cycle: ${this.path.join(" -> ")}`
  }
}

/** A command-line problem: unknown stage, malformed --set, bad flag value. */
export class UsageError extends Data.TaggedError("UsageError")<{
  readonly reason: string
}> {
  override get message(): string {
    return this.reason
  }
}

/** A stage ran and failed. `logTail` holds the last lines of its output. */
export class StageFailed extends Data.TaggedError("StageFailed")<{
  readonly stage: string
  readonly exitCode: number | null
  readonly signal?: string | null
  readonly reason: string
  readonly logTail: ReadonlyArray<string>
}> {
  override get message(): string {
    return `stage ${this.stage} failed: ${this.reason}`
  }
}

/** One or more stages failed (reported individually as events); the run exits 1. */
export class RunFailed extends Data.TaggedError("RunFailed")<{
  readonly failed: ReadonlyArray<string>
}> {
  override get message(): string {
    return `${this.failed.length} stage(s) failed: ${this.failed.join(", ")}`
  }
}

/** An I/O problem in the store or workspace that is not the user's input. */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.path}: ${this.reason}`
  }
}

export type InputError = PipelineInvalid | PipelineInvalidMany | CycleDetected | UsageError
