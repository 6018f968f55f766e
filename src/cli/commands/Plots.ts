/**
 * `cairn plots --metrics FILE… [--eval FILE…] --out DIR`: SVG charts of a run's files without
 * running anything — loss curves from training stages' `metrics.jsonl` (all runs in one chart)
 * and metric bars from evaluate stages' `metrics.json`. The same renderers as the evaluate
 * stage, so a chart made here matches the one the stage caches.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../../core/Errors.js"
import type { LossRow } from "../../report/Plots.js"
import { reportFailures } from "../ExitCode.js"

/** `work/train.metrics.jsonl` → `train`; `work/train/metrics.jsonl` → `train`. */
export const runName = (file: string): string => {
  const base = path.basename(file).replace(/\.jsonl?$/, "").replace(/\.?metrics$/, "")
  return base !== "" ? base : path.basename(path.dirname(path.resolve(file)))
}

const readText = (file: string, flag: string) =>
  Effect.suspend(() =>
    fs.existsSync(file) ? Effect.succeed(fs.readFileSync(file, "utf8")) : Effect.fail(new UsageError({ reason: `${flag} ${file}: file not found` }))
  )

const writeSvg = (file: string, svg: string) =>
  Effect.try({
    try: () => {
      fs.mkdirSync(path.dirname(file), { recursive: true })
      fs.writeFileSync(file, svg)
      process.stdout.write(`wrote ${file}\n`)
    },
    catch: (e) => new UsageError({ reason: `cannot write ${file}: ${(e as Error).message}` })
  })

const render = <A>(what: string, f: () => Promise<A>) =>
  Effect.tryPromise({ try: f, catch: (e) => new UsageError({ reason: `${what}: ${(e as Error).message}` }) })

export const plotsCommand = Command.make(
  "plots",
  {
    metrics: Flag.String("metrics").pipe(
      Flag.withDescription("A training stage's metrics.jsonl (repeatable: the runs share one loss chart)"),
      Flag.atLeast(0)
    ),
    evals: Flag.String("eval").pipe(Flag.withDescription("An evaluate stage's metrics.json, drawn as metric bars (repeatable)"), Flag.atLeast(0)),
    out: Flag.String("out").pipe(Flag.withDescription("Directory the SVG files are written to")),
    title: Flag.String("title").pipe(Flag.withDefault("Training loss"), Flag.withDescription("Title of the loss chart"))
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      if (f.metrics.length === 0 && f.evals.length === 0) {
        return yield* new UsageError({ reason: "nothing to plot: give --metrics FILE (training curves) and/or --eval FILE (evaluation metrics)" })
      }
      // Loaded only here: vega is large and no other command needs it.
      const plots = yield* Effect.promise(() => import("../../report/Plots.js"))
      const curves = yield* Effect.promise(() => import("../../ml/stages/Curves.js"))
      if (f.metrics.length > 0) {
        const names = f.metrics.map(runName)
        // Two files with one name (train/metrics.jsonl, tune/train/metrics.jsonl) keep their paths.
        const unique = names.map((n, i) => (names.indexOf(n) === names.lastIndexOf(n) ? n : f.metrics[i]!))
        const rows: Array<LossRow> = []
        for (const [i, file] of f.metrics.entries()) {
          const found = curves.lossRows(yield* readText(file, "--metrics"), f.metrics.length > 1 ? unique[i] : undefined)
          if (found.length === 0) return yield* new UsageError({ reason: `--metrics ${file}: no step with a loss (is it a training stage's metrics.jsonl?)` })
          rows.push(...found)
        }
        yield* writeSvg(path.join(f.out, "loss-curve.svg"), yield* render("loss chart", () => plots.lossCurveSvg(rows, { title: f.title })))
      }
      for (const file of f.evals) {
        const parsed = yield* Effect.try({
          try: () => JSON.parse(fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "null") as unknown,
          catch: () => new UsageError({ reason: `--eval ${file}: not JSON` })
        })
        if (parsed === null || typeof parsed !== "object" || !("models" in parsed)) {
          return yield* new UsageError({ reason: `--eval ${file}: not an evaluate stage's metrics.json (no "models")` })
        }
        const name = f.evals.length > 1 ? `metric-bars-${path.basename(path.dirname(path.resolve(file)))}.svg` : "metric-bars.svg"
        const rows = curves.metricBarRows(parsed as Parameters<typeof curves.metricBarRows>[0])
        yield* writeSvg(path.join(f.out, name), yield* render("metric bars", () => plots.metricBarsSvg(rows, { title: "Evaluation" })))
      }
    }))
).pipe(Command.withDescription("Render loss curves and metric bars (SVG) from training and evaluation metrics files"))
