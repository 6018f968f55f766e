/**
 * `cairn sweep collect`: merge the journals of sharded jobs into one.
 *
 * Sources are journal files or workspace directories (their `.cairn/sweeps/<sweep>/journal.jsonl`,
 * or a `journal.jsonl` directly inside). The target's own events take part in the merge, events
 * identical to one already kept are dropped, and the result is ordered by time (ties keep
 * source order), then written atomically. So collecting twice, or collecting a source that was
 * already merged, gives the same file byte for byte.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Data } from "effect"
import { canonicalJson } from "./internal/CanonicalJson.js"
import { foldJournal, journalPath, JournalError, readJournal, type TrialEvent } from "./Journal.js"
import { plannedTrials, startupCount } from "./Search.js"
import type { SweepSpec } from "./SweepSpec.js"

export class CollectError extends Data.TaggedError("CollectError")<{
  readonly source: string
  readonly message: string
}> {}

export interface CollectResult {
  /** The merged journal. */
  readonly journal: string
  /** The journal files that were read. */
  readonly sources: ReadonlyArray<string>
  /** Source directories that hold no journal for the sweep (shards with nothing to run). */
  readonly empty: ReadonlyArray<string>
  /** Events in the merged journal. */
  readonly events: number
  /** Events that were not in the target before. */
  readonly added: number
  /** Identical events seen more than once and kept once. */
  readonly duplicates: number
  readonly trials: number
  /** Bayes: sequential (TPE) trials not yet run; they need one unsharded job. */
  readonly sequentialPending: number
  /** A sentence for the user when something remains to be done. */
  readonly note?: string
}

/**
 * Where the journal of `sweep` is inside `source` (a file, or a workspace directory).
 * A directory without one gives undefined: a shard whose share was empty never wrote a journal.
 */
export const resolveJournal = (source: string, sweep: string): string | undefined => {
  let stat: fs.Stats
  try {
    stat = fs.statSync(source)
  } catch {
    throw new CollectError({ source, message: `${source}: no such journal file or directory` })
  }
  if (!stat.isDirectory()) return source
  return [journalPath(source, sweep), path.join(source, "journal.jsonl")].find((f) => fs.existsSync(f))
}

/** Merge event lists: first occurrence of each distinct event, stably ordered by time. */
export const mergeEvents = (
  lists: ReadonlyArray<ReadonlyArray<TrialEvent>>
): { readonly events: ReadonlyArray<TrialEvent>; readonly duplicates: number } => {
  const seen = new Set<string>()
  const kept: Array<{ e: TrialEvent; t: number; i: number }> = []
  let duplicates = 0
  for (const list of lists) {
    for (const e of list) {
      const k = canonicalJson(e)
      if (seen.has(k)) {
        duplicates++
        continue
      }
      seen.add(k)
      const t = Date.parse(e.at)
      kept.push({ e, t: Number.isNaN(t) ? 0 : t, i: kept.length })
    }
  }
  kept.sort((a, b) => a.t - b.t || a.i - b.i)
  return { events: kept.map((k) => k.e), duplicates }
}

/**
 * Merge the journals of `sources` into `target` (usually the workspace's own journal).
 * Throws {@link CollectError} for a missing source and {@link JournalError} for unreadable ones.
 */
export const collectJournals = (
  sources: ReadonlyArray<string>,
  target: string,
  spec: SweepSpec
): CollectResult => {
  const resolved = sources.map((s) => ({ source: s, file: resolveJournal(s, spec.name) }))
  const files = resolved.flatMap((r) => (r.file === undefined ? [] : [r.file]))
  const before = readJournal(target)
  const beforeKeys = new Set(before.map(canonicalJson))
  const lists = [before, ...files.filter((f) => path.resolve(f) !== path.resolve(target)).map(readJournal)]
  const { events, duplicates } = mergeEvents(lists)
  writeAtomically(target, events.map((e) => JSON.stringify(e) + "\n").join(""))

  const state = foldJournal(events)
  let sequentialPending = 0
  if (spec.method === "bayes") {
    const startupIds = new Set(plannedTrials(spec).map((t) => t.id))
    const sequentialKnown = [...state.keys()].filter((id) => !startupIds.has(id)).length
    sequentialPending = Math.max(0, (spec.runCap ?? 0) - startupCount(spec) - sequentialKnown)
  }
  return {
    journal: target,
    sources: files,
    empty: resolved.flatMap((r) => (r.file === undefined ? [r.source] : [])),
    events: events.length,
    added: events.filter((e) => !beforeKeys.has(canonicalJson(e))).length,
    duplicates,
    trials: state.size,
    sequentialPending,
    ...(sequentialPending > 0
      ? {
        note: `bayes sweep ${spec.name}: ${sequentialPending} sequential trial(s) remain; ` +
          `they depend on each other's results, so run \`cairn sweep ${spec.name}\` once without --shard`
      }
      : {})
  }
}

const writeAtomically = (file: string, text: string): void => {
  const tmp = `${file}.${process.pid}.tmp`
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    const fd = fs.openSync(tmp, "w", 0o644)
    try {
      fs.writeFileSync(fd, text)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
    fs.renameSync(tmp, file)
  } catch (cause) {
    fs.rmSync(tmp, { force: true })
    throw new JournalError({ path: file, message: `cannot write merged journal ${file}: ${String(cause)}`, cause })
  }
}
