/**
 * What a sweep leaves for people and for CI after `cairn sweep` and `cairn sweep collect`: the
 * ranked table (CSV, JSON, Markdown) and `best.json` in `.cairn/sweeps/<sweep>/`, a
 * parallel-coordinates plot and one metric-vs-parameter scatter per numeric parameter (SVG), and
 * the Markdown summary appended to `$GITHUB_STEP_SUMMARY` when a CI job sets it.
 *
 * Charts come from `src/report/Plots.ts`, loaded on demand; when it (or vega) cannot be loaded
 * the charts are skipped with a note, and the tables are written all the same.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { Effect } from "effect"
import { StoreError } from "../core/Errors.js"
import type { TrialState } from "./Journal.js"
import { summaryMarkdown, writeResults } from "./Results.js"
import type { SweepSpec } from "./SweepSpec.js"

export interface Published {
  readonly files: ReadonlyArray<string>
  /** Things the user should know (charts skipped, summary not written). */
  readonly notes: ReadonlyArray<string>
}

const LOG_DISTRIBUTIONS = new Set(["log_uniform_values", "q_log_uniform_values"])

/** Parameter keys whose values are numbers in every trial that has a metric. */
const numericKeys = (rows: ReadonlyArray<TrialState>): ReadonlyArray<string> => {
  const keys = [...new Set(rows.flatMap((t) => Object.keys(t.params)))].sort()
  return keys.filter((k) => rows.every((t) => typeof t.params[k] === "number" && Number.isFinite(t.params[k])))
}

const fileSafe = (key: string): string => key.replace(/[^A-Za-z0-9_.-]/g, "_")

const failure = (e: unknown): string => String((e as Error | undefined)?.message ?? e)

/** A promise-returning step whose rejection becomes a reason to skip charts. */
const attempt = <A>(f: () => Promise<A>) => Effect.tryPromise({ try: f, catch: failure })

const writeCharts = (dir: string, state: ReadonlyMap<string, TrialState>, spec: SweepSpec) =>
  Effect.gen(function*() {
    const rows = [...state.values()].filter((t) => typeof t.metric === "number" && Number.isFinite(t.metric))
    const keys = numericKeys(rows)
    if (rows.length === 0 || keys.length === 0) return []
    const plots = yield* attempt(() => import("../report/Plots.js"))
    const data = rows.map((t) => ({ ...t.params, [spec.metric.name]: t.metric!, status: t.status }))
    const logDims = spec.parameters.filter((p) => LOG_DISTRIBUTIONS.has(p.distribution)).map((p) => p.key)
    const charts: Array<readonly [string, () => Promise<string>]> = [
      [
        path.join(dir, "parallel.svg"),
        () =>
          plots.parallelCoordinatesSvg(data, [...keys, spec.metric.name], spec.metric.name, {
            title: `${spec.name}: ${spec.metric.name} (${spec.metric.goal})`,
            logDims
          })
      ],
      ...keys.map((k) =>
        [
          path.join(dir, `scatter-${fileSafe(k)}.svg`),
          () => plots.scatterSvg(data, k, spec.metric.name, { title: `${spec.metric.name} vs ${k}`, color: "status", logX: logDims.includes(k) })
        ] as const
      )
    ]
    for (const [file, render] of charts) {
      const svg = yield* attempt(render)
      yield* Effect.try({ try: () => fs.writeFileSync(file, svg), catch: failure })
    }
    return charts.map(([file]) => file)
  })

/** Appends the Markdown summary to `$GITHUB_STEP_SUMMARY` when a CI job sets it; returns notes. */
export const appendStepSummary = (state: ReadonlyMap<string, TrialState>, spec: SweepSpec) =>
  Effect.suspend(() => {
    const summary = process.env.GITHUB_STEP_SUMMARY
    if (summary === undefined || summary === "") return Effect.succeed([] as ReadonlyArray<string>)
    return attempt(() => summaryMarkdown(state, spec)).pipe(
      Effect.flatMap((markdown) => Effect.try({ try: () => fs.appendFileSync(summary, markdown + "\n\n"), catch: failure })),
      Effect.as([] as ReadonlyArray<string>),
      Effect.catch((reason) => Effect.succeed([`GITHUB_STEP_SUMMARY not written: ${reason}`]))
    )
  })

/** Writes every artefact of the sweep's current state into `dir`. */
export const publishResults = (dir: string, state: ReadonlyMap<string, TrialState>, spec: SweepSpec) =>
  Effect.gen(function*() {
    const tables = yield* Effect.tryPromise({
      try: () => writeResults(dir, state, spec),
      catch: (e) => new StoreError({ path: dir, reason: `cannot write sweep results: ${failure(e)}` })
    })
    const notes: Array<string> = []
    const charts = yield* writeCharts(dir, state, spec).pipe(
      Effect.catch((reason) => Effect.sync(() => notes.push(`charts skipped: ${reason}`)).pipe(Effect.as([] as ReadonlyArray<string>)))
    )
    notes.push(...yield* appendStepSummary(state, spec))
    const files = [tables.csv, tables.json, tables.markdown, ...(tables.best !== undefined ? [tables.best] : []), ...charts]
    return { files, notes } satisfies Published
  })
