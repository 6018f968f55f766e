/**
 * `uses: synth` — a family of synthetic instruction tasks (see src/ml/data/Synthetic.ts), the
 * raw material of the forgetting experiment: seeded, so the same params give the same bytes.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { defineStage, StageRunError } from "../../src/index.js"
import { generateTasks, type SyntheticTask } from "../../src/ml/data/Synthetic.js"
import type { SynthParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

export default defineStage<SynthParams>({
  name: "synth",
  version: 1,
  description: "Generate seeded synthetic instruction tasks",
  paramsSchema: schema,
  io: (p) => ({ deps: [], outs: [p.output] }),
  run: (ctx) =>
    Effect.try({
      try: () => {
        const p = ctx.params
        const records = generateTasks({
          tasks: p.tasks as ReadonlyArray<SyntheticTask>,
          perTask: p.perTask ?? 400,
          minLength: p.minLength ?? 3,
          maxLength: p.maxLength ?? 5,
          alphabet: p.alphabet ?? "abcdefghij",
          seed: p.seed ?? 0,
          source: `synth:${ctx.stage}`
        })
        const out = ctx.resolve(p.output)
        fs.mkdirSync(path.dirname(out), { recursive: true })
        fs.writeFileSync(out, records.map((r) => JSON.stringify(r)).join("\n") + "\n")
        return records.length
      },
      catch: (e) => new StageRunError({ stage: ctx.stage, message: (e as Error).message })
    }).pipe(Effect.flatMap((n) => ctx.log(`wrote ${n} records to ${ctx.params.output}`)))
})
