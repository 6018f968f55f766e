/**
 * `uses: pretrain` — a small GPT-2 trained from scratch on a corpus of records, with a
 * byte-level BPE tokenizer trained on the same corpus; the base model of the forgetting
 * experiment and of smoke-scale demos. Runs in its own process (TensorFlow.js) and resumes
 * from its checkpoints when a killed run is started again (src/ml/stages/Scratch.ts).
 */
import { defineStage } from "../../src/index.js"
import type { PretrainOptions } from "../../src/ml/stages/Pretrain.js"
import { trainingFiles, trainingSettings } from "../../src/ml/stages/Settings.js"
import { runMlTask } from "../../src/ml/stages/StageTask.js"
import type { PretrainParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

const VERSION = 1

/** Where the stage runs: names and paths it needs besides its params. */
export interface StagePlace {
  readonly stage: string
  readonly workspace: string
  readonly resolve: (relative: string) => string
}

/** The library's view of the params; fallbacks equal the schema defaults. */
export const pretrainOptions = (p: PretrainParams, at: StagePlace): PretrainOptions => {
  const files = trainingFiles(p.out, p.metrics, p.curve)
  const settings = trainingSettings(p, { seqLen: 64, batchSize: 16, lr: 0.003, warmupSteps: 20, minLrRatio: 0.1 })
  return {
    workspace: at.workspace,
    stage: at.stage,
    key: { builtin: "pretrain", version: VERSION, params: p },
    datasets: p.datasets.map((d) => ({ path: at.resolve(d.path), name: d.path, ...(d.weight === undefined ? {} : { weight: d.weight }) })),
    ...(p.validation === undefined ? {} : { validation: at.resolve(p.validation) }),
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
      nPositions: p.model?.nPositions ?? settings.seqLen,
      dropout: p.model?.dropout ?? 0
    },
    settings,
    backend: p.backend ?? "auto",
    threads: p.threads ?? 1,
    out: at.resolve(p.out),
    metrics: at.resolve(files.metrics),
    curve: at.resolve(files.curve)
  }
}

export default defineStage<PretrainParams>({
  name: "pretrain",
  version: VERSION,
  description: "Train a small GPT-2 and its BPE tokenizer from scratch on a corpus",
  paramsSchema: schema,
  isolated: true,
  gpu: true,
  io: (p) => {
    const files = trainingFiles(p.out, p.metrics, p.curve)
    return {
      deps: [...p.datasets.map((d) => d.path), ...(p.validation === undefined ? [] : [p.validation]), ...(p.tokenizer?.path === undefined ? [] : [p.tokenizer.path])],
      outs: [p.out, files.curve],
      metrics: [files.metrics]
    }
  },
  run: (ctx) =>
    runMlTask(ctx, (hooks) => import("../../src/ml/stages/Pretrain.js").then((m) => m.pretrain(pretrainOptions(ctx.params, ctx), hooks)))
})
