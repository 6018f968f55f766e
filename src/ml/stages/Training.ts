/**
 * What the pretrain and train stages share: their optimisation settings, the call into the
 * trainer with checkpoints in the stage's scratch directory (so a killed run resumes), progress
 * and log lines, and the two files every training stage writes — `metrics.jsonl` (one line per
 * step and evaluation, the loss curve) and `metrics.json` (the run's summary).
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import { dirname, join } from "node:path"
import type { Gpt } from "../model/Gpt.js"
import { Lora, type LoraOptions } from "../model/Lora.js"
import type { Dataset, Example } from "../train/Batches.js"
import type { ScheduleKind } from "../train/Schedule.js"
import { train, type TrainResult } from "../train/Trainer.js"
import { removeScratch } from "./Scratch.js"
import type { StageHooks } from "./StageTask.js"

/** The optimisation settings of both training stages, schema defaults applied. */
export interface TrainingSettings {
  readonly seqLen: number
  readonly batchSize: number
  readonly gradAccumSteps: number
  readonly epochs?: number
  readonly maxSteps?: number
  readonly lr: number
  readonly schedule: ScheduleKind
  readonly warmupSteps: number
  readonly minLrRatio: number
  readonly weightDecay: number
  readonly beta1: number
  readonly beta2: number
  readonly maxGradNorm: number
  readonly packing: boolean
  readonly seed: number
  readonly evalEvery?: number
  readonly earlyStopping?: { readonly patience: number; readonly threshold: number }
  readonly checkpointEvery?: number
  readonly dataParallel: number
}

export interface TrainingRun {
  readonly model: Gpt
  readonly lora?: LoraOptions
  readonly datasets: ReadonlyArray<Dataset>
  readonly validation?: ReadonlyArray<Example>
  readonly padId: number
  readonly settings: TrainingSettings
  /** The stage's scratch directory (see Scratch.ts). */
  readonly scratch: string
  readonly hooks: StageHooks
}

const checkpointsOf = (scratch: string) => join(scratch, "checkpoints")

/** Step of the newest complete checkpoint in the scratch directory, if any. */
const checkpointStep = async (scratch: string): Promise<number | undefined> => {
  const dir = checkpointsOf(scratch)
  const latest = await readFile(join(dir, "latest"), "utf8").then((s) => s.trim(), () => undefined)
  if (latest === undefined) return undefined
  const state = await readFile(join(dir, latest, "state.json"), "utf8").then((s) => JSON.parse(s) as { step?: unknown }, () => undefined)
  return typeof state?.step === "number" ? state.step : undefined
}

const fmt = (x: number | null | undefined, digits = 4): string => (x === null || x === undefined ? "-" : x.toPrecision(digits))

/** Train `run.model` in place (with LoRA when `run.lora` is set); resumes from the scratch checkpoints. */
export const runTraining = async (run: TrainingRun): Promise<TrainResult> => {
  const s = run.settings
  const { hooks } = run
  const resumable = await checkpointStep(run.scratch)
  if (resumable !== undefined) hooks.log(`found a checkpoint at step ${resumable} in ${run.scratch}`)
  let logEvery = 0
  const attempt = () =>
    train({
      model: run.model,
      // A failed first attempt may already have attached the adapter; train that one.
      ...(run.lora === undefined ? {} : run.model.adapter instanceof Lora ? { adapter: run.model.adapter } : { lora: run.lora }),
      datasets: run.datasets,
      ...(run.validation === undefined || run.validation.length === 0 ? {} : { validation: run.validation }),
      seqLen: s.seqLen,
      packing: s.packing,
      padId: run.padId,
      batchSize: s.batchSize,
      gradAccumSteps: s.gradAccumSteps,
      ...(s.epochs === undefined ? {} : { epochs: s.epochs }),
      ...(s.maxSteps === undefined ? {} : { maxSteps: s.maxSteps }),
      lr: s.lr,
      schedule: s.schedule,
      warmupSteps: s.warmupSteps,
      minLrRatio: s.minLrRatio,
      weightDecay: s.weightDecay,
      beta1: s.beta1,
      beta2: s.beta2,
      maxGradNorm: s.maxGradNorm,
      seed: s.seed,
      ...(s.evalEvery === undefined ? {} : { evalEvery: s.evalEvery }),
      ...(s.earlyStopping === undefined ? {} : { earlyStopping: s.earlyStopping }),
      ...(s.checkpointEvery === undefined ? {} : { checkpointEvery: s.checkpointEvery, checkpointDir: checkpointsOf(run.scratch) }),
      resume: true,
      outputDir: run.scratch,
      dataParallel: s.dataParallel,
      onProgress: (p) => {
        if (logEvery === 0) logEvery = Math.max(1, Math.round(p.totalSteps / 10))
        const metrics: Record<string, number> = {
          ...(p.loss === null ? {} : { loss: p.loss }),
          lr: p.lr,
          tokensPerSec: p.tokensPerSec,
          ...(p.evalLoss === undefined ? {} : { evalLoss: p.evalLoss })
        }
        hooks.progress({ step: p.step, total: p.totalSteps, metrics })
        if (p.evalLoss !== undefined || p.step % logEvery === 0 || p.step === p.totalSteps) {
          const evalPart = p.evalLoss === undefined ? "" : `, eval loss ${fmt(p.evalLoss)}`
          hooks.log(`step ${p.step}/${p.totalSteps}: loss ${fmt(p.loss)}${evalPart}, lr ${p.lr.toExponential(2)}, ${Math.round(p.tokensPerSec)} tok/s`)
        }
      }
    })
  const result = await attempt().catch(async (error: unknown) => {
    // The scratch key covers params and input bytes, so a mismatch means the trainer itself
    // changed what it checkpoints; those checkpoints can only be thrown away.
    if (error instanceof Error && /refusing to resume/.test(error.message)) {
      hooks.log(`discarding incompatible checkpoints: ${error.message}`)
      await removeScratch(run.scratch)
      return attempt()
    }
    throw error
  })
  if (result.resumedFrom > 0) hooks.log(`resumed from step ${result.resumedFrom}`)
  hooks.log(
    `trained ${result.steps} step(s) (${result.stopReason}), ${result.tokens.toLocaleString("en-US")} tokens, ` +
      `final loss ${fmt(result.finalLoss)}, best eval loss ${fmt(result.bestEvalLoss)}` +
      (result.bestStep === null ? "" : ` at step ${result.bestStep}`) +
      (result.restoredBest ? " (restored)" : "") +
      `, ${Math.round(result.tokensPerSec)} tok/s`
  )
  return result
}

/** Fields of a curve line that measure the machine, not the training run. */
const TIMING_FIELDS = ["tokensPerSec"]

/**
 * Publish the scratch `metrics.jsonl` (which survived any resume) as the stage's curve file,
 * without timing fields: the curve is an out that stages like evaluate read, and a retrained
 * model identical to the last one must give identical bytes, or early cutoff is lost downstream.
 * Throughput stays in the summary (`metrics.json`) and the live progress.
 */
export const publishCurve = async (scratch: string, curve: string): Promise<void> => {
  const text = await readFile(join(scratch, "metrics.jsonl"), "utf8")
  const lines = text.split("\n").filter((l) => l.trim() !== "").map((l) => {
    const row = JSON.parse(l) as Record<string, unknown>
    for (const f of TIMING_FIELDS) delete row[f]
    return JSON.stringify(row)
  })
  await mkdir(dirname(curve), { recursive: true })
  await writeFile(curve, lines.map((l) => l + "\n").join(""))
}

/** `metrics.json`: the trainer's summary plus what the stage knows (backend, model, data). */
export const writeTrainingMetrics = async (file: string, result: TrainResult, extra: Readonly<Record<string, unknown>>): Promise<void> => {
  const summary = {
    steps: result.steps,
    totalSteps: result.totalSteps,
    epochs: result.epochs,
    tokens: result.tokens,
    finalLoss: result.finalLoss,
    // The validation loss of the model this stage outputs, under the name progress events use
    // (`evalLoss`), so a sweep can early-terminate on the same metric it ranks trials by.
    evalLoss: result.restoredBest ? result.bestEvalLoss : result.lastEvalLoss,
    finalEvalLoss: result.lastEvalLoss,
    bestEvalLoss: result.bestEvalLoss,
    bestStep: result.bestStep,
    restoredBest: result.restoredBest,
    stopReason: result.stopReason,
    resumedFrom: result.resumedFrom,
    seconds: result.seconds,
    tokensPerSec: result.tokensPerSec,
    trainableParameters: result.trainableParameters,
    ...extra
  }
  await mkdir(dirname(file), { recursive: true })
  await writeFile(file, JSON.stringify(summary, null, 2) + "\n")
}
