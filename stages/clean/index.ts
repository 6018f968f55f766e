/**
 * `uses: clean` — normalises text, scrubs PII, applies a blocklist and length filters, removes
 * exact duplicates and near-duplicates (MinHash + LSH), and reports what it dropped and why.
 */
import { Effect } from "effect"
import { defineStage } from "../../src/index.js"
import { runDataTask } from "../../src/ml/data/StageTask.js"
import type { CleanOptions } from "../../src/ml/data/Clean.js"
import type { CleanParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

/** The library's view of the params; fallbacks equal the schema defaults (a test keeps them so). */
export const cleanOptions = (p: CleanParams): CleanOptions => ({
  normalize: p.normalize ?? true,
  length: {
    minChars: p.length?.minChars,
    maxChars: p.length?.maxChars,
    minTokens: p.length?.minTokens,
    maxTokens: p.length?.maxTokens,
    tokenPattern: p.length?.tokenPattern ?? "\\S+"
  },
  dedupe: { exact: p.dedupe?.exact ?? true },
  nearDedupe: {
    enabled: p.nearDedupe?.enabled ?? true,
    shingleSize: p.nearDedupe?.shingleSize ?? 3,
    threshold: p.nearDedupe?.threshold ?? 0.8,
    numPerm: p.nearDedupe?.numPerm ?? 128,
    bands: p.nearDedupe?.bands ?? 16,
    seed: p.nearDedupe?.seed ?? 0,
    action: p.nearDedupe?.action ?? "drop"
  },
  pii: { enabled: p.pii?.enabled ?? true, kinds: p.pii?.kinds ?? ["email", "ipv6", "ipv4", "credit_card", "phone"] },
  blocklist: { words: p.blocklist?.words ?? [], patterns: p.blocklist?.patterns ?? [] },
  reportExamples: p.reportExamples ?? 3
})

export default defineStage<CleanParams>({
  name: "clean",
  version: 2,
  description: "Normalise, scrub PII, filter, and remove exact and near-duplicate records",
  paramsSchema: schema,
  io: (p) => ({
    deps: [p.input, ...(p.blocklist?.file !== undefined ? [p.blocklist.file] : [])],
    outs: [p.out, ...(p.rejects !== undefined ? [p.rejects] : [])],
    metrics: [p.report]
  }),
  run: (ctx) =>
    Effect.gen(function*() {
      const p = ctx.params
      const { cleanFiles } = yield* runDataTask(ctx.stage, () => import("../../src/ml/data/Clean.js"))
      const report = yield* runDataTask(ctx.stage, () =>
        cleanFiles({
          input: ctx.resolve(p.input),
          out: ctx.resolve(p.out),
          report: ctx.resolve(p.report),
          rejects: p.rejects !== undefined ? ctx.resolve(p.rejects) : undefined,
          blocklistFile: p.blocklist?.file !== undefined ? ctx.resolve(p.blocklist.file) : undefined
        }, cleanOptions(p))
      )
      const dropped = Object.entries(report.dropped).filter(([, n]) => n > 0).map(([reason, n]) => `${reason} ${n}`)
      yield* ctx.log(`kept ${report.kept} of ${report.input} record(s)${dropped.length > 0 ? `; dropped ${dropped.join(", ")}` : ""}`)
      if (report.modified.piiScrubbed > 0) yield* ctx.log(`PII scrubbed in ${report.modified.piiScrubbed} record(s)`)
    })
})
