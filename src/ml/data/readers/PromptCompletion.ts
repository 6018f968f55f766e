/**
 * Prompt/completion JSON Lines, which is also the canonical format cairn writes: `prompt` and
 * `completion` are required; `id`, `task`, `source` and `meta` are kept when present so canonical
 * files round-trip unchanged.
 */
import type { DraftRecord } from "../DataRecord.js"
import { type Converted, FieldReader } from "./ReadResult.js"
import { defaultTask } from "./DefaultTask.js"

export const convertPromptCompletion = (value: unknown, file: string): Converted => {
  const row = new FieldReader(value)
  if (!row.isObject()) return { drafts: [], problems: row.problems }
  const prompt = row.required("prompt")
  const completion = row.required("completion")
  const id = row.optional("id")
  const task = row.optional("task")
  const source = row.optional("source")
  const meta = row.meta("meta")
  if (!row.ok) return { drafts: [], problems: row.problems }
  const draft: DraftRecord = {
    ...(id !== undefined && id !== "" ? { id } : {}),
    task: task !== undefined && task !== "" ? task : defaultTask(file),
    prompt,
    completion,
    source: source !== undefined && source !== "" ? source : file,
    ...(meta !== undefined ? { meta } : {})
  }
  return { drafts: [draft], problems: [] }
}
