/**
 * The training stages as the engine runs them, on a tiny synthetic task in a temp workspace:
 * pretrain → train (full, LoRA as a PEFT adapter, LoRA merged) → evaluate, a Hugging Face GPT-2
 * checkpoint as the base, and (through the built CLI) a training stage killed with SIGKILL that
 * resumes from its checkpoint when run again. The trainer's own resume test proves the weights
 * come out bit-identical; here it is enough that the stage resumes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { validateStageParams } from "../../src/config/ParamsValidation.js"
import { generateTasks } from "../../src/ml/data/Synthetic.js"
import type { Gpt } from "../../src/ml/model/Gpt.js"
import { readSafetensors } from "../../src/ml/model/Safetensors.js"
import { loadModelDir } from "../../src/ml/stages/ModelDir.js"
import { promptTemplate } from "../../src/ml/tokenizer/Template.js"
import pretrain, { pretrainOptions } from "../../stages/pretrain/index.js"
import train, { trainOptions } from "../../stages/train/index.js"
import evaluate from "../../stages/evaluate/index.js"
import type { BuiltinStage } from "../../src/index.js"
import { isAlive, repoRoot, Rig, waitFor } from "../e2e/rig.js"
import { runStage } from "./RunStage.js"

/** A real (randomly initialised, n_embd 2) GPT2LMHeadModel checkpoint with GPT-2's tokenizer. */
const fakeGpt2 = path.resolve(repoRoot, "..", "shared/data/models/fake-gpt2")

let ws = ""
const file = (rel: string) => path.join(ws, rel)
const json = (rel: string) => JSON.parse(fs.readFileSync(file(rel), "utf8"))
const lines = (rel: string) => fs.readFileSync(file(rel), "utf8").trim().split("\n").map((l) => JSON.parse(l))

const writeJsonl = (root: string, rel: string, records: ReadonlyArray<object>) => {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true })
  fs.writeFileSync(path.join(root, rel), records.map((r) => JSON.stringify(r)).join("\n") + "\n")
}

const records = generateTasks({ tasks: ["copy", "upper"], perTask: 40, minLength: 3, maxLength: 3, alphabet: "abcdef", seed: 3, source: "test" })

/** A model small enough that every stage run takes about a second. */
const tiny = { tokenizer: { vocabSize: 259 }, model: { nEmbd: 16, nLayer: 1, nHead: 2 }, seqLen: 12, batchSize: 8, backend: "cpu" }
const tuneCommon = { baseModel: "work/base", datasets: [{ path: "data/train.jsonl" }], validation: "data/test.jsonl", seqLen: 12, batchSize: 8, maxSteps: 4, lr: 0.01, evalEvery: 2, backend: "cpu" }

beforeAll(async () => {
  ws = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-train-"))
  writeJsonl(ws, "data/train.jsonl", records.filter((_, i) => i % 5 !== 0))
  writeJsonl(ws, "data/test.jsonl", records.filter((_, i) => i % 5 === 0).slice(0, 8))
  await runStage(pretrain, ws, { ...tiny, datasets: [{ path: "data/train.jsonl" }], validation: "data/test.jsonl", out: "work/base", maxSteps: 6, evalEvery: 3, checkpointEvery: 2 })
})

afterAll(() => fs.rmSync(ws, { recursive: true, force: true }))

const filled = <P>(stage: BuiltinStage<P>, value: unknown): P => validateStageParams<P>(stage.name, stage.paramsSchema, value).value
const place = { stage: "s", workspace: "/ws", resolve: (r: string) => path.join("/ws", r) }

describe("training stages", () => {
  it("declare their inputs and outputs; option fallbacks equal the schema defaults", () => {
    // The scratch key holds the params as given, so it is left out of the comparison.
    const options = <O extends { key: unknown }>({ key: _key, ...rest }: O) => rest
    const bareP = { datasets: [{ path: "d.jsonl" }], out: "m" } as const
    expect(options(pretrainOptions(bareP as never, place))).toEqual(options(pretrainOptions(filled(pretrain, bareP), place)))
    const bareT = { baseModel: "b", datasets: [{ path: "d.jsonl", weight: 2 }], out: "t" } as const
    expect(options(trainOptions(bareT as never, place))).toEqual(options(trainOptions(filled(train, bareT), place)))
    expect(train.io(filled(train, { ...bareT, validation: "v.jsonl" }))).toEqual({
      deps: ["b", "d.jsonl", "v.jsonl"],
      outs: ["t", "t.metrics.jsonl"],
      metrics: ["t.metrics.json"]
    })
    expect(pretrain.isolated && pretrain.gpu && train.isolated && train.gpu).toBe(true)
  })

  it("pretrain writes a model directory with its tokenizer, the loss curve and a summary", () => {
    expect(fs.readdirSync(file("work/base")).sort()).toEqual(["config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"])
    expect(json("work/base/config.json")).toMatchObject({ model_type: "gpt2", n_embd: 16, n_layer: 1, n_head: 2, n_positions: 12, vocab_size: 259 })
    expect(json("work/base/tokenizer.json").added_tokens.map((t: { content: string }) => t.content)).toEqual(["<|endoftext|>", "<|prompt|>", "<|completion|>"])
    const summary = json("work/base.metrics.json")
    expect(summary).toMatchObject({ steps: 6, stopReason: "max_steps", backend: "cpu", resumedFrom: 0 })
    for (const key of ["finalLoss", "finalEvalLoss", "bestEvalLoss", "tokensPerSec", "trainableParameters"]) expect(typeof summary[key]).toBe("number")
    const curve = lines("work/base.metrics.jsonl")
    expect(curve.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6])
    expect(curve.filter((r) => r.evalLoss !== undefined).map((r) => r.step)).toEqual([3, 6])
    // Finished runs leave no scratch behind; the store keeps the result.
    expect(fs.readdirSync(file(".cairn/checkpoints/test-pretrain"))).toEqual([])
  })

  it("retraining with the same inputs gives byte-identical outputs and curve, so early cutoff holds downstream", async () => {
    await runStage(train, ws, { ...tuneCommon, out: "work/again-1" })
    await runStage(train, ws, { ...tuneCommon, out: "work/again-2" })
    const bytes = (rel: string) => fs.readFileSync(file(rel))
    expect(bytes("work/again-1/model.safetensors").equals(bytes("work/again-2/model.safetensors"))).toBe(true)
    expect(bytes("work/again-1.metrics.jsonl").equals(bytes("work/again-2.metrics.jsonl"))).toBe(true)
    // Throughput is in the summary, not in the curve.
    expect(lines("work/again-1.metrics.jsonl").some((r) => "tokensPerSec" in r)).toBe(false)
    expect(typeof json("work/again-1.metrics.json").tokensPerSec).toBe("number")
  })

  it("full and LoRA fine-tuning: LoRA starts equal to the base, writes a PEFT adapter, and merges", async () => {
    await runStage(train, ws, { ...tuneCommon, out: "work/full" })
    await runStage(train, ws, { ...tuneCommon, out: "work/lora", adapter: { type: "lora", r: 2, alpha: 4, targetModules: ["q", "v", "c_fc"] } })
    await runStage(train, ws, { ...tuneCommon, out: "work/merged", adapter: { type: "lora", r: 2, alpha: 4, targetModules: ["q", "v", "c_fc"] }, merge: true })
    // Same data order and seed: the first step's loss is the untouched model's, so a LoRA model
    // that starts equal to its base reports exactly the full fine-tune's first loss.
    const first = (rel: string) => lines(rel)[0].loss
    expect(first("work/lora.metrics.jsonl")).toBe(first("work/full.metrics.jsonl"))

    expect(fs.readdirSync(file("work/lora")).sort()).toEqual(["adapter_config.json", "adapter_model.safetensors", "tokenizer.json", "tokenizer_config.json"])
    const config = json("work/lora/adapter_config.json")
    expect(config).toMatchObject({ peft_type: "LORA", r: 2, lora_alpha: 4, fan_in_fan_out: true, base_model_name_or_path: "work/base", task_type: "CAUSAL_LM" })
    expect(config.target_modules).toEqual(["attn.c_attn", "mlp.c_fc"])
    const tensors = readSafetensors(new Uint8Array(fs.readFileSync(file("work/lora/adapter_model.safetensors")))).tensors
    expect([...tensors.keys()].sort()).toEqual([
      "base_model.model.transformer.h.0.attn.c_attn.lora_A.weight",
      "base_model.model.transformer.h.0.attn.c_attn.lora_B.weight",
      "base_model.model.transformer.h.0.mlp.c_fc.lora_A.weight",
      "base_model.model.transformer.h.0.mlp.c_fc.lora_B.weight"
    ])
    expect(tensors.get("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight")!.shape).toEqual([4, 16])
    expect(fs.existsSync(file("work/merged/model.safetensors"))).toBe(true)
    expect(json("work/lora.metrics.json")).toMatchObject({ method: "lora", output: "adapter", steps: 4, backend: "cpu", trainableParameters: 2 * (16 * 2 + 2 * 16) + 16 * 2 + 2 * 64 })
    expect(json("work/merged.metrics.json")).toMatchObject({ method: "lora", output: "merged" })
    expect(json("work/full.metrics.json")).toMatchObject({ method: "full", output: "model" })

    // The adapter attached to its base (unmerged) and the merged model compute the same logits.
    const adapted = await loadModelDir(file("work/lora"), file("work/base"))
    const merged = await loadModelDir(file("work/merged"))
    expect(adapted.adapter).toBeDefined()
    const ids = Int32Array.from(promptTemplate(adapted.tokenizer).format("copy: ab", "ab").ids).slice(0, 12)
    const logits = (m: Gpt) => Array.from(m.forward(ids, 1, ids.length).dataSync())
    const [x, y] = [logits(adapted.model), logits(merged.model)]
    expect(Math.max(...x.map((v, i) => Math.abs(v - y[i]!)))).toBeLessThan(1e-4)
    adapted.model.dispose()
    merged.model.dispose()

    // And so do they through the evaluate stage.
    await runStage(evaluate, ws, {
      models: [{ name: "adapter", path: "work/lora", base: "work/base" }, { name: "merged", path: "work/merged" }, { name: "full", path: "work/full" }],
      testSets: [{ name: "test", path: "data/test.jsonl" }],
      metrics: ["exact", "chrf", "perplexity"],
      generation: { maxNewTokens: 4 },
      bootstrap: { samples: 0 },
      backend: "cpu",
      outDir: "work/eval-merge"
    })
    const scores = json("work/eval-merge/metrics.json").models
    expect(scores.merged.sets.test.metrics.perplexity).toBeCloseTo(scores.adapter.sets.test.metrics.perplexity, 4)
    const predictions = lines("work/eval-merge/predictions.jsonl")
    const of = (model: string) => predictions.filter((p) => p.model === model).map((p) => p.prediction)
    expect(of("merged")).toEqual(of("adapter"))
  })

  it("early stopping keeps the best evaluation", async () => {
    await runStage(train, ws, { ...tuneCommon, out: "work/early", maxSteps: 12, lr: 0.5, evalEvery: 1, earlyStopping: { patience: 1, threshold: 0 } })
    const summary = json("work/early.metrics.json")
    expect(summary.stopReason).toBe("early_stopping")
    expect(summary.restoredBest).toBe(true)
    expect(summary.bestEvalLoss).toBeLessThanOrEqual(summary.finalEvalLoss)
  })

  it.skipIf(!fs.existsSync(fakeGpt2))("fine-tunes a Hugging Face GPT-2 checkpoint, adding the template tokens to its vocabulary", async () => {
    fs.cpSync(fakeGpt2, file("models/gpt2"), { recursive: true })
    const logs = await runStage(train, ws, { ...tuneCommon, baseModel: "models/gpt2", out: "work/gpt2-lora", maxSteps: 2, adapter: { type: "lora", r: 1, alpha: 2 } })
    expect(logs.join("\n")).toMatch(/vocab 50259/)
    expect(json("work/gpt2-lora/adapter_config.json").base_model_name_or_path).toBe("models/gpt2")
    await runStage(evaluate, ws, {
      models: [{ name: "gpt2", path: "models/gpt2" }, { name: "tuned", path: "work/gpt2-lora", base: "models/gpt2" }],
      testSets: [{ name: "test", path: "data/test.jsonl" }],
      metrics: ["perplexity"],
      generation: { maxNewTokens: 2 },
      maxExamples: 2,
      bootstrap: { samples: 0 },
      backend: "cpu",
      outDir: "work/eval-gpt2"
    })
    expect(json("work/eval-gpt2/metrics.json").models.tuned.sets.test.metrics.perplexity).toBeGreaterThan(1)
  }, 120_000)
})

describe("a killed training stage", () => {
  it("resumes from its checkpoint when the pipeline runs again", async () => {
    const rig = new Rig("cairn-train-kill-")
    try {
      writeJsonl(rig.dir, "data/train.jsonl", records)
      rig.write("cairn.yaml", [
        "stages:",
        "  base:",
        "    uses: pretrain",
        "    with:",
        "      datasets: [{ path: data/train.jsonl }]",
        "      out: work/base",
        "      tokenizer: { vocabSize: 259 }",
        "      model: { nEmbd: 16, nLayer: 1, nHead: 2 }",
        "      seqLen: 12",
        "      batchSize: 8",
        "      maxSteps: 1000",
        "      checkpointEvery: 5",
        "      backend: wasm",
        ""
      ].join("\n"))
      const first = rig.start(["run"])
      const latest = () => {
        const root = rig.path(".cairn/checkpoints/base")
        if (!fs.existsSync(root)) return undefined
        const key = fs.readdirSync(root)[0]
        return key === undefined ? undefined : path.join(root, key, "checkpoints", "latest")
      }
      await waitFor(() => latest() !== undefined && fs.existsSync(latest()!), 30_000, "a checkpoint")
      // The stage worker, among cairn's children (the command launcher is one too).
      const workers = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(first.child.pid)], { encoding: "utf8" })
        .trim().split("\n").filter((l) => l.includes("stage-worker")).map((l) => Number(l.trim().split(/\s+/)[0]))
      expect(workers.length).toBe(1)
      process.kill(workers[0]!, "SIGKILL")
      const killed = await first.exited
      expect(killed.code).toBe(1)
      expect(killed.stdout + killed.stderr).toMatch(/SIGKILL/)
      await waitFor(() => !isAlive(workers[0]!), 5_000, "the worker to exit")
      expect(fs.existsSync(latest()!)).toBe(true)

      const second = rig.run(["run"])
      expect(second.code).toBe(0)
      const resumed = /resumed from step (\d+)/.exec(second.stdout)
      expect(resumed).not.toBeNull()
      expect(Number(resumed![1])).toBeGreaterThanOrEqual(5)
      const curve = fs.readFileSync(rig.path("work/base.metrics.jsonl"), "utf8").trim().split("\n").map((l) => JSON.parse(l).step)
      expect(curve).toEqual(Array.from({ length: 1000 }, (_, i) => i + 1))
      expect(fs.existsSync(rig.path(".cairn/checkpoints/base"))).toBe(true)
      expect(fs.readdirSync(rig.path(".cairn/checkpoints/base"))).toEqual([])
      expect(rig.run(["run"]).stdout).toMatch(/fresh/)
    } finally {
      rig.cleanup()
    }
  }, 120_000)
})
