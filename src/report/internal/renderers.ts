import { Effect } from "effect"
import type { RunEvent } from "../../core/RunEvent.js"
import { formatDuration as seconds } from "../Duration.js"

const metricsText = (m: Readonly<Record<string, number>> | undefined) =>
  m === undefined ? "" : Object.entries(m).map(([k, v]) => `${k}=${Number.isInteger(v) ? v : v.toPrecision(4)}`).join(" ")

/** One line per event, stable wording, no escape codes: for CI logs and pipes. */
const plainLine = (e: RunEvent): ReadonlyArray<string> => {
  switch (e._tag) {
    case "Planned":
      return []
    case "Fresh":
      return [`fresh     ${e.stage}`]
    case "Restored":
      return [`restored  ${e.stage} (from cache)`, ...(e.log === "" ? [] : e.log.replace(/\n$/, "").split("\n").map((l) => `  ${e.stage} | ${l}`))]
    case "Waiting":
      return [`waiting   ${e.stage}: locked by ${e.holder}`]
    case "Started":
      return [`running   ${e.stage} (${e.reason})`]
    case "Output":
      return [`  ${e.stage} | ${e.line}`]
    case "Progress":
      return [`progress  ${e.stage} ${e.step !== undefined ? `step ${e.step}${e.total !== undefined ? `/${e.total}` : ""} ` : ""}${metricsText(e.metrics)}${e.message ?? ""}`.trimEnd()]
    case "Succeeded":
      return [`ran       ${e.stage} in ${seconds(e.durationMs)}${e.cached ? "" : " (not cached)"}`]
    case "Failed":
      return [`FAILED    ${e.stage}: ${e.reason}`, ...e.logTail.map((l) => `  ${e.stage} ! ${l}`)]
    case "Skipped":
      return [`skipped   ${e.stage}: ${e.reason}`]
    case "Interrupted":
      return [`stopped   ${e.stage} (interrupted; partial outputs discarded)`]
    case "Warning":
      return [`warning   ${e.stage !== undefined ? `${e.stage}: ` : ""}${e.message}`]
    case "WouldRun":
      return [`would run ${e.stage} (${e.reason})`]
    case "Finished": {
      const parts = Object.entries(e.counts).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`)
      return [`${e.ok ? "done" : "failed"} in ${seconds(e.durationMs)}: ${parts.join(", ") || "nothing to do"}`]
    }
  }
}

export const makePlainReporter = (out: NodeJS.WritableStream) => ({
  emit: (e: RunEvent) =>
    Effect.sync(() => {
      const lines = plainLine(e)
      if (lines.length > 0) out.write(lines.join("\n") + "\n")
    }),
  note: (line: string) => Effect.sync(() => void out.write(line + "\n")),
  close: Effect.void
})

export const makeJsonReporter = (out: NodeJS.WritableStream) => ({
  emit: (e: RunEvent) => Effect.sync(() => void out.write(JSON.stringify(e) + "\n")),
  note: (line: string) => Effect.sync(() => void out.write(JSON.stringify({ _tag: "Note", message: line }) + "\n")),
  close: Effect.void
})

/**
 * A live view: finished stages scroll above; the bottom line shows what is running, with a
 * progress bar and ETA for stages that report steps, and how many stages are done.
 */
export const makeTtyReporter = (out: NodeJS.WriteStream) => {
  const running = new Map<string, { start: number; step?: number; total?: number; metrics?: Readonly<Record<string, number>> }>()
  let total = 0
  let done = 0
  let live = false
  let timer: NodeJS.Timeout | undefined
  const green = (s: string) => `\x1b[32m${s}\x1b[0m`
  const red = (s: string) => `\x1b[31m${s}\x1b[0m`
  const dim = (s: string) => `\x1b[2m${s}\x1b[0m`
  const clear = () => {
    if (live) out.write("\r\x1b[K")
    live = false
  }
  const bar = (step: number, totalSteps: number) => {
    const width = 20
    const filled = Math.min(width, Math.round((step / Math.max(1, totalSteps)) * width))
    return `[${"#".repeat(filled)}${"-".repeat(width - filled)}]`
  }
  const drawLive = () => {
    clear()
    if (running.size === 0) return
    const now = Date.now()
    const parts = [...running].slice(0, 3).map(([name, r]) => {
      if (r.step !== undefined && r.total !== undefined && r.step > 0) {
        const elapsed = now - r.start
        const eta = (elapsed / r.step) * (r.total - r.step)
        return `${name} ${bar(r.step, r.total)} ${r.step}/${r.total} ETA ${seconds(eta)} ${metricsText(r.metrics)}`
      }
      return `${name} ${seconds(now - r.start)}`
    })
    const more = running.size > 3 ? ` +${running.size - 3}` : ""
    // Truncated before colouring, so escape codes never count against the width or get cut.
    const width = (out.columns !== undefined && out.columns > 0 ? out.columns : 120) - 1
    const counter = `[${done}/${total}]`
    const body = ` ${parts.join(" | ")}${more}`.slice(0, Math.max(0, width - counter.length))
    out.write(dim(counter) + body)
    live = true
  }
  const print = (line: string) => {
    clear()
    out.write(line + "\n")
    drawLive()
  }
  return {
    emit: (e: RunEvent) =>
      Effect.sync(() => {
        switch (e._tag) {
          case "Planned":
            total = e.stages.length
            timer ??= setInterval(drawLive, 250)
            timer.unref()
            return
          case "Started":
            running.set(e.stage, { start: Date.now() })
            return print(`${dim("▶")} ${e.stage} ${dim(e.reason)}`)
          case "Progress": {
            const r = running.get(e.stage)
            if (r) Object.assign(r, { step: e.step, total: e.total, metrics: e.metrics })
            return drawLive()
          }
          case "Output":
            return print(dim(`  ${e.stage} | `) + e.line)
          case "Fresh":
            done++
            return print(`${green("✓")} ${e.stage} ${dim("fresh")}`)
          case "Restored":
            done++
            return print(`${green("✓")} ${e.stage} ${dim("cached (restored)")}`)
          case "Succeeded":
            done++
            running.delete(e.stage)
            return print(`${green("✓")} ${e.stage} ${dim(`ran ${seconds(e.durationMs)}`)}`)
          case "Failed":
            done++
            running.delete(e.stage)
            return print([`${red("✗")} ${e.stage} ${red(`failed: ${e.reason}`)}`, ...e.logTail.map((l) => dim(`  ${e.stage} ! `) + l)].join("\n"))
          case "Interrupted":
            running.delete(e.stage)
            return print(`${red("■")} ${e.stage} interrupted`)
          case "Finished":
            if (timer) clearInterval(timer)
            return print(plainLine(e).join("\n"))
          default:
            return print(plainLine(e).join("\n"))
        }
      }),
    note: (line: string) => Effect.sync(() => print(line)),
    close: Effect.sync(() => {
      if (timer) clearInterval(timer)
      clear()
    })
  }
}
