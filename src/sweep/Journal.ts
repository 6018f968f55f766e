/**
 * The trial journal: an append-only JSONL file that makes a sweep resumable.
 *
 * Each state change of a trial is one line, written with O_APPEND in a single write and then
 * fsynced, so concurrent writers never interleave within a line and a line that returned is on
 * disk. A process killed mid-write leaves at most a truncated last line: readers skip it, and
 * the next append first ends it with a newline so the new event starts on a line of its own.
 * Folding the events in order gives each trial's state; `finished` is final.
 *
 * Default location: `<workspace>/.cairn/sweeps/<sweep>/journal.jsonl`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Data } from "effect"
import type { TrialParamValues } from "./Search.js"

export type TrialStatus = "pending" | "running" | "finished" | "failed" | "stopped"

export const TRIAL_STATUSES: ReadonlyArray<TrialStatus> = ["pending", "running", "finished", "failed", "stopped"]

export interface TrialEvent {
  readonly type: "trial"
  readonly id: string
  readonly params: TrialParamValues
  readonly status: TrialStatus
  /** ISO time at which a running trial last proved it is alive; `at` stands in when absent. */
  readonly heartbeat?: string
  /** Every metric the trial reported (dotted `stage.metric` names). */
  readonly metrics?: Readonly<Record<string, number>>
  /** The sweep's objective metric, copied out of `metrics` for ranking. */
  readonly metric?: number
  /** Stage key of the trial's last stage, to find its outputs in the store. */
  readonly key?: string
  /** Why a trial failed or was stopped early. */
  readonly reason?: string
  readonly durationMs?: number
  /** The `--shard i/n` that ran it, if any. */
  readonly shard?: string
  /** ISO time the event was written. */
  readonly at: string
}

export interface TrialState {
  readonly id: string
  readonly params: TrialParamValues
  readonly status: TrialStatus
  readonly metric?: number
  readonly metrics?: Readonly<Record<string, number>>
  readonly key?: string
  readonly reason?: string
  readonly durationMs?: number
  readonly shard?: string
  /** Latest proof of life while running: the event's heartbeat, else its time. */
  readonly heartbeat?: string
  readonly updatedAt: string
}

export class JournalError extends Data.TaggedError("JournalError")<{
  readonly path: string
  readonly line?: number
  readonly message: string
  readonly cause?: unknown
}> {}

export const journalPath = (workspace: string, sweep: string): string =>
  path.join(workspace, ".cairn", "sweeps", sweep, "journal.jsonl")

/**
 * Append one event and fsync it. Creates the file (and its directory) when missing.
 * Throws {@link JournalError} on I/O failure.
 */
export const appendJournal = (file: string, event: TrialEvent): void => {
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true })
    // Read-write only so a torn last byte can be checked; O_APPEND still puts every write at the end.
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o644)
    try {
      const line = JSON.stringify(event) + "\n"
      // Finish a line torn by a crash, so this event is not glued onto the fragment.
      fs.writeSync(fd, endsTorn(fd) ? "\n" + line : line)
      fs.fsyncSync(fd)
    } finally {
      fs.closeSync(fd)
    }
  } catch (cause) {
    throw new JournalError({ path: file, message: `cannot append to journal ${file}: ${String(cause)}`, cause })
  }
}

/**
 * Does the file end mid-line? A concurrent writer caught mid-write can make this true
 * spuriously; the extra newline then only adds a blank line, which readers skip.
 */
const endsTorn = (fd: number): boolean => {
  const size = fs.fstatSync(fd).size
  if (size === 0) return false
  const last = Buffer.alloc(1)
  fs.readSync(fd, last, 0, 1, size - 1)
  return last[0] !== 0x0a
}

export interface JournalRead {
  readonly events: ReadonlyArray<TrialEvent>
  /** Line numbers (1-based) of torn writes that were skipped. */
  readonly torn: ReadonlyArray<number>
}

/**
 * Read every event. A missing file is an empty journal. Lines that are not JSON are torn writes
 * from a killed process and are skipped (reported in `torn`); a JSON line that is not a trial
 * event means the file is something else or was damaged, and throws {@link JournalError}.
 * Events of other `type`s are ignored, so newer writers can add kinds without breaking readers.
 */
export const readJournalDetailed = (file: string): JournalRead => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "ENOENT") return { events: [], torn: [] }
    throw new JournalError({ path: file, message: `cannot read journal ${file}: ${String(cause)}`, cause })
  }
  return parseJournal(text, file)
}

export const readJournal = (file: string): ReadonlyArray<TrialEvent> => readJournalDetailed(file).events

export const parseJournal = (text: string, file = "<journal>"): JournalRead => {
  const events: Array<TrialEvent> = []
  const torn: Array<number> = []
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return
    let value: unknown
    try {
      value = JSON.parse(line)
    } catch {
      torn.push(i + 1)
      return
    }
    if (typeof value === "object" && value !== null && (value as { type?: unknown }).type !== "trial") return
    const problem = eventProblem(value)
    if (problem) throw new JournalError({ path: file, line: i + 1, message: `${file}:${i + 1}: ${problem}` })
    events.push(value as TrialEvent)
  })
  return { events, torn }
}

const eventProblem = (u: unknown): string | undefined => {
  if (typeof u !== "object" || u === null || Array.isArray(u)) return "not a journal event"
  const e = u as Record<string, unknown>
  if (typeof e["id"] !== "string" || e["id"] === "") return "event without an id"
  if (!TRIAL_STATUSES.includes(e["status"] as TrialStatus)) return `unknown status ${JSON.stringify(e["status"])}`
  if (typeof e["params"] !== "object" || e["params"] === null || Array.isArray(e["params"])) {
    return "event without params"
  }
  if (typeof e["at"] !== "string") return "event without a time (at)"
  if (e["metric"] !== undefined && typeof e["metric"] !== "number") return "metric must be a number"
  return undefined
}

/**
 * Each trial's state after the events in order: the last event wins, except that nothing
 * moves a trial out of `finished` (a late heartbeat from a slow writer must not reopen it).
 * Optional fields carry over from earlier events unless overwritten; `reason` belongs to the
 * event that set the status.
 */
export const foldJournal = (events: ReadonlyArray<TrialEvent>): ReadonlyMap<string, TrialState> => {
  const states = new Map<string, TrialState>()
  for (const e of events) {
    const prev = states.get(e.id)
    if (prev?.status === "finished" && e.status !== "finished") continue
    const next: { -readonly [K in keyof TrialState]: TrialState[K] } = {
      ...prev,
      id: e.id,
      params: e.params,
      status: e.status,
      updatedAt: e.at
    }
    delete next.reason
    if (e.reason !== undefined) next.reason = e.reason
    if (e.metric !== undefined) next.metric = e.metric
    if (e.metrics !== undefined) next.metrics = e.metrics
    if (e.key !== undefined) next.key = e.key
    if (e.durationMs !== undefined) next.durationMs = e.durationMs
    if (e.shard !== undefined) next.shard = e.shard
    if (e.status === "running") next.heartbeat = e.heartbeat ?? e.at
    states.set(e.id, next)
  }
  return states
}
