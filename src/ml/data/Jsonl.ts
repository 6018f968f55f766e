/**
 * Canonical JSONL on disk: one record per line, keys in canonical order, `\n` line ends.
 *
 * Writes go to a sibling temp file that is renamed into place, so a stage interrupted mid-write
 * never leaves a truncated dataset where the next stage (or the cache) would pick it up.
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { assignIds, type DataRecord, withId } from "./DataRecord.js"
import { DataReadFailed, DatasetInvalid } from "./DataErrors.js"
import { parseJsonLines } from "./JsonRows.js"
import { convertRows } from "./readers/ReadResult.js"
import { convertPromptCompletion } from "./readers/PromptCompletion.js"

/** Lines are flushed in batches of this many to bound the size of any one string. */
const BATCH = 2000

export const writeJsonl = async (file: string, records: Iterable<DataRecord>): Promise<void> => {
  await fs.mkdir(path.dirname(file), { recursive: true })
  const tmp = `${file}.tmp-${process.pid}`
  const handle = await fs.open(tmp, "w")
  try {
    let batch: Array<string> = []
    for (const r of records) {
      batch.push(JSON.stringify(withId(r, r.id)))
      if (batch.length >= BATCH) {
        await handle.write(batch.join("\n") + "\n")
        batch = []
      }
    }
    if (batch.length > 0) await handle.write(batch.join("\n") + "\n")
    await handle.close()
  } catch (error) {
    await handle.close().catch(() => undefined)
    await fs.rm(tmp, { force: true })
    throw error
  }
  await fs.rename(tmp, file)
}

/** Reads canonical (or plain prompt/completion) JSONL; any bad line rejects with `DatasetInvalid`. */
export const readJsonl = async (file: string): Promise<Array<DataRecord>> => {
  const text = await fs.readFile(file, "utf8").catch((error: NodeJS.ErrnoException) => {
    throw new DataReadFailed({ path: file, reason: error.code === "ENOENT" ? "no such file" : error.message })
  })
  return readCanonical(text) ?? readGeneral(file, text)
}

/**
 * The fast path for what the stages write: every line a complete canonical record with a unique
 * id. Stages read 100k-record files several times in a pipeline, and the general reader's
 * per-field bookkeeping costs more than parsing; anything unusual falls back to it.
 */
const readCanonical = (text: string): Array<DataRecord> | undefined => {
  const records: Array<DataRecord> = []
  const ids = new Set<string>()
  for (const line of text.split("\n")) {
    if (line === "") continue
    let v: Record<string, unknown>
    try {
      v = JSON.parse(line)
    } catch {
      return undefined
    }
    if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined
    const { id, task, prompt, completion, source, meta } = v
    if (typeof id !== "string" || id === "" || ids.has(id) || typeof task !== "string" || task === "" || typeof source !== "string" || source === "") return undefined
    if (typeof prompt !== "string" || prompt.trim() === "" || typeof completion !== "string" || completion.trim() === "") return undefined
    if (meta !== undefined && (typeof meta !== "object" || meta === null || Array.isArray(meta))) return undefined
    ids.add(id)
    records.push(withId({ task, prompt, completion, source, ...(meta !== undefined ? { meta: meta as DataRecord["meta"] & object } : {}) }, id))
  }
  return records
}

const readGeneral = (file: string, text: string): Array<DataRecord> => {
  const parsed = parseJsonLines(file, text)
  const result = convertRows(file, parsed.rows, parsed.invalid, convertPromptCompletion)
  if (result.invalid.length > 0) throw new DatasetInvalid({ path: file, invalid: result.invalid })
  return assignIds(result.drafts)
}

/** Serialises records exactly as `writeJsonl` does, for hashing or comparing in memory. */
export const toJsonl = (records: Iterable<DataRecord>): string => {
  let out = ""
  for (const r of records) out += JSON.stringify(withId(r, r.id)) + "\n"
  return out
}
