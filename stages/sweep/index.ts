/**
 * `uses: sweep` — the aggregate node of a sweep. It depends on the sweep's results table (which
 * `cairn sweep` and `cairn sweep collect` write) and publishes the best finished trial as files
 * downstream stages can depend on: its id, metric and parameters, a params file for a final run,
 * and optionally files copied out of the best trial's workspace (its model, say).
 *
 * The results table ranks trials best first, so the best trial is its first finished row with a
 * metric; the table names the trial and its parameters, so it pins everything this stage writes.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { defineStage, StageRunError } from "../../src/index.js"
import type { SweepParams } from "./params.js"
import schema from "./params.schema.json" with { type: "json" }

type Row = Readonly<Record<string, unknown>>

const resultsOf = (p: SweepParams): string => p.results ?? `.cairn/sweeps/${p.sweep}/results.json`

/** Columns that are not parameters; parameter columns are dotted keys. */
const isParamColumn = (k: string) => k.includes(".")

/** A table cell back to its value: lists and maps were written as JSON text. */
const cellValue = (v: unknown): unknown => {
  if (typeof v !== "string" || !/^[[{]/.test(v)) return v
  try {
    return JSON.parse(v)
  } catch {
    return v
  }
}

/** `{"tune.lr": 0.1}` → `{tune: {lr: 0.1}}`. */
const nest = (flat: Readonly<Record<string, unknown>>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(flat)) {
    const parts = key.split(".")
    let cur = out
    for (const p of parts.slice(0, -1)) {
      const next = cur[p]
      cur = (cur[p] = typeof next === "object" && next !== null ? next : {}) as Record<string, unknown>
    }
    cur[parts[parts.length - 1]!] = v
  }
  return out
}

export default defineStage<SweepParams>({
  name: "sweep",
  version: 1,
  description: "Publish the best trial of a sweep: id, metric, params, and files from its workspace",
  paramsSchema: schema,
  io: (p) => ({
    deps: [resultsOf(p)],
    outs: [p.output, ...(p.best_params !== undefined ? [p.best_params] : []), ...(p.artifacts ?? []).map((a) => a.to)]
  }),
  run: (ctx) =>
    Effect.gen(function*() {
      const p = ctx.params
      const fail = (message: string, cause?: unknown) => new StageRunError({ stage: ctx.stage, message, cause })
      const io = <A>(f: () => A) => Effect.try({ try: f, catch: (e) => fail((e as Error).message, e) })
      const resultsFile = ctx.resolve(resultsOf(p))
      const rows = yield* io(() => JSON.parse(fs.readFileSync(resultsFile, "utf8")) as ReadonlyArray<Row>)
      if (!Array.isArray(rows)) return yield* fail(`${resultsOf(p)} is not a sweep results table`)
      const best = rows.find((r) => r["status"] === "finished" && typeof r["metric"] === "number")
      if (best === undefined) {
        return yield* fail(`sweep ${p.sweep} has no finished trial yet: run \`cairn sweep ${p.sweep}\` (or collect its shards) first`)
      }
      const id = String(best["id"])
      const sweepDir = path.dirname(resultsFile)
      // best.json beside the table keeps values typed; the table's cells are its fallback.
      const typed = yield* io(() => {
        const f = path.join(sweepDir, "best.json")
        const b = fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, "utf8")) as { id?: string; params?: Record<string, unknown> } : undefined
        return b?.id === id ? b.params : undefined
      })
      const params = typed ?? Object.fromEntries(Object.entries(best).filter(([k]) => isParamColumn(k)).map(([k, v]) => [k, cellValue(v)]))
      const summary = { sweep: p.sweep, id, metric: best["metric"], params, key: best["key"] ?? null }
      yield* io(() => {
        const out = ctx.resolve(p.output)
        fs.mkdirSync(path.dirname(out), { recursive: true })
        fs.writeFileSync(out, JSON.stringify(summary, null, 2) + "\n")
      })
      if (p.best_params !== undefined) {
        const file = ctx.resolve(p.best_params)
        const text = /\.ya?ml$/i.test(file)
          ? (yield* Effect.tryPromise({ try: () => import("yaml"), catch: (e) => fail(String(e), e) })).stringify(nest(params))
          : JSON.stringify(nest(params), null, 2) + "\n"
        yield* io(() => {
          fs.mkdirSync(path.dirname(file), { recursive: true })
          fs.writeFileSync(file, text)
        })
      }
      const trial = path.join(sweepDir, "trials", id)
      for (const a of p.artifacts ?? []) {
        const from = path.join(trial, a.from)
        if (!fs.existsSync(from)) {
          return yield* fail(
            `${a.from} is not in the best trial's workspace (${path.relative(ctx.workspace, trial)}): ` +
              `the trial ran in another job (a shard) or its workspace was removed`
          )
        }
        yield* io(() => {
          const to = ctx.resolve(a.to)
          fs.rmSync(to, { recursive: true, force: true })
          fs.mkdirSync(path.dirname(to), { recursive: true })
          fs.cpSync(from, to, { recursive: true, dereference: true })
        })
      }
      yield* ctx.log(`best trial of ${p.sweep}: ${id} (metric ${String(best["metric"])})`)
    })
})
