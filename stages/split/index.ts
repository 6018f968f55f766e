/**
 * `uses: split` — seeded train/validation/test split, stratified by task, keeping near-duplicate
 * groups and augmented variants with their source record; optionally mixes replay data into the
 * train split from an InstructLab-style recipe and writes a manifest with sha256 of every input
 * and of the output.
 */
import { Effect } from "effect"
import { defineStage } from "../../src/index.js"
import { runDataTask } from "../../src/ml/data/StageTask.js"
import type { SplitOptions } from "../../src/ml/data/Split.js"
import type { SplitParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

/** Files the stage writes under `outDir` (workspace-relative). */
export const splitOutputs = (outDir: string) => {
  const dir = outDir.replace(/\/+$/, "")
  return {
    train: `${dir}/train.jsonl`,
    validation: `${dir}/validation.jsonl`,
    test: `${dir}/test.jsonl`,
    report: `${dir}/split-report.json`,
    mixed: `${dir}/train-mixed.jsonl`,
    manifest: `${dir}/replay-manifest.json`
  }
}

/** The library's view of the params; fallbacks equal the schema defaults (a test keeps them so). */
export const splitOptions = (p: SplitParams): SplitOptions => ({
  seed: p.seed ?? 0,
  ratios: { train: p.ratios?.train ?? 0.8, validation: p.ratios?.validation ?? 0.1, test: p.ratios?.test ?? 0.1 },
  counts: p.counts !== undefined ? { validation: p.counts.validation ?? 0, test: p.counts.test ?? 0 } : undefined,
  stratify: p.stratify ?? true
})

export default defineStage<SplitParams>({
  name: "split",
  version: 2,
  description: "Seeded, stratified, group-aware train/validation/test split with replay mixing",
  paramsSchema: schema,
  io: (p) => {
    const out = splitOutputs(p.outDir)
    return {
      deps: [p.input, ...(p.replay?.datasets.map((d) => d.path) ?? [])],
      outs: [out.train, out.validation, out.test, ...(p.replay !== undefined ? [out.mixed] : [])],
      metrics: [out.report, ...(p.replay !== undefined ? [out.manifest] : [])]
    }
  },
  run: (ctx) =>
    Effect.gen(function*() {
      const p = ctx.params
      const out = splitOutputs(p.outDir)
      const options = splitOptions(p)
      const { splitFiles } = yield* runDataTask(ctx.stage, () => import("../../src/ml/data/Split.js"))
      const { result, report } = yield* runDataTask(ctx.stage, () =>
        splitFiles({
          input: ctx.resolve(p.input),
          train: ctx.resolve(out.train),
          validation: ctx.resolve(out.validation),
          test: ctx.resolve(out.test),
          report: ctx.resolve(out.report)
        }, options)
      )
      yield* ctx.log(`train ${report.counts.train}, validation ${report.counts.validation}, test ${report.counts.test} (${report.groups} group(s), ${report.multiRecordGroups} with several records)`)
      const replay = p.replay
      if (replay === undefined) return
      const { replayFiles } = yield* runDataTask(ctx.stage, () => import("../../src/ml/data/Replay.js"))
      const manifest = yield* runDataTask(ctx.stage, () =>
        replayFiles(
          { path: out.train, records: result.splits.train, samplingSize: replay.trainSamplingSize ?? 1 },
          replay.datasets.map((d) => ({ path: d.path, sampling_size: d.sampling_size, name: d.name, format: d.format ?? "auto" })),
          { out: out.mixed, manifest: out.manifest },
          options.seed,
          ctx.resolve
        )
      )
      for (const s of manifest.sources) yield* ctx.log(`replay ${s.name}: ${s.selected} of ${s.available}`)
      yield* ctx.log(`wrote ${manifest.output.records} record(s) to ${out.mixed}`)
    })
})
