/**
 * The live terminal view of a watch session: a block redrawn in place with the watcher's state,
 * what triggered the last rerun, and one row per stage (state, last result, latest output line),
 * followed by the tail of failed stages' logs and any pipeline error.
 */
import { Effect } from "effect"
import type { RunEvent } from "../../core/RunEvent.js"
import type { WatchEvent, WatchState } from "../WatchEvent.js"

type RowStatus = "idle" | "queued" | "waiting" | "running" | "ok" | "failed" | "interrupted" | "skipped"

interface Row {
  status: RowStatus
  result: string
  detail: string
  start: number
  tail: ReadonlyArray<string>
}

const FAILURE_TAIL_LINES = 3
const MAX_NOTES = 4

const green = (s: string) => `\x1b[32m${s}\x1b[0m`
const red = (s: string) => `\x1b[31m${s}\x1b[0m`
const yellow = (s: string) => `\x1b[33m${s}\x1b[0m`
const cyan = (s: string) => `\x1b[36m${s}\x1b[0m`
const dim = (s: string) => `\x1b[2m${s}\x1b[0m`

const duration = (ms: number) => ms < 1000 ? `${Math.round(ms)}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
const clock = (t: number) => new Date(t).toTimeString().slice(0, 8)
const list = (names: ReadonlyArray<string>, max = 6) =>
  names.length === 0 ? "nothing" : names.slice(0, max).join(", ") + (names.length > max ? ` +${names.length - max}` : "")

/** Cuts a line to `width` visible characters; escape sequences pass through uncounted. */
const fit = (line: string, width: number): string => {
  let visible = 0
  let outText = ""
  for (let i = 0; i < line.length; i++) {
    if (line[i] === "\x1b") {
      const end = line.indexOf("m", i)
      if (end > 0) {
        outText += line.slice(i, end + 1)
        i = end
        continue
      }
    }
    if (visible === width) return outText + "\x1b[0m"
    outText += line[i]
    visible++
  }
  return outText
}

const GLYPH: Record<RowStatus, string> = {
  idle: dim("·"),
  queued: cyan("◦"),
  waiting: yellow("…"),
  running: cyan("▶"),
  ok: green("✓"),
  failed: red("✗"),
  interrupted: yellow("■"),
  skipped: dim("-")
}

export const makeTtyView = (out: NodeJS.WriteStream) => {
  let state: WatchState | "starting" | "stopped" = "starting"
  let header = ""
  let trigger = ""
  let invalid: string | undefined
  let order: ReadonlyArray<string> = []
  const rows = new Map<string, Row>()
  const notes: Array<string> = []
  let drawn = 0
  let pending: NodeJS.Timeout | undefined

  const row = (stage: string): Row => {
    let r = rows.get(stage)
    if (r === undefined) {
      r = { status: "idle", result: "", detail: "", start: 0, tail: [] }
      rows.set(stage, r)
    }
    return r
  }
  const note = (line: string) => {
    notes.push(line)
    if (notes.length > MAX_NOTES) notes.shift()
  }

  const render = (): Array<string> => {
    const now = Date.now()
    const stateText = state === "running" || state === "queued" ? cyan(state) : state === "stopped" ? yellow(state) : state
    const lines = [`cairn watch ${dim("·")} ${stateText} ${dim(`· ${header}${state === "stopped" ? "" : " · Ctrl-C stops"}`)}`]
    if (trigger !== "") lines.push(dim(trigger))
    const width = Math.max(...order.map((s) => s.length), 4)
    for (const name of order) {
      const r = row(name)
      const what = r.status === "running"
        ? `running ${duration(now - r.start)}`
        : r.status === "queued"
        ? "queued"
        : r.status === "waiting"
        ? r.detail
        : r.result
      const detail = r.status === "running" && r.detail !== "" ? dim(` │ ${r.detail}`) : ""
      lines.push(`  ${GLYPH[r.status]} ${name.padEnd(width)}  ${r.status === "failed" ? red(what) : what}${detail}`)
    }
    for (const name of order) {
      const r = row(name)
      if (r.status === "failed") for (const l of r.tail) lines.push(dim(`    ${name} ! `) + l)
    }
    if (invalid !== undefined) {
      for (const l of invalid.split("\n")) lines.push(red(`  ! ${l}`))
      lines.push(dim("    still watching the last valid pipeline"))
    }
    for (const n of notes) lines.push(dim(`  ${n}`))
    return lines
  }

  const draw = () => {
    pending = undefined
    // A pseudo-terminal that never had its size set reports 0 columns and rows.
    const width = Math.max(20, (out.columns || 100) - 1)
    const height = Math.max(4, (out.rows || 40) - 1)
    const lines = render().slice(0, height).map((l) => fit(l, width))
    // Back to the top of the previous frame, clear it, draw the new one.
    out.write(`${drawn > 0 ? `\x1b[${drawn}F` : ""}\x1b[J${lines.join("\n")}\n`)
    drawn = lines.length
  }
  const schedule = () => {
    pending ??= setTimeout(draw, 30)
  }
  // Running stages show elapsed time; nothing else needs a clock.
  const ticker = setInterval(() => {
    if ([...rows.values()].some((r) => r.status === "running")) schedule()
  }, 250)
  ticker.unref()

  const onRun = (e: RunEvent) => {
    switch (e._tag) {
      case "Fresh": {
        const r = row(e.stage)
        // A stage checked on the way (an upstream) keeps showing its last result.
        if (r.status !== "ok" || r.result === "") r.result = "fresh"
        r.status = "ok"
        return
      }
      case "Restored":
        return void Object.assign(row(e.stage), { status: "ok", result: "restored from cache" })
      case "Waiting":
        return void Object.assign(row(e.stage), { status: "waiting", detail: `waiting for ${e.holder}` })
      case "Started":
        return void Object.assign(row(e.stage), { status: "running", start: Date.now(), detail: e.reason, tail: [] })
      case "Output":
        return void (row(e.stage).detail = e.line)
      case "Progress": {
        const step = e.step !== undefined ? `step ${e.step}${e.total !== undefined ? `/${e.total}` : ""}` : ""
        const metrics = Object.entries(e.metrics ?? {}).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`).join(" ")
        return void (row(e.stage).detail = [step, metrics, e.message ?? ""].filter((s) => s !== "").join(" "))
      }
      case "Succeeded":
        return void Object.assign(row(e.stage), { status: "ok", result: `ran ${duration(e.durationMs)}${e.cached ? "" : " (not cached)"}` })
      case "Failed":
        return void Object.assign(row(e.stage), { status: "failed", result: `failed: ${e.reason}`, tail: e.logTail.slice(-FAILURE_TAIL_LINES) })
      case "Skipped": {
        const r = row(e.stage)
        // A failed stage held back keeps showing its failure and log tail.
        if (r.status !== "failed") Object.assign(r, { status: "skipped", result: `skipped: ${e.reason}` })
        return
      }
      case "Interrupted":
        return void Object.assign(row(e.stage), { status: "interrupted", result: "interrupted" })
      case "Warning":
        return note(`warning: ${e.stage !== undefined ? `${e.stage}: ` : ""}${e.message}`)
      default:
        return
    }
  }

  const onWatch = (e: WatchEvent) => {
    switch (e._tag) {
      case "WatchStarted":
        order = e.stages
        header = `${e.pipeline} · ${e.paths} path(s) · debounce ${e.debounceMs}ms`
        return
      case "WatchState":
        state = e.state
        return
      case "WatchTriggered":
        trigger = `${clock(Date.now())} changed ${list(e.paths, 3)} → ${list(e.stages)}${e.interrupting.length > 0 ? ` (interrupting ${list(e.interrupting)})` : ""}`
        for (const s of e.stages) {
          const r = row(s)
          if (r.status !== "running") r.status = "queued"
        }
        return
      case "WatchReloaded":
        invalid = undefined
        order = e.stages
        for (const s of e.removed) rows.delete(s)
        header = header.replace(/\d+ path\(s\)/, `${e.paths} path(s)`)
        trigger = e.added.length + e.changed.length + e.removed.length === 0
          ? `${clock(Date.now())} reloaded ${e.file}: no stage changed`
          : `${clock(Date.now())} reloaded ${e.file}: added ${list(e.added)}; changed ${list(e.changed)}; removed ${list(e.removed)}`
        return
      case "WatchInvalid":
        invalid = e.message
        return
      case "WatchWarning":
        return note(`warning: ${e.message}`)
      case "WatchStopped":
        state = "stopped"
        return
    }
  }

  return {
    run: (_run: number, e: RunEvent) =>
      Effect.sync(() => {
        onRun(e)
        schedule()
      }),
    watch: (e: WatchEvent) =>
      Effect.sync(() => {
        onWatch(e)
        schedule()
      }),
    note: (line: string) =>
      Effect.sync(() => {
        note(line)
        schedule()
      }),
    close: Effect.sync(() => {
      clearInterval(ticker)
      if (pending !== undefined) clearTimeout(pending)
      draw()
    })
  }
}
