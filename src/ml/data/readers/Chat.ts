/**
 * Chat transcripts (`messages: [{role, content}]`, roles system/user/assistant), the format
 * InstructLab and most chat fine-tuning tools emit. The last message must be the assistant's: it
 * becomes the completion. A single user turn becomes the prompt as is; longer conversations are
 * rendered as `User:` / `Assistant:` turns so no context is lost. The system message goes to
 * `meta.system`.
 */
import type { JsonValue } from "../DataRecord.js"
import { type Converted, FieldReader, typeOf } from "./ReadResult.js"
import { defaultTask } from "./DefaultTask.js"

const ROLES = new Set(["system", "user", "assistant"])

export const convertChat = (value: unknown, file: string): Converted => {
  const row = new FieldReader(value)
  if (!row.isObject()) return { drafts: [], problems: row.problems }
  const messages = row.array("messages")
  const id = row.optional("id")
  const task = row.optional("task")
  const turns: Array<{ role: string; content: string; index: number }> = []
  messages.forEach((message, i) => {
    const m = new FieldReader(message, `messages[${i}]`)
    if (!m.isObject()) {
      row.problems.push(...m.problems)
      return
    }
    const role = m.required("role")
    const content = m.required("content")
    if (role !== "" && !ROLES.has(role)) m.problems.push({ field: `messages[${i}].role`, reason: `unknown role "${role}" (expected system, user or assistant)` })
    row.problems.push(...m.problems)
    turns.push({ role, content, index: i })
  })
  if (!row.ok) return { drafts: [], problems: row.problems }

  const last = turns[turns.length - 1]!
  if (last.role !== "assistant") {
    return { drafts: [], problems: [{ field: `messages[${last.index}].role`, reason: `the last message must be the assistant's, got "${last.role}"` }] }
  }
  const system = turns.filter((t) => t.role === "system")
  const dialogue = turns.slice(0, -1).filter((t) => t.role !== "system")
  if (!dialogue.some((t) => t.role === "user")) {
    return { drafts: [], problems: [{ field: "messages", reason: "needs at least one user message before the assistant's" }] }
  }
  const prompt = dialogue.length === 1
    ? dialogue[0]!.content
    : dialogue.map((t) => `${t.role === "user" ? "User" : "Assistant"}: ${t.content}`).join("\n\n")
  const meta: Record<string, JsonValue> = {}
  if (system.length > 0) meta["system"] = system.map((t) => t.content).join("\n\n")
  const metadata = row.value["metadata"]
  if (metadata !== undefined && metadata !== null) {
    if (typeof metadata === "object" || typeof metadata === "string") meta["metadata"] = metadata as JsonValue
    else return { drafts: [], problems: [{ field: "metadata", reason: `must be an object or string, got ${typeOf(metadata)}` }] }
  }
  return {
    drafts: [{
      ...(id !== undefined && id !== "" ? { id } : {}),
      task: task !== undefined && task !== "" ? task : defaultTask(file),
      prompt,
      completion: last.content,
      source: file,
      ...(Object.keys(meta).length > 0 ? { meta } : {})
    }],
    problems: []
  }
}
