/**
 * Prompt expansion from instruction templates: the prompt is rewrapped in a phrasing chosen from
 * a template list (`{prompt}` marks where it goes), so the model sees the same request asked in
 * several ways. The stock list lives in the augment stage's params schema; it only adds neutral
 * framing, never a constraint the original completion might not meet ("answer in one word").
 */
import type { Random } from "../SeededRandom.js"

/** One of the templates (those without `{prompt}` or that add nothing are ignored), applied. */
export const expandPrompt = (prompt: string, templates: ReadonlyArray<string>, rng: Random): string => {
  const usable = templates.filter((t) => t.includes("{prompt}") && t.trim() !== "{prompt}")
  if (usable.length === 0) return prompt
  return rng.pick(usable).split("{prompt}").join(prompt)
}
