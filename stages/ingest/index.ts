/**
 * `uses: ingest` — reads datasets in any supported format (prompt/completion JSONL, alpaca, chat
 * messages, self-instruct, CSV, InstructLab taxonomy trees) into one canonical JSONL file.
 */
import { Effect } from "effect"
import { defineStage } from "../../src/index.js"
import { runDataTask } from "../../src/ml/data/StageTask.js"
import type { IngestSource } from "../../src/ml/data/Ingest.js"
import type { IngestParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

/** The library's view of the params; fallbacks equal the schema defaults (a test keeps them so). */
export const ingestSources = (p: IngestParams): Array<IngestSource> =>
  p.sources.map((s) => ({ path: s.path, format: s.format ?? "auto", task: s.task }))

export default defineStage<IngestParams>({
  name: "ingest",
  version: 1,
  description: "Read datasets (JSONL, alpaca, chat, self-instruct, CSV, InstructLab taxonomy) into canonical JSONL",
  paramsSchema: schema,
  io: (p) => ({
    deps: p.sources.map((s) => s.path),
    outs: [p.out],
    metrics: p.report !== undefined ? [p.report] : []
  }),
  run: (ctx) =>
    Effect.gen(function*() {
      const p = ctx.params
      const { ingestFiles } = yield* runDataTask(ctx.stage, () => import("../../src/ml/data/Ingest.js"))
      const report = yield* runDataTask(ctx.stage, () =>
        ingestFiles(ingestSources(p), { out: ctx.resolve(p.out), report: p.report !== undefined ? ctx.resolve(p.report) : undefined }, p.onInvalid ?? "fail", ctx.workspace)
      )
      for (const s of report.sources) {
        yield* ctx.log(`${s.path}: ${s.records} record(s) as ${s.format}${s.skipped > 0 ? `, ${s.skipped} invalid skipped` : ""}`)
        for (const line of s.invalid) yield* ctx.log(`  ${line}`)
      }
      yield* ctx.log(`wrote ${report.records} record(s) in ${Object.keys(report.byTask).length} task(s) to ${p.out}`)
    })
})
