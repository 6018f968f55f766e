/**
 * The four data stages run as the engine runs them, on the shipped data in a temp workspace:
 * ingest → clean → augment → split (with replay). Checks declared io against what is written,
 * reports, failure messages, reproducibility and the absence of leakage across splits.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { Cause, Effect, Exit } from "effect"
import ingest from "../../stages/ingest/index.js"
import clean from "../../stages/clean/index.js"
import augment from "../../stages/augment/index.js"
import split from "../../stages/split/index.js"
import { resolvedParams, runStage } from "./RunStage.js"
import { readJsonl } from "../../src/ml/data/Jsonl.js"
import { groupKeys } from "../../src/ml/data/Split.js"
import type { BuiltinStage } from "../../src/index.js"

let ws = ""
const read = async (p: string) => fs.readFile(path.join(ws, p), "utf8")
const json = async (p: string) => JSON.parse(await read(p))

const withs = {
  ingest: {
    sources: [{ path: "data/instructlab-taxonomy" }, { path: "data/self-instruct/data/seed_tasks.jsonl", format: "self-instruct" }],
    out: "work/ingested.jsonl",
    report: "work/ingest-report.json"
  },
  clean: { input: "work/ingested.jsonl", out: "work/clean.jsonl", report: "work/clean-report.json", rejects: "work/rejects.jsonl", nearDedupe: { action: "group", threshold: 0.5 } },
  augment: { input: "work/clean.jsonl", out: "work/augmented.jsonl", report: "work/augment-report.json", seed: 7, synonym: { ratio: 1 }, template: { ratio: 1 } },
  split: {
    input: "work/augmented.jsonl",
    outDir: "work/split",
    seed: 3,
    replay: { datasets: [{ path: "data/old.jsonl", sampling_size: 2.0, name: "old" }], trainSamplingSize: 1 }
  }
}

const declared = <P>(stage: BuiltinStage<P>, withValue: unknown) => stage.io(resolvedParams(stage, withValue))

beforeAll(async () => {
  ws = await fs.mkdtemp(path.join(os.tmpdir(), "cairn-stages-"))
  await fs.cp("pipelines/data/instructlab-taxonomy", path.join(ws, "data/instructlab-taxonomy"), { recursive: true })
  await fs.mkdir(path.join(ws, "data/self-instruct/data"), { recursive: true })
  await fs.copyFile("pipelines/data/self-instruct/data/seed_tasks.jsonl", path.join(ws, "data/self-instruct/data/seed_tasks.jsonl"))
  await fs.writeFile(path.join(ws, "data/old.jsonl"), ['{"prompt":"old one","completion":"a"}', '{"prompt":"old two","completion":"b"}', '{"prompt":"old three","completion":"c"}'].join("\n") + "\n")
})

afterAll(() => fs.rm(ws, { recursive: true, force: true }))

describe("data stages end to end", () => {
  it("ingest reads the taxonomy and the seed tasks into canonical JSONL with workspace-relative sources", async () => {
    const logs = await runStage(ingest, ws, withs.ingest)
    const records = await readJsonl(path.join(ws, "work/ingested.jsonl"))
    expect(records).toHaveLength(201 + 175)
    expect(records[0]!.source).toMatch(/^data\/instructlab-taxonomy\/.+\/qna\.yaml$/)
    const report = await json("work/ingest-report.json")
    expect(report.sources.map((s: { records: number; format: string }) => [s.format, s.records])).toEqual([["taxonomy", 201], ["self-instruct", 175]])
    expect(report.byTask["compositional_skills/STEM/math/area"]).toBe(3)
    expect(logs.at(-1)).toBe("wrote 376 record(s) in 236 task(s) to work/ingested.jsonl")
    expect(declared(ingest, withs.ingest)).toEqual({
      deps: ["data/instructlab-taxonomy", "data/self-instruct/data/seed_tasks.jsonl"],
      outs: ["work/ingested.jsonl"],
      metrics: ["work/ingest-report.json"]
    })
  })

  it("clean writes kept records, rejects and a report; near-duplicates are grouped", async () => {
    await runStage(clean, ws, withs.clean)
    const report = await json("work/clean-report.json")
    const kept = await readJsonl(path.join(ws, "work/clean.jsonl"))
    expect(report.input).toBe(376)
    expect(report.kept).toBe(kept.length)
    expect(report.kept + Object.values(report.dropped as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(376)
    expect(report.nearDuplicateGroups).toBeGreaterThan(0) // e.g. the circle-area questions
    expect(kept.some((r) => typeof r.meta?.["group"] === "string" && r.meta["group"] !== r.id)).toBe(true)
    expect(Object.values(report.keptByTask as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(kept.length)
    expect(declared(clean, withs.clean)).toEqual({ deps: ["work/ingested.jsonl"], outs: ["work/clean.jsonl", "work/rejects.jsonl"], metrics: ["work/clean-report.json"] })
  })

  it("augment adds variants reproducibly and notes the missing endpoint", async () => {
    const logs = await runStage(augment, ws, withs.augment)
    const first = await read("work/augmented.jsonl")
    await runStage(augment, ws, { ...withs.augment, out: "work/augmented-again.jsonl", report: "work/augment-report-again.json" })
    expect(await read("work/augmented-again.jsonl")).toBe(first)
    await runStage(augment, ws, { ...withs.augment, seed: 8, out: "work/augmented-8.jsonl", report: "work/augment-report-8.json" })
    expect(await read("work/augmented-8.jsonl")).not.toBe(first)
    const report = await json("work/augment-report.json")
    expect(report.byOp.synonym.produced).toBeGreaterThan(100)
    expect(report.endpoint.status).toBe("not configured")
    expect(logs).toContain("paraphrase/backTranslation skipped: set endpoint.baseUrl and endpoint.model to enable them")
  })

  it("split keeps groups and variants on one side and mixes replay data with a manifest", async () => {
    await runStage(split, ws, withs.split)
    const parts = await Promise.all(["train", "validation", "test"].map(async (s) => ({ s, records: await readJsonl(path.join(ws, `work/split/${s}.jsonl`)) })))
    const all = parts.flatMap((p) => p.records.map((r) => ({ r, s: p.s })))
    const keys = groupKeys(all.map((x) => x.r))
    const splitOfGroup = new Map<string, string>()
    all.forEach((x, i) => {
      expect(splitOfGroup.get(keys[i]!) ?? x.s).toBe(x.s)
      splitOfGroup.set(keys[i]!, x.s)
    })
    const report = await json("work/split/split-report.json")
    expect(report.leakedGroups).toBe(0)
    expect(report.counts.train + report.counts.validation + report.counts.test).toBe(all.length)
    const manifest = await json("work/split/replay-manifest.json")
    expect(manifest.sources.map((s: { name: string; selected: number; available: number }) => [s.name, s.selected, s.available])).toEqual([
      ["train", report.counts.train, report.counts.train],
      ["old", 6, 3]
    ])
    expect((await readJsonl(path.join(ws, "work/split/train-mixed.jsonl"))).length).toBe(report.counts.train + 6)
    const io = declared(split, withs.split)
    expect(io).toEqual({
      deps: ["work/augmented.jsonl", "data/old.jsonl"],
      outs: ["work/split/train.jsonl", "work/split/validation.jsonl", "work/split/test.jsonl", "work/split/train-mixed.jsonl"],
      metrics: ["work/split/split-report.json", "work/split/replay-manifest.json"]
    })
    for (const f of [...io.outs, ...(io.metrics ?? [])]) await expect(fs.stat(path.join(ws, f))).resolves.toBeDefined()
  })

  it("fails with a StageRunError listing file:line: field: reason for bad input", async () => {
    await fs.writeFile(path.join(ws, "data/bad.jsonl"), '{"prompt":"a","completion":"b"}\n{"prompt":"no completion"}\n')
    const params = resolvedParams(ingest, { sources: [{ path: "data/bad.jsonl" }], out: "work/bad.jsonl" })
    const exit = await Effect.runPromiseExit(ingest.run({
      stage: "ingest-bad",
      params,
      workspace: ws,
      resolve: (p) => path.resolve(ws, p),
      log: () => Effect.void,
      progress: () => Effect.void
    }))
    expect(Exit.isFailure(exit)).toBe(true)
    const error = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
    expect(error).toMatchObject({ _tag: "StageRunError", stage: "ingest-bad" })
    expect((error as Error).message).toContain("data/bad.jsonl:2: completion: missing required field")
    // with skip, the bad record is counted instead
    const logs = await runStage(ingest, ws, { sources: [{ path: "data/bad.jsonl" }], out: "work/bad.jsonl", onInvalid: "skip" })
    expect(logs[0]).toBe("data/bad.jsonl: 1 record(s) as jsonl, 1 invalid skipped")
    expect(logs[1]).toBe("  data/bad.jsonl:2: completion: missing required field")
  })
})

describe("stage declarations", () => {
  it("import only cheap modules at the top level (heavy ones are loaded inside run)", async () => {
    const allowed = [/^effect$/, /^\.\.\/\.\.\/src\/index\.js$/, /^\.\.\/\.\.\/src\/ml\/data\/StageTask\.js$/, /^\.\/params\.js$/, /^\.\/params\.schema\.json$/]
    for (const name of ["ingest", "clean", "augment", "split"]) {
      const source = await fs.readFile(`stages/${name}/index.ts`, "utf8")
      const imports = [...source.matchAll(/^import (type )?[^"]*"([^"]+)"/gm)].filter((m) => m[1] === undefined).map((m) => m[2]!)
      for (const spec of imports) expect(allowed.some((re) => re.test(spec)), `${name} imports ${spec}`).toBe(true)
    }
  })

  it("carry a name, a version and a schema", () => {
    for (const [name, stage] of Object.entries({ ingest, clean, augment, split })) {
      expect(stage.name).toBe(name)
      expect(stage.version).toBeGreaterThanOrEqual(1)
      expect(stage.paramsSchema["title"]).toBe(`${name[0]!.toUpperCase()}${name.slice(1)}Params`)
    }
  })
})
