/**
 * The evaluate stage on tiny models in a temp workspace: the files it writes, compare mode and
 * the forgetting report, the forgetting table's arithmetic, and golden outputs of the three ML
 * stages — a tiny deterministic pretrain → train → evaluate on the cpu backend, hashed together
 * with the stages' versions, so an output change without a version bump fails here.
 */
import { beforeAll, afterAll, describe, expect, it } from "vitest"
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { validateStageParams } from "../../src/config/ParamsValidation.js"
import { generateTasks } from "../../src/ml/data/Synthetic.js"
import { forgettingMarkdown, forgettingReport } from "../../src/ml/eval/Forgetting.js"
import pretrain from "../../stages/pretrain/index.js"
import train from "../../stages/train/index.js"
import evaluate, { evaluateOptions } from "../../stages/evaluate/index.js"
import { runStage } from "./RunStage.js"

let ws = ""
const file = (rel: string) => path.join(ws, rel)
const json = (rel: string) => JSON.parse(fs.readFileSync(file(rel), "utf8"))

const writeJsonl = (rel: string, records: ReadonlyArray<object>) => {
  fs.mkdirSync(path.dirname(file(rel)), { recursive: true })
  fs.writeFileSync(file(rel), records.map((r) => JSON.stringify(r)).join("\n") + "\n")
}

const family = (tasks: Array<"copy" | "upper" | "reverse" | "shift">, seed: number) =>
  generateTasks({ tasks, perTask: 24, minLength: 3, maxLength: 3, alphabet: "abcdef", seed, source: "test" })

const tiny = { seqLen: 12, batchSize: 8, backend: "cpu", seed: 5 }

/** The deterministic run behind the golden hashes (and the other tests' models). */
beforeAll(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-evaluate-"))
  const a = family(["copy", "upper"], 1)
  const b = family(["reverse", "shift"], 2)
  writeJsonl("data/a-train.jsonl", a.filter((_, i) => i % 4 !== 0))
  writeJsonl("data/a-test.jsonl", a.filter((_, i) => i % 4 === 0))
  writeJsonl("data/b-train.jsonl", b.filter((_, i) => i % 4 !== 0))
  writeJsonl("data/b-test.jsonl", b.filter((_, i) => i % 4 === 0))
  await runStage(pretrain, ws, {
    ...tiny,
    datasets: [{ path: "data/a-train.jsonl" }],
    out: "work/base",
    tokenizer: { vocabSize: 262 },
    model: { nEmbd: 8, nLayer: 1, nHead: 2 },
    maxSteps: 5,
    lr: 0.01
  })
  const tune = { ...tiny, baseModel: "work/base", datasets: [{ path: "data/b-train.jsonl" }, { path: "data/a-train.jsonl", weight: 0.25 }], maxSteps: 3, lr: 0.01 }
  await runStage(train, ws, { ...tune, out: "work/full" })
  await runStage(train, ws, { ...tune, out: "work/lora", adapter: { type: "lora", r: 2, alpha: 4 } })
  await runStage(evaluate, ws, {
    models: [{ name: "base", path: "work/base" }, { name: "full", path: "work/full" }, { name: "lora", path: "work/lora", base: "work/base" }],
    testSets: [{ name: "A", path: "data/a-test.jsonl" }, { name: "B", path: "data/b-test.jsonl" }],
    metrics: ["rouge", "bleu", "chrf", "squad", "exact", "perplexity"],
    generation: { maxNewTokens: 4 },
    bootstrap: { samples: 50, seed: 1 },
    compare: { baseline: "base" },
    forgetting: { old: ["A"], new: ["B"], metrics: ["exact", "chrf", "perplexity"] },
    trainingCurves: [{ name: "pretrain", path: "work/base.metrics.jsonl" }, { name: "full", path: "work/full.metrics.jsonl" }],
    backend: "cpu",
    outDir: "work/eval"
  })
}, 120_000)

afterAll(() => fs.rmSync(ws, { recursive: true, force: true }))

describe("evaluate stage", () => {
  it("writes metrics (overall and per task, with intervals), predictions, a summary and plots", () => {
    expect(fs.readdirSync(file("work/eval")).sort()).toEqual([
      "forgetting.json", "forgetting.md", "forgetting.svg", "loss-curve.svg", "metric-bars.svg", "metrics.json", "predictions.jsonl", "summary.md"
    ])
    const metrics = json("work/eval/metrics.json")
    const a = metrics.models.full.sets.A
    expect(a.n).toBe(12)
    expect(Object.keys(a.metrics)).toEqual(["rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf", "squad_em", "squad_f1", "exact", "perplexity"])
    expect(Object.keys(a.tasks)).toEqual(["copy", "upper"])
    expect(a.tasks.copy.n).toBe(6)
    for (const m of ["exact", "chrf", "perplexity"]) {
      expect(a.intervals[m].low).toBeLessThanOrEqual(a.metrics[m])
      expect(a.intervals[m].high).toBeGreaterThanOrEqual(a.metrics[m])
    }
    expect(a.metrics.perplexity).toBeGreaterThan(1)
    expect(metrics.signatures.perplexity).toMatch(/exp\(total NLL \/ total completion tokens\)/)
    expect(metrics.signatures.bleu).toMatch(/^nrefs:1\|case:mixed/)

    const predictions = fs.readFileSync(file("work/eval/predictions.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l))
    expect(predictions).toHaveLength(3 * 24)
    expect(Object.keys(predictions[0])).toEqual(["model", "set", "id", "task", "prompt", "reference", "prediction", "finish", "scores"])
    expect(Object.keys(predictions[0].scores)).toEqual(expect.arrayContaining(["exact", "chrf", "rougeL", "nll", "tokens"]))

    const summary = fs.readFileSync(file("work/eval/summary.md"), "utf8")
    expect(summary).toMatch(/^# Evaluation/)
    expect(summary).toMatch(/## A \(12 examples\)/)
    expect(summary).toMatch(/## Compared with base/)
    for (const svg of ["metric-bars.svg", "loss-curve.svg", "forgetting.svg"]) expect(fs.readFileSync(file(`work/eval/${svg}`), "utf8")).toMatch(/^<svg/)
  })

  it("compare mode reports deltas against the baseline; the forgetting table has gained and lost columns", () => {
    const metrics = json("work/eval/metrics.json")
    expect(metrics.compare.baseline).toBe("base")
    expect(Object.keys(metrics.compare.deltas)).toEqual(["full", "lora"])
    const delta = metrics.compare.deltas.full.B.perplexity
    expect(delta).toBeCloseTo(metrics.models.full.sets.B.metrics.perplexity - metrics.models.base.sets.B.metrics.perplexity, 10)

    const report = json("work/eval/forgetting.json")
    expect(report).toMatchObject({ baseline: "base", old: ["A"], new: ["B"] })
    expect(report.rows.map((r: { model: string; metric: string }) => `${r.model}:${r.metric}`)).toEqual([
      "full:exact", "full:chrf", "full:perplexity", "lora:exact", "lora:chrf", "lora:perplexity"
    ])
    const row = report.rows.find((r: { model: string; metric: string }) => r.model === "full" && r.metric === "perplexity")
    // Perplexity: lower is better, so what was gained on B is baseline − tuned.
    expect(row.gained).toBeCloseTo(metrics.models.base.sets.B.metrics.perplexity - metrics.models.full.sets.B.metrics.perplexity, 10)
    expect(row.lost).toBeCloseTo(metrics.models.full.sets.A.metrics.perplexity - metrics.models.base.sets.A.metrics.perplexity, 10)
    const table = fs.readFileSync(file("work/eval/forgetting.md"), "utf8")
    expect(table).toMatch(/\| model \| metric \| old: base → tuned \| new: base → tuned \| gained \| lost \|/)
    expect(table.split("\n").filter((l) => /^\| (full|lora) \|/.test(l))).toHaveLength(6)
  })

  it("the forgetting table signs gains and losses by the metric's direction", () => {
    const report = forgettingReport(
      {
        base: { old: { exact: 0.9, perplexity: 1.5 }, new: { exact: 0.1, perplexity: 40 } },
        tuned: { old: { exact: 0.4, perplexity: 6 }, new: { exact: 0.8, perplexity: 2 } }
      },
      { baseline: "base", old: ["old"], new: ["new"], metrics: ["exact", "perplexity"] }
    )
    expect(report.rows).toEqual([
      { model: "tuned", metric: "exact", oldBaseline: 0.9, oldTuned: 0.4, newBaseline: 0.1, newTuned: 0.8, gained: 0.7000000000000001, lost: 0.5 },
      { model: "tuned", metric: "perplexity", oldBaseline: 1.5, oldTuned: 6, newBaseline: 40, newTuned: 2, gained: 38, lost: 4.5 }
    ])
    expect(forgettingMarkdown(report)).toContain("| tuned | exact | 0.900 → 0.400 | 0.100 → 0.800 | +0.700 | +0.500 |")
  })

  it("rejects names that refer to nothing before loading any model", async () => {
    const run = runStage(evaluate, ws, {
      models: [{ name: "base", path: "work/base" }],
      testSets: [{ name: "A", path: "data/a-test.jsonl" }],
      compare: { baseline: "tuned" },
      outDir: "work/bad"
    })
    await expect(run).rejects.toThrow(/compare.baseline: no model named tuned/)
  })

  it("declares every file it writes; option fallbacks equal the schema defaults", () => {
    const bare = { models: [{ name: "m", path: "m" }, { name: "a", path: "a", base: "m" }], testSets: [{ name: "t", path: "t.jsonl" }], outDir: "e" }
    const filled = validateStageParams(evaluate.name, evaluate.paramsSchema, bare).value as typeof bare
    const at = { resolve: (r: string) => `/ws/${r}` }
    expect(evaluateOptions(bare, at)).toEqual(evaluateOptions(filled, at))
    expect(evaluate.io(filled)).toEqual({
      deps: ["m", "a", "t.jsonl"],
      outs: ["e/predictions.jsonl", "e/summary.md", "e/metric-bars.svg"],
      metrics: ["e/metrics.json"]
    })
  })
})

/** `version` and sha256 over the listed output files (in order) for each ML stage. */
const GOLDEN = {
  pretrain: { version: 1, sha256: "d1683d7c3dd9b41601f8b3997e177a876ceedf7ce4dd145084ab0fdac63c2882" },
  train: { version: 1, sha256: "f6b7a416eade6e4405bfd39d50bddaeb722e46b66dd4469301ad7b60bd3dab0a" },
  evaluate: { version: 1, sha256: "44d7ec0082bedd4b23d4993ea1c4c595a87d2499765efbb00b42f3f8ff39d92c" }
}

const digest = (files: ReadonlyArray<string>): string => {
  const hash = createHash("sha256")
  for (const f of files) hash.update(f).update("\u0000").update(fs.readFileSync(file(f)))
  return hash.digest("hex")
}

describe("golden outputs", () => {
  it("match the pinned hashes for the pinned stage versions (cpu backend, fixed seeds)", () => {
    // Training summaries and curves hold timings; everything hashed here is a pure function of
    // the inputs, the seeds and the stage's code.
    const actual = {
      pretrain: { version: pretrain.version, sha256: digest(["work/base/config.json", "work/base/model.safetensors", "work/base/tokenizer.json", "work/base/tokenizer_config.json"]) },
      train: {
        version: train.version,
        sha256: digest(["work/full/model.safetensors", "work/lora/adapter_config.json", "work/lora/adapter_model.safetensors"])
      },
      evaluate: {
        version: evaluate.version,
        sha256: digest(["work/eval/metrics.json", "work/eval/predictions.jsonl", "work/eval/summary.md", "work/eval/forgetting.json", "work/eval/forgetting.md", "work/eval/metric-bars.svg"])
      }
    }
    expect(actual).toEqual(GOLDEN)
  })
})
