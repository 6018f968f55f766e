/**
 * Self-Instruct task files (`instruction` + `instances[]` of `{input, output}`), as in
 * yizhongw/self-instruct `seed_tasks.jsonl`: one record per instance. The task is the row's
 * `name` (falling back to its `id`, then the file name); the task id and `is_classification`
 * are kept in `meta`.
 */
import type { DraftRecord, JsonValue } from "../DataRecord.js"
import { instructionPrompt } from "../DataRecord.js"
import { type Converted, FieldReader } from "./ReadResult.js"
import { defaultTask } from "./DefaultTask.js"

export const convertSelfInstruct = (value: unknown, file: string): Converted => {
  const row = new FieldReader(value)
  if (!row.isObject()) return { drafts: [], problems: row.problems }
  const instruction = row.required("instruction")
  const instances = row.array("instances")
  const name = row.optional("name")
  const taskId = row.optional("id")
  const drafts: Array<DraftRecord> = []
  const meta: Record<string, JsonValue> = {}
  if (taskId !== undefined) meta["taskId"] = taskId
  if (typeof row.value["is_classification"] === "boolean") meta["is_classification"] = row.value["is_classification"]
  instances.forEach((instance, i) => {
    const item = new FieldReader(instance, `instances[${i}]`)
    if (!item.isObject()) {
      row.problems.push(...item.problems)
      return
    }
    const input = item.optional("input")
    const output = item.required("output")
    row.problems.push(...item.problems)
    drafts.push({
      task: name || taskId || defaultTask(file),
      prompt: instructionPrompt(instruction, input),
      completion: output,
      source: file,
      meta
    })
  })
  return row.ok ? { drafts, problems: [] } : { drafts, problems: row.problems }
}
