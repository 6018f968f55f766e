/**
 * CSV files, parsed by arquero (`fromCSV`, no type inference so values stay text).
 *
 * Columns are `prompt` + `completion`, or alpaca-style `instruction` + optional `input` + `output`;
 * optional `id` and `task` are kept and any other column goes to `meta`. arquero does not report
 * positions, so a quote-aware scan finds the physical line each row starts on (rows may span lines
 * inside quoted fields); the scan follows arquero's rules (every unquoted newline ends a row, a
 * final newline does not start one), and the two are checked to agree.
 */
import type { DraftRecord, JsonValue } from "../DataRecord.js"
import { instructionPrompt } from "../DataRecord.js"
import type { InvalidRecord } from "../DataErrors.js"
import type { ReadResult } from "./ReadResult.js"
import { defaultTask } from "./DefaultTask.js"

const KNOWN = new Set(["id", "task", "prompt", "completion", "instruction", "input", "output"])

export const readCsv = async (file: string, text: string): Promise<ReadResult> => {
  const aq = await import("arquero")
  const source = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const delimiter = file.toLowerCase().endsWith(".tsv") ? "\t" : ","
  const table = aq.fromCSV(source, { autoType: false, delimiter })
  const columns = table.columnNames()
  const mode = columns.includes("prompt") && columns.includes("completion")
    ? "prompt"
    : columns.includes("instruction") && columns.includes("output")
    ? "instruction"
    : undefined
  if (mode === undefined) {
    return {
      drafts: [],
      invalid: [{ file, line: 1, field: "header", reason: `needs columns prompt+completion or instruction+output, found ${columns.join(", ") || "none"}` }],
      skipped: table.numRows()
    }
  }
  const lines = rowStartLines(source, delimiter)
  if (lines.length !== table.numRows() + 1) {
    return { drafts: [], invalid: [{ file, line: 1, field: "record", reason: "could not map CSV rows to lines (malformed quoting?)" }], skipped: table.numRows() }
  }
  const extra = columns.filter((c) => !KNOWN.has(c))
  const drafts: Array<DraftRecord> = []
  const invalid: Array<InvalidRecord> = []
  let skipped = 0
  const rows = table.objects() as Array<Record<string, string | null | undefined>>
  rows.forEach((row, i) => {
    const line = lines[i + 1]!
    const values = columns.map((c) => row[c])
    if (values.every((v) => v === null || v === undefined || v === "")) return // blank line
    const [promptField, completionField] = mode === "prompt" ? ["prompt", "completion"] : ["instruction", "output"]
    const problems: Array<InvalidRecord> = []
    for (const field of [promptField, completionField]) {
      const v = row[field]
      if (v === null || v === undefined || v.trim() === "") problems.push({ file, line, field, reason: "must not be empty" })
    }
    if (problems.length > 0) {
      invalid.push(...problems)
      skipped++
      return
    }
    const meta: Record<string, JsonValue> = {}
    for (const c of extra) {
      const v = row[c]
      if (v !== null && v !== undefined && v !== "") meta[c] = v
    }
    const id = row["id"]
    const task = row["task"]
    drafts.push({
      ...(id ? { id } : {}),
      task: task ? task : defaultTask(file),
      prompt: mode === "prompt" ? row["prompt"]! : instructionPrompt(row["instruction"]!, row["input"] ?? undefined),
      completion: row[completionField]!,
      source: file,
      ...(Object.keys(meta).length > 0 ? { meta } : {})
    })
  })
  return { drafts, invalid, skipped }
}

/** 1-based start line of every row (header included), following arquero's row boundaries. */
const rowStartLines = (text: string, delimiter: string): Array<number> => {
  const delim = delimiter.charCodeAt(0)
  const starts: Array<number> = []
  let line = 1
  let atRowStart = true
  let atFieldStart = true
  let inQuote = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (atRowStart) {
      starts.push(line)
      atRowStart = false
    }
    if (inQuote) {
      if (c === 34) {
        if (text.charCodeAt(i + 1) === 34) i++
        else inQuote = false
      } else if (c === 10) line++
      continue
    }
    if (c === 34 && atFieldStart) {
      inQuote = true
      atFieldStart = false
      continue
    }
    if (c === 13 || c === 10) {
      if (c === 13 && text.charCodeAt(i + 1) === 10) i++
      line++
      atRowStart = true
      atFieldStart = true
      continue
    }
    atFieldStart = c === delim
  }
  return starts
}
