/**
 * The task a record gets when its format has no notion of one: the file name without its
 * extension (`seed_tasks.jsonl` → `seed_tasks`), so each file stratifies as one task.
 */
import * as path from "node:path"

export const defaultTask = (file: string): string => {
  const base = path.basename(file)
  const dot = base.indexOf(".")
  return dot > 0 ? base.slice(0, dot) : base
}
