/**
 * The canonical training record every reader produces and every data stage consumes.
 *
 * One record is one prompt/completion pair. `task` is what split stratifies on (for an InstructLab
 * taxonomy it is the taxonomy path of the leaf); `source` says which file the record came from;
 * `meta` carries format-specific extras and the bookkeeping later stages add (`group` from
 * near-dedupe, `augmentedFrom`/`augmentOp` from augment).
 */
import { createHash } from "node:crypto"

export type JsonValue = string | number | boolean | null | ReadonlyArray<JsonValue> | { readonly [key: string]: JsonValue }

export interface DataRecord {
  readonly id: string
  readonly task: string
  readonly prompt: string
  readonly completion: string
  readonly source: string
  readonly meta?: Readonly<Record<string, JsonValue>>
}

/** A record as a reader sees it: the id is assigned afterwards unless the file carries one. */
export type DraftRecord = Omit<DataRecord, "id"> & { readonly id?: string }

/**
 * Content id: `r` + the first 16 hex digits of sha256(task NUL prompt NUL completion).
 *
 * Content rather than (path, index) so that an id survives reordering, moving the file and
 * converting between formats; identical content repeated within one dataset is told apart by an
 * occurrence suffix (`~2`, `~3`, ... in reading order), so ids stay unique.
 */
export const contentId = (task: string, prompt: string, completion: string): string =>
  "r" + createHash("sha256").update(`${task}\u0000${prompt}\u0000${completion}`).digest("hex").slice(0, 16)

/** Gives every draft an id (its own, or its content id) and makes ids unique across the list. */
export const assignIds = (drafts: ReadonlyArray<DraftRecord>): Array<DataRecord> => {
  const seen = new Set<string>()
  const out: Array<DataRecord> = []
  for (const draft of drafts) {
    const base = draft.id ?? contentId(draft.task, draft.prompt, draft.completion)
    let id = base
    for (let n = 2; seen.has(id); n++) id = `${base}~${n}`
    seen.add(id)
    out.push(withId(draft, id))
  }
  return out
}

/** Builds a record with the canonical key order, so serialised output is byte-stable. */
export const withId = (draft: DraftRecord, id: string): DataRecord => {
  const record: { -readonly [K in keyof DataRecord]: DataRecord[K] } = {
    id,
    task: draft.task,
    prompt: draft.prompt,
    completion: draft.completion,
    source: draft.source
  }
  if (draft.meta !== undefined && Object.keys(draft.meta).length > 0) record.meta = draft.meta
  return record
}

/** Joins an instruction and its optional input the way alpaca-style data is usually rendered. */
export const instructionPrompt = (instruction: string, input: string | undefined): string =>
  input !== undefined && input.trim() !== "" ? `${instruction}\n\n${input}` : instruction
