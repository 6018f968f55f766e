/**
 * Record counts per task (and optionally per another column such as the split), the tables the
 * data stages put in their reports. Built with arquero's groupby/count so the cross-tab and its
 * ordering come from one declarative expression.
 */
import type { DataRecord } from "./DataRecord.js"

/** `{task: count}` with tasks sorted. */
export const countByTask = async (records: ReadonlyArray<DataRecord>): Promise<Record<string, number>> => {
  const aq = await import("arquero")
  if (records.length === 0) return {}
  const rows = aq
    .table({ task: records.map((r) => r.task) })
    .groupby("task")
    .count({ as: "n" })
    .orderby("task")
    .objects() as Array<{ task: string; n: number }>
  return Object.fromEntries(rows.map((r) => [r.task, r.n]))
}

/** `{task: {column value: count}}`, e.g. records per task per split, every cell filled (0 if none). */
export const crossTab = async <C extends string>(
  records: ReadonlyArray<DataRecord>,
  labels: ReadonlyArray<C>,
  columns: ReadonlyArray<C>
): Promise<Record<string, Record<C, number>>> => {
  const aq = await import("arquero")
  if (records.length === 0) return {}
  const rows = aq
    .table({ task: records.map((r) => r.task), label: [...labels] })
    .groupby("task", "label")
    .count({ as: "n" })
    .groupby("task")
    .pivot("label", "n")
    .orderby("task")
    .objects() as Array<Record<string, string | number | undefined>>
  return Object.fromEntries(rows.map((row) => [
    String(row["task"]),
    Object.fromEntries(columns.map((c) => [c, Number(row[c] ?? 0)])) as Record<C, number>
  ]))
}
