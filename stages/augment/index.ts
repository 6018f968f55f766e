/**
 * `uses: augment` — seeded, reproducible data augmentation: EDA word operations with WordNet 3.1
 * synonyms, keyboard typos, instruction templates, and paraphrase/back-translation through an
 * OpenAI-compatible endpoint when one is configured. Originals are kept.
 */
import { Effect } from "effect"
import { defineStage } from "../../src/index.js"
import { runDataTask } from "../../src/ml/data/StageTask.js"
import type { AugmentOptions } from "../../src/ml/data/augment/Augment.js"
import type { AugmentParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

/** The library's view of the params; fallbacks equal the schema defaults (a test keeps them so). */
export const augmentOptions = (p: AugmentParams): AugmentOptions => ({
  seed: p.seed ?? 0,
  fields: p.fields ?? ["prompt"],
  synonym: { ratio: p.synonym?.ratio ?? 0.5, alpha: p.synonym?.alpha ?? 0.1 },
  insert: { ratio: p.insert?.ratio ?? 0.25, alpha: p.insert?.alpha ?? 0.1 },
  swap: { ratio: p.swap?.ratio ?? 0.25, alpha: p.swap?.alpha ?? 0.1 },
  delete: { ratio: p.delete?.ratio ?? 0.25, p: p.delete?.p ?? 0.1 },
  charNoise: { ratio: p.charNoise?.ratio ?? 0.25, p: p.charNoise?.p ?? 0.03, kinds: p.charNoise?.kinds ?? ["neighbor", "omit", "transpose"] },
  template: { ratio: p.template?.ratio ?? 0.25, templates: p.template?.templates ?? (schema.properties.template.properties.templates.default as Array<string>) },
  paraphrase: { ratio: p.paraphrase?.ratio ?? 0.25 },
  backTranslation: { ratio: p.backTranslation?.ratio ?? 0.25, pivotLanguage: p.backTranslation?.pivotLanguage ?? "French" },
  endpoint: {
    baseUrl: p.endpoint?.baseUrl,
    model: p.endpoint?.model,
    apiKeyEnv: p.endpoint?.apiKeyEnv,
    temperature: p.endpoint?.temperature ?? 0,
    timeoutMs: p.endpoint?.timeoutMs ?? 60000,
    concurrency: p.endpoint?.concurrency ?? 4,
    onError: p.endpoint?.onError ?? "fail"
  },
  reportExamples: p.reportExamples ?? 2
})

export default defineStage<AugmentParams>({
  name: "augment",
  version: 1,
  description: "Seeded augmentation: WordNet synonyms, EDA, typos, templates, endpoint paraphrase",
  paramsSchema: schema,
  io: (p) => ({ deps: [p.input], outs: [p.out], metrics: [p.report] }),
  // Requests to the endpoint go out from a stage process, with the user's whole environment.
  isolated: (p) => p.endpoint?.baseUrl !== undefined,
  run: (ctx) =>
    Effect.gen(function*() {
      const p = ctx.params
      const { augmentFiles } = yield* runDataTask(ctx.stage, () => import("../../src/ml/data/augment/Augment.js"))
      const report = yield* runDataTask(ctx.stage, () =>
        augmentFiles({ input: ctx.resolve(p.input), out: ctx.resolve(p.out), report: ctx.resolve(p.report) }, augmentOptions(p))
      )
      const produced = Object.entries(report.byOp).filter(([, r]) => r.produced > 0).map(([op, r]) => `${op} ${r.produced}`)
      yield* ctx.log(`${report.input} record(s) + ${report.augmented} variant(s)${produced.length > 0 ? ` (${produced.join(", ")})` : ""}`)
      if (report.endpoint.status !== "used") yield* ctx.log(report.endpoint.note)
    })
})
