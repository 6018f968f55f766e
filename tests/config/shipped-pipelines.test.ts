/**
 * The pipelines the README tells users to run open cleanly: every stage's `with:` validates, every
 * dependency is produced by a stage or shipped, and the LoRA sweep's parameters and metric reach
 * real params and stages. Nothing runs; the store goes to a temp directory.
 */
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { afterAll, describe, expect, it } from "vitest"
import { layerShippedStages } from "../../src/cli/StageRegistry.js"
import { openGraph, resolvePaths } from "../../src/engine/Workspace.js"
import { loadSweep } from "../../src/sweep/Runner.js"
import { gridTrials } from "../../src/sweep/Search.js"
import { layoutSweep } from "../../src/sweep/internal/SweepLayout.js"
import { repoRoot } from "../e2e/rig.js"

const cache = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-shipped-"))
afterAll(() => fs.rmSync(cache, { recursive: true, force: true }))

const pathsOf = (dir: string) => resolvePaths({ directory: path.join(repoRoot, "pipelines", dir), file: undefined, cacheDir: path.join(cache, dir) })
const open = (dir: string) => Effect.runPromise(openGraph(pathsOf(dir), []).pipe(Effect.provide(layerShippedStages)))

describe("shipped pipelines", () => {
  it.each([
    ["demo", ["normalize", "top-words", "stats", "report"]],
    ["instruct-tune", ["pretrain", "tune", "evaluate"]],
    ["forgetting", ["pretrain", "full", "lora", "replay", "evaluate"]],
    ["lora-sweep", ["pretrain", "tune", "eval", "best"]]
  ])("%s opens, with its stages", async (dir, some) => {
    const graph = await open(dir)
    for (const s of some) expect(graph.order).toContain(s)
  })

  it("lora-sweep: the sweep reaches the tune stage's params and ranks by its metric, over a 5 × 4 grid", async () => {
    const graph = await open("lora-sweep")
    const { spec } = await Effect.runPromise(loadSweep(pathsOf("lora-sweep"), "lora-search"))
    const layout = layoutSweep(spec, graph)
    expect(Array.isArray(layout), JSON.stringify(layout)).toBe(false)
    const trials = gridTrials(spec)
    expect(trials).toHaveLength(20)
    expect(spec.earlyTerminate?.type).toBe("hyperband")
    // Every trial's overrides open as a graph: the stage schemas accept every value.
    for (const t of trials) {
      await Effect.runPromise(openGraph(pathsOf("lora-sweep"), Object.entries(t.params)).pipe(Effect.provide(layerShippedStages)))
    }
  })
})
