/**
 * Renders a watch session: the RunEvents of every run it starts and its own WatchEvents. A live
 * view redraws in place on a terminal; plain lines serve CI logs and pipes; `--json` streams one
 * event per line for editors, each RunEvent tagged with the number of the run it belongs to.
 */
import { Context, Effect, Layer } from "effect"
import type { RunEvent } from "../core/RunEvent.js"
import { Reporter } from "../report/Reporter.js"
import type { WatchEvent } from "./WatchEvent.js"
import { makeTtyView } from "./internal/TtyView.js"
import { watchLines } from "./internal/WatchLines.js"

export interface WatchViewShape {
  /** An event of run number `run` (runs are numbered from 1 in the order they start). */
  readonly run: (run: number, event: RunEvent) => Effect.Effect<void>
  readonly watch: (event: WatchEvent) => Effect.Effect<void>
  /** A line that is neither (a lock wait notice). */
  readonly note: (line: string) => Effect.Effect<void>
  /** Leaves the terminal as it was found. */
  readonly close: Effect.Effect<void>
}

/** What the memory view records. */
export type WatchViewEntry = WatchEvent | (RunEvent & { readonly run: number })

export class WatchView extends Context.Service<WatchView, WatchViewShape>()("cairn/WatchView") {
  static readonly layerJson = (out: NodeJS.WritableStream = process.stdout) =>
    Layer.succeed(WatchView, WatchView.of({
      run: (run, e) => Effect.sync(() => void out.write(JSON.stringify({ ...e, run }) + "\n")),
      watch: (e) => Effect.sync(() => void out.write(JSON.stringify(e) + "\n")),
      note: (line) => Effect.sync(() => void out.write(JSON.stringify({ _tag: "Note", message: line }) + "\n")),
      close: Effect.void
    }))

  static readonly layerPlain = (out: NodeJS.WritableStream = process.stdout) =>
    Layer.effect(
      WatchView,
      Effect.gen(function*() {
        const lines = yield* Reporter
        return WatchView.of({
          run: (_run, e) => lines.emit(e),
          watch: (e) =>
            Effect.sync(() => {
              const text = watchLines(e)
              if (text.length > 0) out.write(text.join("\n") + "\n")
            }),
          note: lines.note,
          close: Effect.void
        })
      })
    ).pipe(Layer.provide(Reporter.layerPlain(out)))

  static readonly layerTty = (out: NodeJS.WriteStream = process.stdout) =>
    Layer.effect(WatchView, Effect.acquireRelease(Effect.sync(() => WatchView.of(makeTtyView(out))), (v) => v.close))

  /** Collects everything in memory (tests). */
  static readonly layerMemory = (sink: Array<WatchViewEntry>) =>
    Layer.succeed(WatchView, WatchView.of({
      run: (run, e) => Effect.sync(() => void sink.push({ ...e, run })),
      watch: (e) => Effect.sync(() => void sink.push(e)),
      note: () => Effect.void,
      close: Effect.void
    }))

  /** The live view on a terminal, plain lines otherwise; JSON lines on request. */
  static readonly layerAuto = (json: boolean) =>
    json ? WatchView.layerJson() : process.stdout.isTTY && process.env.CI === undefined ? WatchView.layerTty() : WatchView.layerPlain()
}
