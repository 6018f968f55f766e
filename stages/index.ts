/**
 * The shipped built-in stages, and the typed pipeline builder that knows their params.
 *
 * Each entry loads the stage's declaration on first use; the declarations themselves import
 * their heavy libraries only when they run.
 */
import type { BuiltinStage } from "../src/core/BuiltinStage.js"
import { definePipelineWith } from "../src/core/Pipeline.js"
import type { AugmentParams } from "./augment/params.js"
import type { CleanParams } from "./clean/params.js"
import type { ConcatParams } from "./concat/params.js"
import type { EvaluateParams } from "./evaluate/params.js"
import type { IngestParams } from "./ingest/params.js"
import type { PretrainParams } from "./pretrain/params.js"
import type { SplitParams } from "./split/params.js"
import type { SynthParams } from "./synth/params.js"
import type { SweepParams } from "./sweep/params.js"
import type { TrainParams } from "./train/params.js"

export const builtinStages: Readonly<Record<string, () => Promise<BuiltinStage>>> = {
  augment: () => import("./augment/index.js").then((m) => m.default),
  clean: () => import("./clean/index.js").then((m) => m.default),
  concat: () => import("./concat/index.js").then((m) => m.default),
  evaluate: () => import("./evaluate/index.js").then((m) => m.default),
  ingest: () => import("./ingest/index.js").then((m) => m.default),
  pretrain: () => import("./pretrain/index.js").then((m) => m.default),
  split: () => import("./split/index.js").then((m) => m.default),
  synth: () => import("./synth/index.js").then((m) => m.default),
  sweep: () => import("./sweep/index.js").then((m) => m.default),
  train: () => import("./train/index.js").then((m) => m.default)
}

/** Params type of each built-in stage, keyed by its `uses:` name. */
export interface BuiltinParams {
  readonly augment: AugmentParams
  readonly clean: CleanParams
  readonly concat: ConcatParams
  readonly evaluate: EvaluateParams
  readonly ingest: IngestParams
  readonly pretrain: PretrainParams
  readonly split: SplitParams
  readonly synth: SynthParams
  readonly sweep: SweepParams
  readonly train: TrainParams
}

/**
 * A pipeline in TypeScript: a wrong stage name in `after:`, an unknown `uses:` or a `with:`
 * value of the wrong type is a compile error.
 */
export const definePipeline = definePipelineWith<BuiltinParams>()
export { param } from "../src/core/Pipeline.js"
