/**
 * `cairn data validate` and `cairn data convert`, as functions from arguments to exit code and
 * text, so the CLI only parses flags and prints.
 *
 * Exit codes: 0 success; 2 bad input (invalid records, unknown format, missing path), the same
 * code the pipeline loader uses for invalid files; 1 any other failure.
 */
import { DataReadFailed, DatasetInvalid, describeError, formatInvalid } from "./DataErrors.js"
import { type FormatOption, isFormatOption } from "./DataFormat.js"
import { convertToJsonl, validatePath } from "./Dataset.js"

export interface CommandResult {
  readonly exitCode: number
  readonly output: string
}

const EXIT_OK = 0
const EXIT_INVALID = 2
/** Anything else (an I/O failure writing the output, say). */
const EXIT_FAILED = 1

const checkFormat = (format: string | undefined): FormatOption | CommandResult => {
  const f = format ?? "auto"
  return isFormatOption(f) ? f : { exitCode: EXIT_INVALID, output: `unknown format "${f}" (expected auto, jsonl, alpaca, chat, self-instruct, csv or taxonomy)` }
}

/** Validates a file or directory: counts per task on success, every bad record otherwise. */
export const runValidate = async (target: string, format?: string): Promise<CommandResult> => {
  const f = checkFormat(format)
  if (typeof f !== "string") return f
  try {
    const result = await validatePath(target, f)
    if (result.errors.length > 0) {
      const lines = result.errors.map(formatInvalid)
      lines.push(`${result.errors.length} invalid record(s) in ${target}`)
      return { exitCode: EXIT_INVALID, output: lines.join("\n") }
    }
    const tasks = Object.entries(result.countsByTask)
    const width = Math.max(4, ...tasks.map(([t]) => t.length))
    const total = tasks.reduce((n, [, c]) => n + c, 0)
    const lines = tasks.map(([task, count]) => `${task.padEnd(width)}  ${count}`)
    lines.push(`${"total".padEnd(width)}  ${total}  (${result.format}, ${tasks.length} task(s))`)
    return { exitCode: EXIT_OK, output: lines.join("\n") }
  } catch (error) {
    return failure(error)
  }
}

/** Converts `input` to canonical JSONL at `output`; fails without writing if any record is bad. */
export const runConvert = async (input: string, output: string, format?: string): Promise<CommandResult> => {
  const f = checkFormat(format)
  if (typeof f !== "string") return f
  try {
    const dataset = await convertToJsonl(input, output, f)
    return { exitCode: EXIT_OK, output: `wrote ${dataset.records.length} record(s) from ${input} (${dataset.format}) to ${output}` }
  } catch (error) {
    return failure(error)
  }
}

const failure = (error: unknown): CommandResult => {
  if (error instanceof DatasetInvalid) {
    return { exitCode: EXIT_INVALID, output: [...error.invalid.map(formatInvalid), `${error.invalid.length} invalid record(s) in ${error.path}`].join("\n") }
  }
  if (error instanceof DataReadFailed) return { exitCode: EXIT_INVALID, output: error.message }
  return { exitCode: EXIT_FAILED, output: describeError(error) }
}
