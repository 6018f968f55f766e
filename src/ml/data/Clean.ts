/**
 * The clean stage's logic: normalise, scrub PII, filter, dedupe, and say what happened.
 *
 * Per record, in this order: text normalisation; the blocklist (on the text as written, so an
 * entry can name something PII scrubbing would hide); PII placeholders; empty and length filters;
 * exact dedupe on the normalised, case- and space-folded text; then near-dedupe (MinHash + LSH)
 * over what is left. Exact duplicates are always dropped. A near-duplicate either is dropped
 * (`action: "drop"`) or kept (`"group"`); either way it gets `meta.group` = the id of the kept
 * record it resembles, and with `"group"` that record gets its own id as group, so split can keep
 * the group on one side. Every dropped record is reported by reason with a few examples, and can
 * be written to a rejects file with its reason.
 */
import * as fs from "node:fs/promises"
import type { DataRecord, JsonValue } from "./DataRecord.js"
import { withId } from "./DataRecord.js"
import { dedupeKey, normalizeText } from "./TextNormalization.js"
import { type PiiKind, scrubPii } from "./Pii.js"
import { type BlocklistSpec, compileBlocklist, parseBlocklistFile } from "./Blocklist.js"
import { readJsonl, writeJsonl } from "./Jsonl.js"
import { writeJsonFile } from "./JsonFile.js"
import { countByTask } from "./TaskCounts.js"
import { tokenCounter } from "./TokenCount.js"
import { findNearDuplicates } from "./MinHash.js"

export interface CleanOptions {
  readonly normalize: boolean
  readonly length: {
    readonly minChars?: number | undefined
    readonly maxChars?: number | undefined
    readonly minTokens?: number | undefined
    readonly maxTokens?: number | undefined
    readonly tokenPattern: string
  }
  readonly dedupe: { readonly exact: boolean }
  readonly nearDedupe: {
    readonly enabled: boolean
    readonly shingleSize: number
    readonly threshold: number
    readonly numPerm: number
    readonly bands: number
    readonly seed: number
    readonly action: "drop" | "group"
  }
  readonly pii: { readonly enabled: boolean; readonly kinds: ReadonlyArray<PiiKind> }
  readonly blocklist: BlocklistSpec
  /** Examples kept per drop reason in the report. */
  readonly reportExamples: number
}

export const DROP_REASONS = [
  "empty",
  "blocklist",
  "too_few_chars",
  "too_many_chars",
  "too_few_tokens",
  "too_many_tokens",
  "exact_duplicate",
  "near_duplicate"
] as const
export type DropReason = (typeof DROP_REASONS)[number]

export interface DropExample {
  readonly id: string
  readonly task: string
  /** The start of prompt and completion, enough to recognise the record. */
  readonly text: string
  readonly detail?: string
}

export interface CleanReport {
  readonly input: number
  readonly kept: number
  readonly dropped: Readonly<Record<DropReason, number>>
  readonly examples: Readonly<Partial<Record<DropReason, ReadonlyArray<DropExample>>>>
  /** Records whose text normalisation changed, and records with at least one PII replacement. */
  readonly modified: { readonly normalized: number; readonly piiScrubbed: number }
  readonly pii: Readonly<Partial<Record<PiiKind, number>>>
  /** Groups of near-duplicates (a kept record plus at least one record resembling it). */
  readonly nearDuplicateGroups: number
}

export interface CleanResult {
  readonly records: ReadonlyArray<DataRecord>
  /** Dropped records with `meta.dropReason` (and `meta.group` for near-duplicates). */
  readonly rejects: ReadonlyArray<DataRecord>
  readonly report: CleanReport
}

const EXAMPLE_CHARS = 160

export const cleanRecords = (input: ReadonlyArray<DataRecord>, options: CleanOptions): CleanResult => {
  const matchBlocklist = compileBlocklist(options.blocklist)
  const countTokens = tokenCounter(options.length.tokenPattern)
  const dropped = Object.fromEntries(DROP_REASONS.map((r) => [r, 0])) as Record<DropReason, number>
  const examples: Partial<Record<DropReason, Array<DropExample>>> = {}
  const rejects: Array<DataRecord> = []
  const pii: Partial<Record<PiiKind, number>> = {}
  let normalized = 0
  let piiScrubbed = 0

  const drop = (record: DataRecord, reason: DropReason, detail?: string, extra: Record<string, JsonValue> = {}) => {
    dropped[reason]++
    const list = (examples[reason] ??= [])
    if (list.length < options.reportExamples) {
      const text = `${record.prompt} => ${record.completion}`.replace(/\s+/g, " ")
      list.push({
        id: record.id,
        task: record.task,
        text: text.length > EXAMPLE_CHARS ? text.slice(0, EXAMPLE_CHARS - 1) + "…" : text,
        ...(detail !== undefined ? { detail } : {})
      })
    }
    rejects.push(withMeta(record, { ...extra, dropReason: reason, ...(detail !== undefined ? { dropDetail: detail } : {}) }))
  }

  // Per-record rules, then exact dedupe, in one pass.
  const survivors: Array<DataRecord> = []
  const firstByKey = new Map<string, string>()
  const { minChars, maxChars, minTokens, maxTokens } = options.length
  for (const original of input) {
    let record = original
    if (options.normalize) {
      const prompt = normalizeText(record.prompt)
      const completion = normalizeText(record.completion)
      if (prompt !== record.prompt || completion !== record.completion) {
        normalized++
        record = { ...record, prompt, completion }
      }
    }
    if (record.prompt.trim() === "" || record.completion.trim() === "") {
      drop(record, "empty", record.prompt.trim() === "" ? "prompt" : "completion")
      continue
    }
    const blocked = matchBlocklist(record.prompt) ?? matchBlocklist(record.completion)
    if (blocked !== undefined) {
      drop(record, "blocklist", blocked)
      continue
    }
    if (options.pii.enabled) {
      const p = scrubPii(record.prompt, options.pii.kinds)
      const c = scrubPii(record.completion, options.pii.kinds)
      if (p.text !== record.prompt || c.text !== record.completion) {
        piiScrubbed++
        for (const found of [p.found, c.found]) {
          for (const [kind, n] of Object.entries(found) as Array<[PiiKind, number]>) pii[kind] = (pii[kind] ?? 0) + n
        }
        record = { ...record, prompt: p.text, completion: c.text }
      }
    }
    const chars = record.prompt.length + record.completion.length
    if (minChars !== undefined && chars < minChars) {
      drop(record, "too_few_chars", `${chars} < ${minChars}`)
      continue
    }
    if (maxChars !== undefined && chars > maxChars) {
      drop(record, "too_many_chars", `${chars} > ${maxChars}`)
      continue
    }
    if (minTokens !== undefined || maxTokens !== undefined) {
      const tokens = countTokens(record.prompt) + countTokens(record.completion)
      if (minTokens !== undefined && tokens < minTokens) {
        drop(record, "too_few_tokens", `${tokens} < ${minTokens}`)
        continue
      }
      if (maxTokens !== undefined && tokens > maxTokens) {
        drop(record, "too_many_tokens", `${tokens} > ${maxTokens}`)
        continue
      }
    }
    if (options.dedupe.exact) {
      const key = dedupeKey(record.prompt, record.completion)
      const first = firstByKey.get(key)
      if (first !== undefined) {
        drop(record, "exact_duplicate", `duplicate of ${first}`, { duplicateOf: first })
        continue
      }
      firstByKey.set(key, record.id)
    }
    survivors.push(record)
  }

  let records: Array<DataRecord> = survivors
  let nearDuplicateGroups = 0
  if (options.nearDedupe.enabled && survivors.length > 1) {
    const near = findNearDuplicates(survivors.map((r) => `${r.prompt}\n${r.completion}`), options.nearDedupe)
    const representatives = new Set<number>()
    for (let i = 0; i < survivors.length; i++) if (near.duplicateOf[i] !== -1) representatives.add(near.duplicateOf[i]!)
    nearDuplicateGroups = representatives.size
    records = []
    for (let i = 0; i < survivors.length; i++) {
      const record = survivors[i]!
      const of = near.duplicateOf[i]!
      if (of === -1) {
        const isGroupHead = options.nearDedupe.action === "group" && representatives.has(i)
        records.push(isGroupHead ? withMeta(record, { group: record.id }) : record)
        continue
      }
      const group = survivors[of]!.id
      const similarity = Math.round(near.similarity[i]! * 1000) / 1000
      if (options.nearDedupe.action === "group") records.push(withMeta(record, { group, similarity }))
      else drop(record, "near_duplicate", `~${similarity} of ${group}`, { group, similarity })
    }
  }

  return {
    records,
    rejects,
    report: {
      input: input.length,
      kept: records.length,
      dropped,
      examples,
      modified: { normalized, piiScrubbed },
      pii,
      nearDuplicateGroups
    }
  }
}

const withMeta = (record: DataRecord, extra: Record<string, JsonValue>): DataRecord =>
  withId({ ...record, meta: { ...record.meta, ...extra } }, record.id)

export interface CleanFiles {
  readonly input: string
  readonly out: string
  readonly report: string
  readonly rejects?: string | undefined
  /** Extra blocklist entries, one per line (see `parseBlocklistFile`). */
  readonly blocklistFile?: string | undefined
}

/** Reads `input`, cleans it, writes the kept records, the report (with counts per task) and rejects. */
export const cleanFiles = async (files: CleanFiles, options: CleanOptions): Promise<CleanReport> => {
  let blocklist = options.blocklist
  if (files.blocklistFile !== undefined) {
    const extra = parseBlocklistFile(await fs.readFile(files.blocklistFile, "utf8"))
    blocklist = { words: [...blocklist.words, ...extra.words], patterns: [...blocklist.patterns, ...extra.patterns] }
  }
  const result = cleanRecords(await readJsonl(files.input), { ...options, blocklist })
  await writeJsonl(files.out, result.records)
  if (files.rejects !== undefined) await writeJsonl(files.rejects, result.rejects)
  await writeJsonFile(files.report, { ...result.report, keptByTask: await countByTask(result.records) })
  return result.report
}
