/**
 * Reading any supported dataset into canonical records, and the operations built on it.
 *
 * `readDataset` is the single entry point: it resolves `auto`, dispatches to the format's reader,
 * assigns ids, and then either fails listing every bad record (`onInvalid: "fail"`) or drops
 * bad records and counts them (`"skip"`). `validatePath` and `convertToJsonl`
 * back `cairn data validate` / `cairn data convert`.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { assignIds, type DataRecord } from "./DataRecord.js"
import { DataReadFailed, DatasetInvalid, type InvalidRecord } from "./DataErrors.js"
import { DATA_FILE_EXTENSIONS, type DataFormat, formatFromPartialRecord, formatFromPath, formatFromRecord, type FormatOption } from "./DataFormat.js"
import { looksLikeJsonArray, parseJsonArray, parseJsonLines } from "./JsonRows.js"
import { type Converted, convertRows, type ReadResult } from "./readers/ReadResult.js"
import { convertPromptCompletion } from "./readers/PromptCompletion.js"
import { convertAlpaca } from "./readers/Alpaca.js"
import { convertChat } from "./readers/Chat.js"
import { convertSelfInstruct } from "./readers/SelfInstruct.js"
import { readCsv } from "./readers/Csv.js"
import { findQnaFiles, readTaxonomy } from "./readers/Taxonomy.js"
import { writeJsonl } from "./Jsonl.js"

export type OnInvalid = "fail" | "skip"

export interface ReadOptions {
  readonly format?: FormatOption
  readonly onInvalid?: OnInvalid
  /**
   * The path to record in `source` fields and problem reports instead of the one read: stages
   * read resolved absolute paths but record the workspace-relative path the pipeline wrote, so
   * outputs do not depend on where the workspace lives.
   */
  readonly sourceAs?: string
}

export interface Dataset {
  readonly records: ReadonlyArray<DataRecord>
  /** Every problem found (with `onInvalid: "skip"`; a failing read rejects with them instead). */
  readonly invalid: ReadonlyArray<InvalidRecord>
  /** Records left out because they were invalid. */
  readonly skipped: number
  /** The format that was read; for a directory of mixed files, the first file's. */
  readonly format: DataFormat
}

const JSON_CONVERTERS: Record<Exclude<DataFormat, "csv" | "taxonomy">, (value: unknown, file: string) => Converted> = {
  jsonl: convertPromptCompletion,
  alpaca: convertAlpaca,
  chat: convertChat,
  "self-instruct": convertSelfInstruct
}

/** Reads a file or directory in the given format (default `auto`) into canonical records. */
export const readDataset = async (target: string, options: ReadOptions = {}): Promise<Dataset> => {
  const onInvalid = options.onInvalid ?? "fail"
  const stat = await fs.stat(target).catch(() => undefined)
  if (stat === undefined) throw new DataReadFailed({ path: target, reason: "no such file or directory" })
  const parts = stat.isDirectory() ? await readDirectory(target, options.format ?? "auto") : [await readFile(target, options.format ?? "auto")]
  if (parts.length === 0) throw new DataReadFailed({ path: target, reason: "no dataset files found (looked for qna.yaml, *.jsonl, *.json, *.csv, *.tsv)" })
  const rename = renamer(target, options.sourceAs)
  const invalid = parts.flatMap((p) => p.result.invalid.map((i) => ({ ...i, file: rename(i.file) })))
  if (invalid.length > 0 && onInvalid === "fail") throw new DatasetInvalid({ path: rename(target), invalid })
  return {
    records: assignIds(parts.flatMap((p) => p.result.drafts.map((d) => ({ ...d, source: rename(d.source) })))),
    invalid,
    skipped: parts.reduce((n, p) => n + p.result.skipped, 0),
    format: parts[0]!.format
  }
}

/** Maps `target` (and paths inside it) to `sourceAs`, with `/` separators; other paths pass. */
const renamer = (target: string, sourceAs: string | undefined) => {
  // readers build paths with path.join, which normalises (`./data/x` → `data/x`)
  const base = path.normalize(target).replace(/[\\/]+$/, "")
  return (p: string): string => {
    if (sourceAs === undefined) return p
    const file = path.normalize(p)
    if (file === base) return sourceAs
    return file.startsWith(base + path.sep) ? `${sourceAs.replace(/\/+$/, "")}/${file.slice(base.length + 1).split(path.sep).join("/")}` : p
  }
}

interface FilePart {
  readonly format: DataFormat
  readonly result: ReadResult
}

const readDirectory = async (dir: string, format: FormatOption): Promise<Array<FilePart>> => {
  if (format === "taxonomy" || (format === "auto" && (await findQnaFiles(dir)).length > 0)) {
    return [{ format: "taxonomy", result: await readTaxonomy(dir, true) }]
  }
  const entries = await fs.readdir(dir, { withFileTypes: true })
  const files = entries
    .filter((e) => e.isFile() && DATA_FILE_EXTENSIONS.some((ext) => e.name.toLowerCase().endsWith(ext)))
    .map((e) => path.join(dir, e.name))
    .sort()
  const parts: Array<FilePart> = []
  for (const file of files) parts.push(await readFile(file, format))
  return parts
}

const readFile = async (file: string, requested: FormatOption): Promise<FilePart> => {
  if (requested === "taxonomy" || (requested === "auto" && formatFromPath(file) === "taxonomy")) {
    return { format: "taxonomy", result: await readTaxonomy(file, false) }
  }
  const text = await fs.readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new DataReadFailed({ path: file, reason: error.message })
  })
  if (requested === "csv" || (requested === "auto" && formatFromPath(file) === "csv")) {
    return { format: "csv", result: await readCsv(file, text) }
  }
  const parsed = looksLikeJsonArray(text) ? parseJsonArray(file, text) : parseJsonLines(file, text)
  const format = requested === "auto" ? detectJsonFormat(file, parsed.rows.map((r) => r.value)) : requested
  return { format, result: convertRows(file, parsed.rows, parsed.invalid, JSON_CONVERTERS[format]) }
}

const detectJsonFormat = (file: string, values: ReadonlyArray<unknown>): Exclude<DataFormat, "csv" | "taxonomy"> => {
  for (const value of values.slice(0, 20)) {
    const format = formatFromRecord(value)
    if (format !== undefined && format !== "csv" && format !== "taxonomy") return format
  }
  for (const value of values.slice(0, 20)) {
    const format = formatFromPartialRecord(value)
    if (format !== undefined && format !== "csv" && format !== "taxonomy") return format
  }
  if (values.length === 0) return "jsonl"
  throw new DataReadFailed({
    path: file,
    reason: "cannot detect the format (expected keys prompt+completion, instruction+output, instruction+instances or messages); pass --format"
  })
}

export interface Validation {
  readonly format: DataFormat
  /** Valid records per task, keys sorted. */
  readonly countsByTask: Readonly<Record<string, number>>
  readonly errors: ReadonlyArray<InvalidRecord>
}

/** Reads everything it can and reports counts per task plus every bad record. */
export const validatePath = async (target: string, format: FormatOption = "auto"): Promise<Validation> => {
  const dataset = await readDataset(target, { format, onInvalid: "skip" })
  const counts = new Map<string, number>()
  for (const r of dataset.records) counts.set(r.task, (counts.get(r.task) ?? 0) + 1)
  const countsByTask = Object.fromEntries([...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
  return { format: dataset.format, countsByTask, errors: dataset.invalid }
}

/** Reads `input` (failing on any bad record) and writes it as canonical JSONL to `output`. */
export const convertToJsonl = async (input: string, output: string, format: FormatOption = "auto"): Promise<Dataset> => {
  const dataset = await readDataset(input, { format, onInvalid: "fail" })
  await writeJsonl(output, dataset.records)
  return dataset
}
