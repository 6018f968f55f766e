/**
 * `uses: evaluate` — generation-based evaluation of one or more models (full or adapter) on
 * one or more test sets: every listed metric overall and per task with bootstrap intervals,
 * the predictions, a Markdown summary and SVG charts (all outs, cached like any other); with
 * `compare`, deltas against a baseline model, and with `forgetting`, the table of what
 * fine-tuning gained on new tasks and lost on old ones. Runs in its own process (TensorFlow.js).
 */
import { Effect } from "effect"
import { defineStage, StageRunError } from "../../src/index.js"
import type { EvalMetric, EvalOutputs, EvaluateOptions } from "../../src/ml/stages/Evaluation.js"
import { runMlTask } from "../../src/ml/stages/StageTask.js"
import type { StagePlace } from "../../src/ml/stages/Settings.js"
import type { EvaluateParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

const VERSION = 1

const DEFAULT_METRICS: ReadonlyArray<EvalMetric> = ["rouge", "bleu", "chrf", "exact", "perplexity"]

/** Files the stage writes under `outDir` (workspace-relative). */
export const evaluateOutputs = (p: EvaluateParams): EvalOutputs => {
  const dir = p.outDir.replace(/\/+$/, "")
  return {
    metrics: `${dir}/metrics.json`,
    predictions: `${dir}/predictions.jsonl`,
    summary: `${dir}/summary.md`,
    bars: `${dir}/metric-bars.svg`,
    ...(p.trainingCurves === undefined || p.trainingCurves.length === 0 ? {} : { lossCurve: `${dir}/loss-curve.svg` }),
    ...(p.forgetting === undefined
      ? {}
      : { forgettingMarkdown: `${dir}/forgetting.md`, forgettingJson: `${dir}/forgetting.json`, forgettingSvg: `${dir}/forgetting.svg` })
  }
}

/** Every path of `files` resolved against the workspace. */
const resolveAll = <T extends { readonly [K in keyof T]: string | undefined }>(files: T, resolve: (relative: string) => string): T =>
  Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === "string" ? resolve(v) : v])) as T

/** The metric keys a forgetting table shows by default: one headline number per metric. */
const headlineKeys = (metrics: ReadonlyArray<EvalMetric>): Array<string> =>
  metrics.map((m) => (m === "rouge" ? "rougeL" : m === "squad" ? "squad_f1" : m))

/** Names that must refer to something; checked before any model is loaded. */
const checkNames = (p: EvaluateParams): string | undefined => {
  const models = new Set(p.models.map((m) => m.name))
  const sets = new Set(p.testSets.map((s) => s.name))
  if (models.size !== p.models.length) return "models: two models have the same name"
  if (sets.size !== p.testSets.length) return "testSets: two test sets have the same name"
  if (p.compare !== undefined && !models.has(p.compare.baseline)) return `compare.baseline: no model named ${p.compare.baseline}`
  for (const name of [...(p.forgetting?.old ?? []), ...(p.forgetting?.new ?? [])]) {
    if (!sets.has(name)) return `forgetting: no test set named ${name}`
  }
  if (p.forgetting !== undefined && p.models.length < 2) return "forgetting: needs a baseline and at least one other model"
  return undefined
}

/** The library's view of the params; fallbacks equal the schema defaults. */
export const evaluateOptions = (p: EvaluateParams, at: Pick<StagePlace, "resolve">): EvaluateOptions => {
  const files = evaluateOutputs(p)
  const metrics = p.metrics ?? DEFAULT_METRICS
  const samples = p.bootstrap?.samples ?? 1000
  return {
    models: p.models.map((m) => ({ name: m.name, path: at.resolve(m.path), ...(m.base === undefined ? {} : { base: at.resolve(m.base) }) })),
    sets: p.testSets.map((s) => ({ name: s.name, path: at.resolve(s.path) })),
    metrics,
    stem: p.stem ?? false,
    decoding: {
      maxNewTokens: p.generation?.maxNewTokens ?? 64,
      temperature: p.generation?.temperature ?? 0,
      ...(p.generation?.topK === undefined ? {} : { topK: p.generation.topK }),
      ...(p.generation?.topP === undefined ? {} : { topP: p.generation.topP }),
      seed: p.generation?.seed ?? 0
    },
    ...(p.maxExamples === undefined ? {} : { maxExamples: p.maxExamples }),
    ...(samples === 0 ? {} : { bootstrap: { samples, seed: p.bootstrap?.seed ?? 0, alpha: p.bootstrap?.alpha ?? 0.05 } }),
    ...(p.compare === undefined ? {} : { compare: { baseline: p.compare.baseline } }),
    ...(p.forgetting === undefined
      ? {}
      : { forgetting: { old: p.forgetting.old, new: p.forgetting.new, metrics: p.forgetting.metrics ?? headlineKeys(metrics) } }),
    curves: (p.trainingCurves ?? []).map((c) => ({ name: c.name, path: at.resolve(c.path) })),
    backend: p.backend ?? "auto",
    threads: p.threads ?? 1,
    outputs: resolveAll(files, at.resolve)
  }
}

export default defineStage<EvaluateParams>({
  name: "evaluate",
  version: VERSION,
  description: "Generate with models on test sets and score them; compare models and report forgetting",
  paramsSchema: schema,
  isolated: true,
  gpu: true,
  io: (p) => {
    const files = evaluateOutputs(p)
    const { metrics, ...outs } = files
    return {
      deps: [
        ...new Set([
          ...p.models.flatMap((m) => [m.path, ...(m.base === undefined ? [] : [m.base])]),
          ...p.testSets.map((s) => s.path),
          ...(p.trainingCurves ?? []).map((c) => c.path)
        ])
      ],
      outs: Object.values(outs).filter((o): o is string => o !== undefined),
      metrics: [metrics]
    }
  },
  run: (ctx) =>
    Effect.gen(function*() {
      const problem = checkNames(ctx.params)
      if (problem !== undefined) return yield* new StageRunError({ stage: ctx.stage, message: problem })
      return yield* runMlTask(ctx, (hooks) =>
        import("../../src/ml/stages/Evaluation.js").then((m) => m.evaluateModels(evaluateOptions(ctx.params, ctx), hooks)))
    })
})
