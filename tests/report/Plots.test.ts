/**
 * The report charts: each renders to SVG naming its series, and the same
 * input gives the same bytes, sequentially or concurrently.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import { lossCurveSvg, metricBarsSvg, parallelCoordinatesSvg, scatterSvg, type LossRow } from "../../src/report/Plots.js"

const here = path.dirname(fileURLToPath(import.meta.url))

const lossRows: Array<LossRow> = [0, 100, 200, 300, 400].flatMap((step) => [
  { step, split: "train" as const, loss: 3 / (1 + step / 100), run: "lr=1e-4" },
  { step, split: "train" as const, loss: 2.5 / (1 + step / 100), run: "lr=3e-4" },
  ...(step % 200 === 0
    ? [
        { step, split: "validation" as const, loss: 3.2 / (1 + step / 120), run: "lr=1e-4" },
        { step, split: "validation" as const, loss: 2.8 / (1 + step / 120), run: "lr=3e-4" }
      ]
    : [])
])

const trials = Array.from({ length: 12 }, (_, i) => ({
  lr: 10 ** (-5 + (i % 4) / 1.5),
  "lora.r": [4, 8, 16][i % 3]!,
  dropout: (i % 2) * 0.1,
  "val/loss": 1 + ((i * 5) % 7) / 10,
  optimizer: i % 2 === 0 ? "adamw" : "sgd"
}))

const assertSvg = (svg: string) => {
  assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  assert.match(svg, /<\/svg>$/)
}

describe("Plots", () => {
  it("loss curves name runs and splits, and render identically twice", async () => {
    const a = await lossCurveSvg(lossRows, { title: "Loss" })
    const b = await lossCurveSvg(lossRows, { title: "Loss" })
    assertSvg(a)
    for (const label of ["lr=1e-4", "lr=3e-4", "train", "validation", "step", "loss"]) assert.include(a, `>${label}<`)
    assert.strictEqual(a, b)
  })

  it("a single run colours by split", async () => {
    const svg = await lossCurveSvg(lossRows.filter((r) => r.run === "lr=1e-4").map(({ step, split, loss }) => ({ step, split, loss })))
    assertSvg(svg)
    assert.include(svg, ">validation<")
    assert.notInclude(svg, "lr=1e-4")
  })

  it("metric bars name models, tasks and metrics", async () => {
    const rows = ["rougeL", "bleu"].flatMap((metric) =>
      ["summarise", "qa"].flatMap((task) =>
        ["base", "tuned"].map((model) => ({ model, task, metric, value: metric === "bleu" ? 40 + task.length : 0.5 + model.length / 100 }))
      )
    )
    const a = await metricBarsSvg(rows, { title: "Forgetting" })
    assertSvg(a)
    for (const label of ["base", "tuned", "summarise", "qa", "rougeL", "bleu", "Forgetting"]) assert.include(a, `>${label}<`)
    assert.strictEqual(a, await metricBarsSvg(rows, { title: "Forgetting" }))
  })

  it("scatter takes column names with dots and slashes as titles", async () => {
    const a = await scatterSvg(trials, "lr", "val/loss", { color: "lora.r", logX: true })
    assertSvg(a)
    for (const label of ["lr", "val/loss", "lora.r"]) assert.include(a, `>${label}<`)
    assert.strictEqual(a, await scatterSvg(trials, "lr", "val/loss", { color: "lora.r", logX: true }))
    const categorical = await scatterSvg(trials, "dropout", "val/loss", { color: "optimizer" })
    for (const label of ["adamw", "sgd"]) assert.include(categorical, `>${label}<`)
  })

  it("parallel coordinates label every dimension and the colour field", async () => {
    const dims = ["lr", "lora.r", "dropout", "val/loss"]
    const a = await parallelCoordinatesSvg(trials, dims, "val/loss", { logDims: ["lr"] })
    assertSvg(a)
    for (const label of [...dims, "1e-5"]) assert.include(a, `>${label}<`)
    assert.strictEqual(a, await parallelCoordinatesSvg(trials, dims, "val/loss", { logDims: ["lr"] }))
    await parallelCoordinatesSvg(trials, ["lr"], "val/loss").then(
      () => assert.fail("one dimension should be rejected"),
      (e: unknown) => assert.instanceOf(e, RangeError)
    )
  })

  it("concurrent renders give the same bytes as sequential ones", async () => {
    const sequential = [await scatterSvg(trials, "lr", "val/loss"), await lossCurveSvg(lossRows)]
    const concurrent = await Promise.all([scatterSvg(trials, "lr", "val/loss"), lossCurveSvg(lossRows)])
    assert.deepStrictEqual(concurrent, sequential)
  })

  it("loads vega only when rendering (no value import at module level)", () => {
    for (const file of ["../../src/report/Plots.ts", "../../src/report/internal/RenderSvg.ts"]) {
      const source = readFileSync(path.resolve(here, file), "utf8")
      assert.notMatch(source, /^import (?!type )[^\n]*from "vega(-lite)?"/m, file)
    }
  })
})
