/**
 * Renders RunEvents. The executor publishes events and knows nothing of terminals; a reporter
 * renders them as a live TTY view, as plain lines (CI logs), or as JSON lines (`--json`).
 */
import { Context, Effect, Layer } from "effect"
import type { RunEvent } from "../core/RunEvent.js"
import { makeJsonReporter, makePlainReporter, makeTtyReporter } from "./internal/renderers.js"

export interface ReporterShape {
  readonly emit: (event: RunEvent) => Effect.Effect<void>
  /** Prints a line that is not a stage event (waiting notices, summaries). */
  readonly note: (line: string) => Effect.Effect<void>
  /** Clears any live line before the process prints something else or exits. */
  readonly close: Effect.Effect<void>
}

export class Reporter extends Context.Service<Reporter, ReporterShape>()("cairn/Reporter") {
  static readonly layerPlain = (out: NodeJS.WritableStream = process.stdout) =>
    Layer.succeed(Reporter, Reporter.of(makePlainReporter(out)))
  static readonly layerTty = (out: NodeJS.WriteStream = process.stdout) =>
    Layer.succeed(Reporter, Reporter.of(makeTtyReporter(out)))
  static readonly layerJson = (out: NodeJS.WritableStream = process.stdout) =>
    Layer.succeed(Reporter, Reporter.of(makeJsonReporter(out)))
  /** Collects events in memory (tests). */
  static readonly layerMemory = (sink: Array<RunEvent>) =>
    Layer.succeed(Reporter, Reporter.of({
      emit: (e) => Effect.sync(() => void sink.push(e)),
      note: () => Effect.void,
      close: Effect.void
    }))
  /** TTY view when stdout is a terminal, plain lines otherwise; JSON lines on request. */
  static readonly layerAuto = (json: boolean) =>
    json ? Reporter.layerJson() : process.stdout.isTTY && process.env.CI === undefined ? Reporter.layerTty() : Reporter.layerPlain()
}
