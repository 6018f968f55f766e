/**
 * Rows of a JSON Lines file, or of a top-level JSON array, each with the line it starts on.
 *
 * Readers validate row by row and must report real line numbers; JSON.parse has no positions,
 * so for an array file a small scanner finds where each top-level element starts (tracking
 * strings and nesting depth) and the parsed elements are paired with those offsets.
 */
import type { InvalidRecord } from "./DataErrors.js"

export interface JsonRow {
  readonly line: number
  readonly value: unknown
}

export interface JsonRows {
  readonly rows: ReadonlyArray<JsonRow>
  readonly invalid: ReadonlyArray<InvalidRecord>
}

/** Parses JSONL: one value per non-blank line; a line that is not JSON is an invalid record. */
export const parseJsonLines = (file: string, text: string): JsonRows => {
  const rows: Array<JsonRow> = []
  const invalid: Array<InvalidRecord> = []
  const lines = text.split("\n")
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!
    const content = i === 0 ? stripBom(raw) : raw
    if (content.trim() === "") continue
    try {
      rows.push({ line: i + 1, value: JSON.parse(content) })
    } catch (error) {
      invalid.push({ file, line: i + 1, field: "record", reason: `not valid JSON (${(error as Error).message})` })
    }
  }
  return { rows, invalid }
}

/** Parses a JSON document whose top level is an array; any other document is one invalid record. */
export const parseJsonArray = (file: string, text: string): JsonRows => {
  const source = stripBom(text)
  let parsed: unknown
  try {
    parsed = JSON.parse(source)
  } catch (error) {
    return { rows: [], invalid: [{ file, line: 1, field: "record", reason: `not valid JSON (${(error as Error).message})` }] }
  }
  if (!Array.isArray(parsed)) {
    return { rows: [{ line: 1, value: parsed }], invalid: [] }
  }
  const starts = arrayElementLines(source)
  return { rows: parsed.map((value, i) => ({ line: starts[i] ?? 1, value })), invalid: [] }
}

/** True when the text (after whitespace) opens a JSON array, i.e. it is not JSON Lines. */
export const looksLikeJsonArray = (text: string): boolean => /^\s*\[/.test(stripBom(text))

const stripBom = (text: string): string => (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text)

/** 1-based start line of every element of the top-level array in already-valid JSON text. */
const arrayElementLines = (text: string): Array<number> => {
  const lines: Array<number> = []
  let line = 1
  let depth = 0
  let inString = false
  let expectValue = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 10) {
      line++
      continue
    }
    if (inString) {
      if (c === 92) i++ // backslash: skip the escaped character (never a newline in valid JSON)
      else if (c === 34) inString = false
      continue
    }
    if (c === 32 || c === 9 || c === 13) continue
    if (depth === 1 && expectValue) {
      lines.push(line)
      expectValue = false
    }
    if (c === 34) inString = true
    else if (c === 91 || c === 123) {
      depth++
      if (depth === 1) expectValue = true
    } else if (c === 93 || c === 125) depth--
    else if (c === 44 && depth === 1) expectValue = true
  }
  return lines
}
