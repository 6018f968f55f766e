/**
 * From a training stage's params (defaulted fields optional, as the generated types have them)
 * to the settings the trainer gets. Cheap to import: the stage declarations call it when they
 * build their options, before anything heavy is loaded.
 *
 * Each stage passes its own schema defaults, so calling the stage without the engine's schema
 * validation behaves exactly as with it (tests/stages/defaults.test.ts keeps the two equal).
 */
import type { BackendPreference } from "../backend/Backend.js"
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

/** Where a stage runs: names and paths it needs besides its params. */
export interface StagePlace {
  readonly stage: string
  readonly workspace: string
  readonly resolve: (relative: string) => string
}

export interface DatasetInput {
  /** Absolute path of a JSONL file. */
  readonly path: string
  /** As written in the params; names the dataset in logs and metrics. */
  readonly name: string
  readonly weight?: number
}

/** What both training stages hand the library besides their own options. */
export interface TrainingStageOptions {
  readonly workspace: string
  readonly stage: string
  /** Builtin name, version and raw params: the scratch key (see Scratch.ts). */
  readonly key: { readonly builtin: string; readonly version: number; readonly params: unknown }
  readonly datasets: ReadonlyArray<DatasetInput>
  readonly validation?: string
  readonly settings: TrainingSettings
  readonly backend: BackendPreference
  /** Threads for large matrix products on wasm (1: none besides the stage's own). */
  readonly threads: number
  /** Absolute output paths. */
  readonly out: string
  readonly metrics: string
  readonly curve: string
}

/** The params both training stages share, beyond the optimisation ones. */
export interface TrainingStageParamsLike extends TrainingParamsLike {
  readonly datasets: ReadonlyArray<{ readonly path: string; readonly weight?: number }>
  readonly validation?: string
  readonly backend?: BackendPreference
  readonly threads?: number
  readonly out: string
  readonly metrics?: string
  readonly curve?: string
}

export const trainingStageOptions = (
  stage: { readonly name: string; readonly version: number },
  p: TrainingStageParamsLike,
  at: StagePlace,
  defaults: TrainingDefaults
): TrainingStageOptions => {
  const files = trainingFiles(p.out, p.metrics, p.curve)
  return {
    workspace: at.workspace,
    stage: at.stage,
    key: { builtin: stage.name, version: stage.version, params: p },
    datasets: p.datasets.map((d) => ({ path: at.resolve(d.path), name: d.path, ...(d.weight === undefined ? {} : { weight: d.weight }) })),
    ...(p.validation === undefined ? {} : { validation: at.resolve(p.validation) }),
    settings: trainingSettings(p, defaults),
    backend: p.backend ?? "auto",
    threads: p.threads ?? 1,
    out: at.resolve(p.out),
    metrics: at.resolve(files.metrics),
    curve: at.resolve(files.curve)
  }
}

/** A training stage's declared files: its data (after `first`, before `last`), the model and its curve, the summary. */
export const trainingIo = (p: TrainingStageParamsLike, extra: { readonly first?: ReadonlyArray<string>; readonly last?: ReadonlyArray<string> } = {}) => {
  const files = trainingFiles(p.out, p.metrics, p.curve)
  return {
    deps: [...(extra.first ?? []), ...p.datasets.map((d) => d.path), ...(p.validation === undefined ? [] : [p.validation]), ...(extra.last ?? [])],
    outs: [p.out, files.curve],
    metrics: [files.metrics]
  }
}
