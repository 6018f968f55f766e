/**
 * `uses: train` — instruction fine-tuning of a model directory (a pretrain output or a Hugging
 * Face GPT-2 checkpoint): full, or LoRA written as a PEFT adapter or merged into the weights.
 * Runs in its own process (TensorFlow.js) and resumes from its checkpoints when a killed run is
 * started again (src/ml/stages/Scratch.ts).
 */
import { defineStage } from "../../src/index.js"
import type { FineTuneOptions } from "../../src/ml/stages/FineTune.js"
import { type StagePlace, trainingIo, trainingStageOptions } from "../../src/ml/stages/Settings.js"
import { runMlTask } from "../../src/ml/stages/StageTask.js"
import type { TrainParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

const VERSION = 1

/** The library's view of the params; fallbacks equal the schema defaults. */
export const trainOptions = (p: TrainParams, at: StagePlace): FineTuneOptions => ({
  ...trainingStageOptions({ name: "train", version: VERSION }, p, at, { seqLen: 128, batchSize: 8, lr: 0.0002, warmupSteps: 10, minLrRatio: 0 }),
  baseModel: at.resolve(p.baseModel),
  baseModelName: p.baseModel,
  trainOnInputs: p.trainOnInputs ?? false,
  adapter: {
    type: p.adapter?.type ?? "none",
    r: p.adapter?.r ?? 8,
    alpha: p.adapter?.alpha ?? 16,
    dropout: p.adapter?.dropout ?? 0,
    targetModules: p.adapter?.targetModules ?? ["q", "v"]
  },
  merge: p.merge ?? false
})

export default defineStage<TrainParams>({
  name: "train",
  version: VERSION,
  description: "Instruction fine-tuning (full or LoRA) of a model directory",
  paramsSchema: schema,
  isolated: true,
  gpu: true,
  io: (p) => trainingIo(p, { first: [p.baseModel] }),
  run: (ctx) =>
    runMlTask(ctx, (hooks) => import("../../src/ml/stages/FineTune.js").then((m) => m.fineTune(trainOptions(ctx.params, ctx), hooks)))
})
