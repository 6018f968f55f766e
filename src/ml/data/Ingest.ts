/**
 * The ingest stage's logic: read one or more sources in any supported format into one canonical
 * JSONL file.
 *
 * `source` fields hold the path as the pipeline wrote it (plus the file inside a directory), not
 * the resolved one, so the output (and therefore the cache key of everything downstream) does
 * not depend on where the workspace is checked out.
 * Ids stay content ids; the same record in two sources gets an occurrence suffix in the second.
 */
import * as path from "node:path"
import { assignIds, type DataRecord } from "./DataRecord.js"
import { formatInvalid } from "./DataErrors.js"
import type { FormatOption } from "./DataFormat.js"
import { type OnInvalid, readDataset } from "./Dataset.js"
import { writeJsonl } from "./Jsonl.js"
import { writeJsonFile } from "./JsonFile.js"
import { countByTask } from "./TaskCounts.js"

export interface IngestSource {
  readonly path: string
  readonly format: FormatOption
  /** Replaces the task of every record of this source. */
  readonly task?: string | undefined
}

export interface IngestReport {
  readonly records: number
  readonly skipped: number
  readonly sources: ReadonlyArray<{
    readonly path: string
    readonly format: string
    readonly records: number
    readonly skipped: number
    /** The first problems found, as `file:line: field: reason`. */
    readonly invalid: ReadonlyArray<string>
  }>
  readonly byTask: Readonly<Record<string, number>>
}

const INVALID_LISTED = 20

export const ingestFiles = async (
  sources: ReadonlyArray<IngestSource>,
  files: { readonly out: string; readonly report?: string | undefined },
  onInvalid: OnInvalid,
  workspace: string
): Promise<IngestReport> => {
  const all: Array<DataRecord> = []
  const perSource: Array<IngestReport["sources"][number]> = []
  for (const source of sources) {
    const dataset = await readDataset(path.resolve(workspace, source.path), { format: source.format, onInvalid, sourceAs: source.path })
    for (const r of dataset.records) all.push(source.task !== undefined ? { ...r, task: source.task } : r)
    perSource.push({
      path: source.path,
      format: dataset.format,
      records: dataset.records.length,
      skipped: dataset.skipped,
      invalid: dataset.invalid.slice(0, INVALID_LISTED).map(formatInvalid)
    })
  }
  const records = assignIds(all)
  await writeJsonl(files.out, records)
  const report: IngestReport = {
    records: records.length,
    skipped: perSource.reduce((n, s) => n + s.skipped, 0),
    sources: perSource,
    byTask: await countByTask(records)
  }
  if (files.report !== undefined) await writeJsonFile(files.report, report)
  return report
}
