/**
 * The shape every format reader returns, and the row-by-row driver the JSON-based readers share.
 *
 * A reader never throws on bad data: it returns the drafts it could build and one
 * `InvalidRecord` per problem, plus how many records it had to leave out; `readDataset`
 * decides whether that fails the read.
 */
import type { DraftRecord, JsonValue } from "../DataRecord.js"
import type { InvalidRecord } from "../DataErrors.js"
import type { JsonRow } from "../JsonRows.js"

export interface ReadResult {
  readonly drafts: ReadonlyArray<DraftRecord>
  readonly invalid: ReadonlyArray<InvalidRecord>
  /** Records (not problems) left out because they were invalid. */
  readonly skipped: number
}

/** A problem found in a row, before it is tied to a file and line. */
export interface FieldProblem {
  readonly field: string
  readonly reason: string
}

/** Runs a converter over rows; each row with problems counts as one skipped record. */
export const convertRows = (
  file: string,
  rows: ReadonlyArray<JsonRow>,
  parseInvalid: ReadonlyArray<InvalidRecord>,
  convert: (value: unknown, file: string) => Converted
): ReadResult => {
  const drafts: Array<DraftRecord> = []
  const invalid: Array<InvalidRecord> = [...parseInvalid]
  let skipped = parseInvalid.length
  for (const row of rows) {
    const result = convert(row.value, file)
    if (result.problems.length > 0) {
      skipped += Math.max(1, result.drafts.length)
      for (const p of result.problems) invalid.push({ file, line: row.line, field: p.field, reason: p.reason })
    } else {
      drafts.push(...result.drafts)
    }
  }
  // parse failures were collected first; report everything in file order
  invalid.sort((a, b) => a.line - b.line)
  return { drafts, invalid, skipped }
}

export interface Converted {
  readonly drafts: ReadonlyArray<DraftRecord>
  readonly problems: ReadonlyArray<FieldProblem>
}

/** Collects field problems while reading typed values out of one JSON object. */
export class FieldReader {
  readonly problems: Array<FieldProblem> = []
  constructor(readonly value: unknown, readonly prefix = "") {}

  /** False (with a problem recorded) when the row is not a JSON object. */
  isObject(): this is FieldReader & { value: Record<string, unknown> } {
    if (typeof this.value === "object" && this.value !== null && !Array.isArray(this.value)) return true
    this.problems.push({ field: this.prefix === "" ? "record" : this.prefix, reason: "must be a JSON object" })
    return false
  }

  private get object(): Record<string, unknown> {
    return this.value as Record<string, unknown>
  }

  private name(field: string): string {
    return this.prefix === "" ? field : `${this.prefix}.${field}`
  }

  has(field: string): boolean {
    return this.object[field] !== undefined && this.object[field] !== null
  }

  /** A string that must be present and not blank. */
  required(field: string): string {
    const v = this.object[field]
    if (v === undefined || v === null) this.problems.push({ field: this.name(field), reason: "missing required field" })
    else if (typeof v !== "string") this.problems.push({ field: this.name(field), reason: `must be a string, got ${typeOf(v)}` })
    else if (v.trim() === "") this.problems.push({ field: this.name(field), reason: "must not be empty" })
    else return v
    return ""
  }

  /** A string that may be absent, null or empty. */
  optional(field: string): string | undefined {
    const v = this.object[field]
    if (v === undefined || v === null) return undefined
    if (typeof v !== "string") {
      this.problems.push({ field: this.name(field), reason: `must be a string, got ${typeOf(v)}` })
      return undefined
    }
    return v
  }

  /** An optional JSON object passed through as record metadata. */
  meta(field: string): Record<string, JsonValue> | undefined {
    const v = this.object[field]
    if (v === undefined || v === null) return undefined
    if (typeof v !== "object" || Array.isArray(v)) {
      this.problems.push({ field: this.name(field), reason: `must be an object, got ${typeOf(v)}` })
      return undefined
    }
    return v as Record<string, JsonValue>
  }

  array(field: string): ReadonlyArray<unknown> {
    const v = this.object[field]
    if (v === undefined || v === null) this.problems.push({ field: this.name(field), reason: "missing required field" })
    else if (!Array.isArray(v)) this.problems.push({ field: this.name(field), reason: `must be an array, got ${typeOf(v)}` })
    else if (v.length === 0) this.problems.push({ field: this.name(field), reason: "must not be empty" })
    else return v
    return []
  }

  get ok(): boolean {
    return this.problems.length === 0
  }
}

export const typeOf = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "array" : typeof v)
