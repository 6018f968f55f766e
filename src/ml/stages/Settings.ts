/**
 * From a training stage's params (defaulted fields optional, as the generated types have them)
 * to the settings the trainer gets. Cheap to import: the stage declarations call it when they
 * build their options, before anything heavy is loaded.
 *
 * Each stage passes its own schema defaults, so calling the stage without the engine's schema
 * validation behaves exactly as with it (tests/stages/defaults.test.ts keeps the two equal).
 */
import type { ScheduleKind } from "../train/Schedule.js"
import type { TrainingSettings } from "./Training.js"

/** The optimisation params both training stages accept. */
export interface TrainingParamsLike {
  readonly seqLen?: number
  readonly packing?: boolean
  readonly batchSize?: number
  readonly gradAccumSteps?: number
  readonly epochs?: number
  readonly maxSteps?: number
  readonly lr?: number
  readonly schedule?: ScheduleKind
  readonly warmupSteps?: number
  readonly minLrRatio?: number
  readonly weightDecay?: number
  readonly beta1?: number
  readonly beta2?: number
  readonly maxGradNorm?: number
  readonly seed?: number
  readonly evalEvery?: number
  readonly earlyStopping?: { readonly patience: number; readonly threshold?: number }
  readonly checkpointEvery?: number
  readonly dataParallel?: number
}

/** Defaults that differ between pretraining (from scratch) and fine-tuning. */
export interface TrainingDefaults {
  readonly seqLen: number
  readonly batchSize: number
  readonly lr: number
  readonly warmupSteps: number
  readonly minLrRatio: number
}

export const trainingSettings = (p: TrainingParamsLike, d: TrainingDefaults): TrainingSettings => ({
  seqLen: p.seqLen ?? d.seqLen,
  packing: p.packing ?? false,
  batchSize: p.batchSize ?? d.batchSize,
  gradAccumSteps: p.gradAccumSteps ?? 1,
  ...(p.epochs === undefined ? {} : { epochs: p.epochs }),
  ...(p.maxSteps === undefined ? {} : { maxSteps: p.maxSteps }),
  lr: p.lr ?? d.lr,
  schedule: p.schedule ?? "cosine",
  warmupSteps: p.warmupSteps ?? d.warmupSteps,
  minLrRatio: p.minLrRatio ?? d.minLrRatio,
  weightDecay: p.weightDecay ?? 0.01,
  beta1: p.beta1 ?? 0.9,
  beta2: p.beta2 ?? 0.999,
  maxGradNorm: p.maxGradNorm ?? 1,
  seed: p.seed ?? 0,
  ...(p.evalEvery === undefined ? {} : { evalEvery: p.evalEvery }),
  ...(p.earlyStopping === undefined ? {} : { earlyStopping: { patience: p.earlyStopping.patience, threshold: p.earlyStopping.threshold ?? 0 } }),
  // 0 turns checkpoints off.
  ...((p.checkpointEvery ?? 100) === 0 ? {} : { checkpointEvery: p.checkpointEvery ?? 100 }),
  dataParallel: p.dataParallel ?? 1
})

/** `<out>.metrics.json` / `<out>.metrics.jsonl` beside a model directory, unless named. */
export const trainingFiles = (out: string, metrics: string | undefined, curve: string | undefined) => {
  const base = out.replace(/\/+$/, "")
  return { metrics: metrics ?? `${base}.metrics.json`, curve: curve ?? `${base}.metrics.jsonl` }
}
