/**
 * `uses: concat` — the smallest built-in stage: joins text files. It exists so pipelines can
 * glue small artefacts together without a shell, and so the built-in path (schema validation,
 * io from params, versioned key) is exercised end to end.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { defineStage, StageRunError } from "../../src/index.js"
import type { ConcatParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

export default defineStage<ConcatParams>({
  name: "concat",
  version: 1,
  description: "Concatenate text files into one",
  paramsSchema: schema,
  io: (p) => ({ deps: p.inputs, outs: [p.output] }),
  run: (ctx) =>
    Effect.try({
      try: () => {
        const parts = ctx.params.inputs.map((f) => fs.readFileSync(ctx.resolve(f), "utf8"))
        const body = parts.join(ctx.params.separator ?? "")
        const out = ctx.resolve(ctx.params.output)
        fs.mkdirSync(path.dirname(out), { recursive: true })
        fs.writeFileSync(out, ctx.params.header !== undefined ? `${ctx.params.header}\n${body}` : body)
        return parts.length
      },
      catch: (e) => new StageRunError({ stage: ctx.stage, message: (e as Error).message })
    }).pipe(Effect.flatMap((n) => ctx.log(`concatenated ${n} file(s) into ${ctx.params.output}`)))
})
