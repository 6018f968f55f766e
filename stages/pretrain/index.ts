/**
 * `uses: pretrain` — a small GPT-2 trained from scratch on a corpus of records, with a
 * byte-level BPE tokenizer trained on the same corpus; the base model of the forgetting
 * experiment and of smoke-scale demos. Runs in its own process (TensorFlow.js) and resumes
 * from its checkpoints when a killed run is started again (src/ml/stages/Scratch.ts).
 */
import { defineStage } from "../../src/index.js"
import type { PretrainOptions } from "../../src/ml/stages/Pretrain.js"
import { type StagePlace, trainingIo, trainingStageOptions } from "../../src/ml/stages/Settings.js"
import { runMlTask } from "../../src/ml/stages/StageTask.js"
import type { PretrainParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

const VERSION = 1

/** The library's view of the params; fallbacks equal the schema defaults. */
export const pretrainOptions = (p: PretrainParams, at: StagePlace): PretrainOptions => {
  const common = trainingStageOptions({ name: "pretrain", version: VERSION }, p, at, { seqLen: 64, batchSize: 16, lr: 0.003, warmupSteps: 20, minLrRatio: 0.1 })
  return {
    ...common,
    tokenizer: {
      ...(p.tokenizer?.path === undefined ? {} : { path: at.resolve(p.tokenizer.path) }),
      vocabSize: p.tokenizer?.vocabSize ?? 512,
      minFrequency: p.tokenizer?.minFrequency ?? 2
    },
    format: p.format ?? "instruction",
    trainOnInputs: p.trainOnInputs ?? false,
    model: {
      nEmbd: p.model?.nEmbd ?? 64,
      nLayer: p.model?.nLayer ?? 2,
      nHead: p.model?.nHead ?? 4,
      nPositions: p.model?.nPositions ?? common.settings.seqLen,
      dropout: p.model?.dropout ?? 0
    }
  }
}

export default defineStage<PretrainParams>({
  name: "pretrain",
  version: VERSION,
  description: "Train a small GPT-2 and its BPE tokenizer from scratch on a corpus",
  paramsSchema: schema,
  isolated: true,
  gpu: true,
  io: (p) => trainingIo(p, { last: p.tokenizer?.path === undefined ? [] : [p.tokenizer.path] }),
  run: (ctx) =>
    runMlTask(ctx, (hooks) => import("../../src/ml/stages/Pretrain.js").then((m) => m.pretrain(pretrainOptions(ctx.params, ctx), hooks)))
})
