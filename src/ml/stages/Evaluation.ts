/**
 * The evaluate stage's work: generate with each model on each test set, score the predictions,
 * and write the metrics, the predictions, a Markdown summary and SVG charts.
 *
 * Decoding is seeded (greedy by default; sampling uses seed + example index, so one example's
 * draw never depends on another's) and stops at EOS or at a new prompt marker. Text metrics are
 * src/ml/eval's (ROUGE, BLEU, chrF, SQuAD, exact) on the decoded completion; `perplexity` is the
 * teacher-forced perplexity of the references, exp(total completion NLL / total completion
 * tokens), with the closing EOS counted as a completion token as in training. Every number is
 * given overall and per task, with seeded percentile-bootstrap intervals.
 *
 * With `compare`, every model is also reported as deltas against a baseline model; with
 * `forgetting`, the baseline-vs-tuned table over old and new test sets (see eval/Forgetting.ts).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { dirname } from "node:path"
import * as tf from "@tensorflow/tfjs"
import type { BackendPreference } from "../backend/Backend.js"
import type { DataRecord } from "../data/DataRecord.js"
import { readJsonl } from "../data/Jsonl.js"
import type { Interval } from "../eval/Bootstrap.js"
import { forgettingMarkdown, forgettingReport, lowerIsBetter, type ForgettingReport } from "../eval/Forgetting.js"
import { perplexity, type TextNll } from "../eval/Perplexity.js"
import { scoreTexts, type MetricName } from "../eval/Score.js"
import { generate } from "../model/Generate.js"
import type { Gpt } from "../model/Gpt.js"
import { mergeLora } from "../model/Lora.js"
import { deriveSeed } from "../model/Random.js"
import { causalLmLoss, countTargets } from "../train/Loss.js"
import { promptTemplate } from "../tokenizer/Template.js"
import { barValue, lossRows, metricBarRows, type EvalMetricsFile } from "./Curves.js"
import { promptIds, tokenizeRecords } from "./Examples.js"
import { loadModelDir } from "./ModelDir.js"
import { openStageBackend } from "./StageBackend.js"
import type { StageHooks } from "./StageTask.js"

export type EvalMetric = MetricName | "perplexity"

export interface EvalModel {
  readonly name: string
  /** Absolute paths. */
  readonly path: string
  readonly base?: string
}

export interface EvalSet {
  readonly name: string
  readonly path: string
}

export interface Decoding {
  readonly maxNewTokens: number
  readonly temperature: number
  readonly topK?: number
  readonly topP?: number
  readonly seed: number
}

/** Absolute paths of everything the stage writes. */
export interface EvalOutputs {
  readonly metrics: string
  readonly predictions: string
  readonly summary: string
  readonly bars: string
  readonly lossCurve?: string
  readonly forgettingMarkdown?: string
  readonly forgettingJson?: string
  readonly forgettingSvg?: string
}

export interface EvaluateOptions {
  readonly models: ReadonlyArray<EvalModel>
  readonly sets: ReadonlyArray<EvalSet>
  readonly metrics: ReadonlyArray<EvalMetric>
  readonly stem: boolean
  readonly decoding: Decoding
  readonly maxExamples?: number
  /** Undefined: no intervals. */
  readonly bootstrap?: { readonly samples: number; readonly seed: number; readonly alpha: number }
  readonly compare?: { readonly baseline: string }
  readonly forgetting?: { readonly old: ReadonlyArray<string>; readonly new: ReadonlyArray<string>; readonly metrics: ReadonlyArray<string> }
  /** Training curves (`metrics.jsonl` of training stages) to plot, by run name. */
  readonly curves: ReadonlyArray<{ readonly name: string; readonly path: string }>
  readonly backend: BackendPreference
  /** Threads for large matrix products on wasm (1: none besides the stage's own). */
  readonly threads: number
  readonly outputs: EvalOutputs
}

interface Prediction {
  readonly record: DataRecord
  readonly prediction: string
  readonly finish: string
  readonly nll?: TextNll
}

interface Scored {
  readonly n: number
  readonly metrics: Record<string, number>
  readonly intervals?: Record<string, Interval>
}

interface SetScores extends Scored {
  readonly tasks: Record<string, Scored>
  readonly sentences: ReadonlyArray<Record<string, number>>
}

/** Σ NLL and count of the target tokens of one example, teacher-forced, no dropout. */
const exampleNll = (model: Gpt, ids: ReadonlyArray<number>, mask: ReadonlyArray<number>): { nll: number; tokens: number } => {
  const batch = { ids: Int32Array.from(ids), mask: Uint8Array.from(mask), batch: 1, seqLen: ids.length }
  const tokens = countTargets(batch)
  if (tokens === 0) return { nll: 0, tokens: 0 }
  const total = tf.tidy(() => causalLmLoss(model, batch, 1, { training: false })!)
  const nll = total.dataSync()[0]!
  total.dispose()
  return { nll, tokens }
}

const textMetrics = (metrics: ReadonlyArray<EvalMetric>): Array<MetricName> => metrics.filter((m): m is MetricName => m !== "perplexity")

/** Scores of `predictions` (a set or one task's share of it). */
const score = (predictions: ReadonlyArray<Prediction>, o: EvaluateOptions, signatures: Record<string, string>): Scored & { sentences: Array<Record<string, number>> } => {
  const metrics: Record<string, number> = {}
  const intervals: Record<string, Interval> = {}
  const sentences: Array<Record<string, number>> = predictions.map(() => ({}))
  const bootstrap = o.bootstrap === undefined ? undefined : { samples: o.bootstrap.samples, seed: o.bootstrap.seed, alpha: o.bootstrap.alpha }
  const text = textMetrics(o.metrics)
  if (text.length > 0 && predictions.length > 0) {
    const result = scoreTexts(predictions.map((p) => p.prediction), predictions.map((p) => p.record.completion), {
      metrics: text,
      stem: o.stem,
      ...(bootstrap === undefined ? {} : { bootstrap })
    })
    Object.assign(metrics, result.corpus)
    Object.assign(intervals, result.intervals ?? {})
    Object.assign(signatures, result.signatures)
    result.sentences.forEach((s, i) => Object.assign(sentences[i]!, s))
  }
  if (o.metrics.includes("perplexity") && predictions.length > 0) {
    const texts = predictions.map((p) => p.nll!)
    const result = perplexity(texts, bootstrap)
    metrics["perplexity"] = result.perplexity
    if (result.intervals !== undefined) intervals["perplexity"] = result.intervals.perplexity
    signatures["perplexity"] = "exp(total NLL / total completion tokens) of the references, teacher-forced; completion tokens include the closing EOS"
    texts.forEach((t, i) => {
      sentences[i]!["nll"] = t.nll
      sentences[i]!["tokens"] = t.tokens
    })
  }
  return { n: predictions.length, metrics, ...(Object.keys(intervals).length > 0 ? { intervals } : {}), sentences }
}

const scoreSet = (predictions: ReadonlyArray<Prediction>, o: EvaluateOptions, signatures: Record<string, string>): SetScores => {
  const overall = score(predictions, o, signatures)
  const byTask = new Map<string, Array<Prediction>>()
  for (const p of predictions) {
    const list = byTask.get(p.record.task) ?? []
    list.push(p)
    byTask.set(p.record.task, list)
  }
  const tasks: Record<string, Scored> = {}
  for (const task of [...byTask.keys()].sort()) {
    const { sentences: _s, ...scored } = score(byTask.get(task)!, o, signatures)
    tasks[task] = scored
  }
  return { ...overall, tasks }
}

/** Generate (and score the references' NLL) for every example of every set with one model. */
const predict = async (
  model: EvalModel,
  sets: ReadonlyArray<{ name: string; records: ReadonlyArray<DataRecord> }>,
  o: EvaluateOptions,
  hooks: StageHooks,
  progress: { done: number; readonly total: number }
): Promise<Map<string, Array<Prediction>>> => {
  const loaded = await loadModelDir(model.path, model.base)
  hooks.log(`${model.name}: ${loaded.description}`)
  // Folding the adapter in gives the same function and makes each generated token cheaper.
  if (loaded.adapter !== undefined) mergeLora(loaded.model, loaded.adapter)
  const { model: gpt, tokenizer } = loaded
  const template = promptTemplate(tokenizer)
  const context = gpt.config.nPositions
  const stops = [tokenizer.specialTokens.eos, ...(tokenizer.specialTokens.prompt === undefined ? [] : [tokenizer.specialTokens.prompt])]
  const d = o.decoding
  // A prompt is shortened only when it leaves less than this much room to answer; generation
  // itself stops when the context is full.
  const promptLimit = context - Math.max(1, Math.min(d.maxNewTokens, Math.floor(context / 4)))
  const out = new Map<string, Array<Prediction>>()
  const started = performance.now()
  for (const set of sets) {
    const predictions: Array<Prediction> = []
    const formatted = o.metrics.includes("perplexity")
      ? tokenizeRecords(set.records, tokenizer, { format: "instruction", maxLength: context }).examples
      : undefined
    set.records.forEach((record, i) => {
      const prompt = promptIds(template, record.prompt, promptLimit)
      const generation = generate(gpt, prompt, {
        maxNewTokens: d.maxNewTokens,
        temperature: d.temperature,
        ...(d.topK === undefined ? {} : { topK: d.topK }),
        ...(d.topP === undefined ? {} : { topP: d.topP }),
        seed: deriveSeed(d.seed, i),
        eosTokenIds: stops
      })
      const prediction = tokenizer.decode(generation.tokens, { skipSpecialTokens: true })
      const example = formatted?.[i]
      const nll = example === undefined ? undefined : { ...exampleNll(gpt, example.ids, example.labelsMask), group: record.task }
      predictions.push({ record, prediction, finish: generation.finishReason, ...(nll === undefined ? {} : { nll }) })
      progress.done++
      hooks.progress({ step: progress.done, total: progress.total })
    })
    out.set(set.name, predictions)
  }
  hooks.log(`${model.name}: ${sets.reduce((n, s) => n + s.records.length, 0)} example(s) in ${((performance.now() - started) / 1000).toFixed(1)} s`)
  gpt.dispose()
  return out
}

/** More tasks than this are left to metrics.json; a summary should stay readable. */
const MAX_TASK_ROWS = 20

const fixed = (metric: string, x: number | undefined): string => {
  if (x === undefined || !Number.isFinite(x)) return "–"
  return metric === "bleu" || metric === "chrf" || metric === "perplexity" ? x.toFixed(2) : x.toFixed(3)
}

const cell = (metric: string, s: Scored): string => {
  const interval = s.intervals?.[metric]
  const value = fixed(metric, s.metrics[metric])
  return interval === undefined ? value : `${value} [${fixed(metric, interval.low)}, ${fixed(metric, interval.high)}]`
}

const summaryMarkdown = (
  o: EvaluateOptions,
  scores: ReadonlyMap<string, ReadonlyMap<string, SetScores>>,
  deltas: Record<string, Record<string, Record<string, number>>> | undefined,
  forgetting: ForgettingReport | undefined
): string => {
  const d = o.decoding
  const lines: Array<string> = ["# Evaluation", ""]
  const decoding = d.temperature > 0
    ? `sampling (temperature ${d.temperature}${d.topK === undefined ? "" : `, top-k ${d.topK}`}${d.topP === undefined ? "" : `, top-p ${d.topP}`}, seed ${d.seed})`
    : "greedy"
  lines.push(`Decoding: ${decoding}, at most ${d.maxNewTokens} new tokens, stopping at EOS.`)
  if (o.bootstrap !== undefined) lines.push(`Intervals: ${Math.round((1 - o.bootstrap.alpha) * 100)}% percentile bootstrap, ${o.bootstrap.samples} resamples, seed ${o.bootstrap.seed}.`)
  if (o.metrics.includes("perplexity")) lines.push("perplexity: exp(total NLL / total completion tokens) of the reference completions (EOS included), teacher-forced.")
  lines.push("")
  for (const set of o.sets) {
    const first = scores.get(o.models[0]!.name)!.get(set.name)!
    const cols = Object.keys(first.metrics)
    const header = [`| model | ${cols.join(" | ")} |`, `|---|${cols.map(() => "---:").join("|")}|`]
    lines.push(`## ${set.name} (${first.n} examples)`, "", ...header)
    for (const m of o.models) lines.push(`| ${m.name} | ${cols.map((c) => cell(c, scores.get(m.name)!.get(set.name)!)).join(" | ")} |`)
    const tasks = Object.keys(first.tasks)
    if (tasks.length > MAX_TASK_ROWS) lines.push("", `Per-task scores for the ${tasks.length} tasks are in metrics.json.`)
    else if (tasks.length > 1) {
      lines.push("", "Per task:", "", `| task | n | model | ${cols.join(" | ")} |`, `|---|---:|---|${cols.map(() => "---:").join("|")}|`)
      for (const task of tasks) {
        for (const m of o.models) {
          const t = scores.get(m.name)!.get(set.name)!.tasks[task]
          lines.push(`| ${task} | ${t?.n ?? 0} | ${m.name} | ${cols.map((c) => fixed(c, t?.metrics[c])).join(" | ")} |`)
        }
      }
    }
    lines.push("")
  }
  if (deltas !== undefined && o.compare !== undefined) {
    const baseline = o.compare.baseline
    lines.push(`## Compared with ${baseline}`, "", `Each cell: the model's score (its difference from ${baseline}).`, "")
    for (const set of o.sets) {
      const cols = Object.keys(scores.get(baseline)!.get(set.name)!.metrics)
      lines.push(`| model | set | ${cols.join(" | ")} |`, `|---|---|${cols.map(() => "---:").join("|")}|`)
      for (const [model, bySet] of Object.entries(deltas)) {
        const tuned = scores.get(model)!.get(set.name)!.metrics
        const delta = bySet[set.name]!
        lines.push(`| ${model} | ${set.name} | ${cols.map((c) => `${fixed(c, tuned[c])} (${delta[c]! >= 0 ? "+" : "−"}${fixed(c, Math.abs(delta[c]!))})`).join(" | ")} |`)
      }
      lines.push("")
    }
  }
  if (forgetting !== undefined) lines.push("## Forgetting", "", forgettingMarkdown(forgetting))
  return lines.join("\n").replace(/\n+$/, "\n")
}

const write = async (file: string, content: string): Promise<void> => {
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, content)
}

export const evaluateModels = async (o: EvaluateOptions, hooks: StageHooks): Promise<void> => {
  const backend = await openStageBackend(o, hooks)
  const sets = await Promise.all(o.sets.map(async (s) => {
    const all = await readJsonl(s.path)
    const records = o.maxExamples === undefined ? all : all.slice(0, o.maxExamples)
    hooks.log(`${s.name}: ${records.length} example(s)${records.length < all.length ? ` (first ${records.length} of ${all.length})` : ""}`)
    return { name: s.name, records }
  }))
  if (sets.some((s) => s.records.length === 0)) throw new Error(`test set ${sets.find((s) => s.records.length === 0)!.name} is empty`)
  const progress = { done: 0, total: o.models.length * sets.reduce((n, s) => n + s.records.length, 0) }
  const predictions = new Map<string, Map<string, Array<Prediction>>>()
  for (const model of o.models) predictions.set(model.name, await predict(model, sets, o, hooks, progress))

  const signatures: Record<string, string> = {}
  const scores = new Map<string, Map<string, SetScores>>()
  for (const model of o.models) {
    const bySet = new Map<string, SetScores>()
    for (const set of sets) bySet.set(set.name, scoreSet(predictions.get(model.name)!.get(set.name)!, o, signatures))
    scores.set(model.name, bySet)
  }
  const table: Record<string, Record<string, Record<string, number>>> = {}
  for (const [model, bySet] of scores) table[model] = Object.fromEntries([...bySet].map(([set, s]) => [set, s.metrics]))

  let deltas: Record<string, Record<string, Record<string, number>>> | undefined
  if (o.compare !== undefined) {
    const baseline = table[o.compare.baseline]!
    deltas = {}
    for (const [model, bySet] of Object.entries(table)) {
      if (model === o.compare.baseline) continue
      deltas[model] = Object.fromEntries(Object.entries(bySet).map(([set, metrics]) => [
        set,
        Object.fromEntries(Object.entries(metrics).map(([metric, v]) => [metric, v - baseline[set]![metric]!]))
      ]))
    }
  }
  const forgetting = o.forgetting === undefined
    ? undefined
    : forgettingReport(table, { baseline: o.compare?.baseline ?? o.models[0]!.name, old: o.forgetting.old, new: o.forgetting.new, metrics: o.forgetting.metrics })

  const metricsFile = {
    models: Object.fromEntries(o.models.map((m) => [m.name, {
      sets: Object.fromEntries([...scores.get(m.name)!].map(([set, s]) => [set, {
        n: s.n,
        metrics: s.metrics,
        ...(s.intervals === undefined ? {} : { intervals: s.intervals }),
        tasks: s.tasks
      }]))
    }])),
    ...(deltas === undefined ? {} : { compare: { baseline: o.compare!.baseline, deltas } }),
    ...(forgetting === undefined ? {} : { forgetting }),
    decoding: o.decoding,
    ...(o.bootstrap === undefined ? {} : { bootstrap: o.bootstrap }),
    signatures,
    backend: backend.name
  }
  await write(o.outputs.metrics, JSON.stringify(metricsFile, null, 2) + "\n")

  const lines: Array<string> = []
  for (const model of o.models) {
    for (const set of sets) {
      const s = scores.get(model.name)!.get(set.name)!
      predictions.get(model.name)!.get(set.name)!.forEach((p, i) => {
        lines.push(JSON.stringify({
          model: model.name,
          set: set.name,
          id: p.record.id,
          task: p.record.task,
          prompt: p.record.prompt,
          reference: p.record.completion,
          prediction: p.prediction,
          finish: p.finish,
          scores: s.sentences[i]
        }))
      })
    }
  }
  await write(o.outputs.predictions, lines.join("\n") + "\n")
  await write(o.outputs.summary, summaryMarkdown(o, scores, deltas, forgetting))

  const { lossCurveSvg, metricBarsSvg } = await import("../../report/Plots.js")
  await write(o.outputs.bars, await metricBarsSvg(metricBarRows(metricsFile as EvalMetricsFile), { title: "Evaluation" }))
  if (o.outputs.lossCurve !== undefined) {
    const rows = (await Promise.all(o.curves.map(async (c) => lossRows(await readFile(c.path, "utf8"), c.name)))).flat()
    await write(o.outputs.lossCurve, await lossCurveSvg(rows, { title: "Training loss" }))
  }
  if (forgetting !== undefined) {
    await write(o.outputs.forgettingJson!, JSON.stringify(forgetting, null, 2) + "\n")
    await write(o.outputs.forgettingMarkdown!, `# Forgetting\n\n${forgettingMarkdown(forgetting)}`)
    const groups = (names: ReadonlyArray<string>) => names.join("+")
    const bars = o.models.flatMap((m) => forgetting.rows.length === 0 ? [] : o.forgetting!.metrics.flatMap((metric) => {
      const row = forgetting.rows.find((r) => r.metric === metric)!
      const isBase = m.name === forgetting.baseline
      const tuned = forgetting.rows.find((r) => r.model === m.name && r.metric === metric)
      const oldValue = isBase ? row.oldBaseline : tuned?.oldTuned
      const newValue = isBase ? row.newBaseline : tuned?.newTuned
      const bar = (task: string, value: number | undefined) => {
        const shown = barValue(metric, value ?? Number.NaN)
        return { model: m.name, task, metric: lowerIsBetter(metric) ? `${shown.metric}, lower is better` : shown.metric, value: shown.value }
      }
      return [bar(`old (${groups(forgetting.old)})`, oldValue), bar(`new (${groups(forgetting.new)})`, newValue)].filter((r) => Number.isFinite(r.value))
    }))
    await write(o.outputs.forgettingSvg!, await metricBarsSvg(bars, { title: `Forgetting: ${forgetting.baseline} vs tuned` }))
  }
  for (const model of o.models) {
    const parts = sets.map((s) => `${s.name}: ${Object.entries(scores.get(model.name)!.get(s.name)!.metrics).map(([k, v]) => `${k} ${fixed(k, v)}`).join(", ")}`)
    hooks.log(`${model.name} — ${parts.join("; ")}`)
  }
}
