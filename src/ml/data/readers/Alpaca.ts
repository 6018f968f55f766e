/**
 * Alpaca records (`instruction`, optional `input`, `output`), from a JSON array file such as
 * `alpaca_data.json` or from JSON Lines. The prompt is the instruction followed by the input
 * after a blank line when the input is not empty.
 */
import { instructionPrompt } from "../DataRecord.js"
import { type Converted, FieldReader } from "./ReadResult.js"
import { defaultTask } from "./DefaultTask.js"

export const convertAlpaca = (value: unknown, file: string): Converted => {
  const row = new FieldReader(value)
  if (!row.isObject()) return { drafts: [], problems: row.problems }
  const instruction = row.required("instruction")
  const input = row.optional("input")
  const output = row.required("output")
  const task = row.optional("task")
  if (!row.ok) return { drafts: [], problems: row.problems }
  return {
    drafts: [{
      task: task !== undefined && task !== "" ? task : defaultTask(file),
      prompt: instructionPrompt(instruction, input),
      completion: output,
      source: file
    }],
    problems: []
  }
}
