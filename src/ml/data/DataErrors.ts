/**
 * What can go wrong while reading a dataset.
 *
 * A bad record is data (`InvalidRecord`: file, line, field, reason), so `validate` can list every
 * one of them and `onInvalid: "skip"` can count them; the tagged errors are what the plain async
 * library functions reject with and what stages turn into a `StageRunError`.
 */
import { Data } from "effect"

/** One problem in one record; `line` is 1-based and points into `file`. */
export interface InvalidRecord {
  readonly file: string
  readonly line: number
  /** Dotted path of the offending field (`seed_examples[2].answer`), or `record` for the whole line. */
  readonly field: string
  readonly reason: string
}

/** `file:line: field: reason`, the form editors and CI logs link to. */
export const formatInvalid = (invalid: InvalidRecord): string =>
  `${invalid.file}:${invalid.line}: ${invalid.field}: ${invalid.reason}`

/** Shown in an error message; the full list is on the error and in `validate` output. */
const MAX_LISTED = 20

/** The dataset has bad records and `onInvalid` is `fail`. */
export class DatasetInvalid extends Data.TaggedError("DatasetInvalid")<{
  readonly path: string
  readonly invalid: ReadonlyArray<InvalidRecord>
}> {
  override get message(): string {
    const shown = this.invalid.slice(0, MAX_LISTED).map(formatInvalid)
    const more = this.invalid.length > MAX_LISTED ? [`... and ${this.invalid.length - MAX_LISTED} more`] : []
    return [`${this.path}: ${this.invalid.length} invalid record(s)`, ...shown, ...more].join("\n")
  }
}

/** The input cannot be read at all: missing path, unknown format, I/O failure. */
export class DataReadFailed extends Data.TaggedError("DataReadFailed")<{
  readonly path: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.path}: ${this.reason}`
  }
}

/** A data operation was configured inconsistently (e.g. split ratios that do not sum to 1). */
export class DataConfigInvalid extends Data.TaggedError("DataConfigInvalid")<{
  readonly field: string
  readonly reason: string
}> {
  override get message(): string {
    return `${this.field}: ${this.reason}`
  }
}

/** A readable one-line description of anything a data function rejected with. */
export const describeError = (error: unknown): string =>
  error instanceof Error ? error.message : typeof error === "string" ? error : JSON.stringify(error)
