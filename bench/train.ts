/**
 * Training throughput of cairn's GPT-2 on the selected TensorFlow.js backend (wasm by default),
 * against the same model in PyTorch on CPU (`bench/torch_train.py`).
 *
 *   node dist/bench/train.js [--json] [--profile] [--backend wasm|cpu|auto] [--threads N] [--no-torch] [--gemm fma|xnnpack]
 *
 * `--gemm xnnpack` measures the wasm backend with XNNPACK's GEMM instead of cairn's
 * relaxed-SIMD one (the default where the runtime supports it), for comparison.
 *
 * cairn is measured on one thread and with N threads (default: available cores) as
 * data-parallel shards (`dataParallel: N`); `--json` reports the N-thread figure.
 *
 * Configs: a = d128 L2 H4 T64 B16 V256, b = d256 L4 H4 T128 B8 V512; variants: full
 * fine-tuning and LoRA (r8, alpha16 on q and v). A step is what `train()` does per optimiser
 * step: forward, backward, gradient read-back, AdamW(0.9, 0.95, wd 0.01) and the weight write-back;
 * dropout 0 and no clipping, as in the PyTorch script. tokens/s = B·T / median step time after
 * warm-up. Also checks that the tensor count stays flat over 300 steps of config a.
 * `--json` prints only `{"config","variant","backend","tokensPerSec"}` lines for cairn.
 */
import { spawnSync } from "node:child_process"
import { availableParallelism } from "node:os"
import * as tf from "@tensorflow/tfjs"
import { selectBackend, suspendGemmHelpers, type BackendPreference } from "../src/ml/backend/Backend.js"
import { setGemmKernel, type GemmKernel } from "../src/ml/backend/internal/wasmHeap.js"
import { Gpt } from "../src/ml/model/Gpt.js"
import { gptConfig } from "../src/ml/model/GptConfig.js"
import { Rng } from "../src/ml/model/Random.js"
import type { Example } from "../src/ml/train/Batches.js"
import { train } from "../src/ml/train/Trainer.js"

interface BenchConfig {
  readonly name: "a" | "b"
  readonly d: number
  readonly layers: number
  readonly heads: number
  readonly t: number
  readonly b: number
  readonly vocab: number
  readonly warmup: number
  readonly measured: number
}

const configs: ReadonlyArray<BenchConfig> = [
  { name: "a", d: 128, layers: 2, heads: 4, t: 64, b: 16, vocab: 256, warmup: 3, measured: 12 },
  { name: "b", d: 256, layers: 4, heads: 4, t: 128, b: 8, vocab: 512, warmup: 2, measured: 6 }
]
const variants = ["full", "lora"] as const
type Variant = (typeof variants)[number]

const args = process.argv.slice(2)
const json = args.includes("--json")
const profile = args.includes("--profile")
const withTorch = !json && !args.includes("--no-torch")
const backendArg = args[args.indexOf("--backend") + 1]
const preference: BackendPreference = args.includes("--backend") ? (backendArg as BackendPreference) : "wasm"
const threads = args.includes("--threads") ? Number(args[args.indexOf("--threads") + 1]) : availableParallelism()
const gemm: GemmKernel = args.includes("--gemm") && args[args.indexOf("--gemm") + 1] === "xnnpack" ? "xnnpack" : "fma"

const randomExamples = (c: BenchConfig, n: number, seed: number): Array<Example> => {
  const rng = Rng.seeded(seed)
  return Array.from({ length: n }, () => {
    const ids = Array.from({ length: c.t }, () => rng.int(c.vocab))
    return { ids, labelsMask: ids.map(() => 1) }
  })
}

const modelFor = (c: BenchConfig) =>
  Gpt.create(gptConfig({ vocabSize: c.vocab, nEmbd: c.d, nLayer: c.layers, nHead: c.heads, nPositions: c.t }), 0)

const trainSteps = async (c: BenchConfig, variant: Variant, steps: number, shards: number, onStep: (ms: number, step: number) => void) => {
  const model = modelFor(c)
  let last = performance.now()
  const result = await train({
    model,
    dataParallel: shards,
    lora: variant === "lora" ? { r: 8, alpha: 16, targetModules: ["q", "v"] } : undefined,
    datasets: [{ name: "random", examples: randomExamples(c, c.b * steps, 1) }],
    seqLen: c.t,
    padId: 0,
    batchSize: c.b,
    maxSteps: steps,
    lr: 1e-3,
    schedule: "constant",
    beta1: 0.9,
    beta2: 0.95,
    weightDecay: 0.01,
    maxGradNorm: 0,
    onProgress: (p) => {
      const now = performance.now()
      onStep(now - last, p.step)
      last = now
    }
  })
  model.dispose()
  return result
}

const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const measure = async (c: BenchConfig, variant: Variant, shards: number) => {
  const times: Array<number> = []
  const result = await trainSteps(c, variant, c.warmup + c.measured, shards, (ms, step) => {
    if (step > c.warmup) times.push(ms)
  })
  const ms = median(times)
  return { ms, tokensPerSec: (c.b * c.t) / (ms / 1000), workers: result.dataParallel.workers }
}

const kernelProfile = async (c: BenchConfig): Promise<string> => {
  const model = modelFor(c)
  const examples = randomExamples(c, c.b * 3, 2)
  const run = (steps: number) =>
    train({
      model,
      datasets: [{ name: "random", examples: examples.slice(0, c.b * steps) }],
      seqLen: c.t, padId: 0, batchSize: c.b, maxSteps: steps, lr: 1e-3, maxGradNorm: 0
    })
  await run(2)
  const info = await tf.profile(async () => {
    await run(1)
    return []
  })
  model.dispose()
  const total = new Map<string, { ms: number; calls: number }>()
  for (const k of info.kernels) {
    const entry = total.get(k.name) ?? { ms: 0, calls: 0 }
    entry.ms += k.kernelTimeMs as number
    entry.calls++
    total.set(k.name, entry)
  }
  return [...total]
    .sort((x, y) => y[1].ms - x[1].ms)
    .slice(0, 16)
    .map(([name, e]) => `  ${name.padEnd(22)} ${e.ms.toFixed(1).padStart(8)} ms  x${e.calls}`)
    .join("\n")
}

const tensorCheck = async (c: BenchConfig) => {
  const before = tf.memory().numTensors
  const counts: Array<number> = []
  await trainSteps(c, "full", 300, 1, () => counts.push(tf.memory().numTensors))
  return { before, first: counts[0]!, last: counts[counts.length - 1]!, after: tf.memory().numTensors, flat: new Set(counts.slice(1)).size === 1 }
}

interface TorchResult {
  readonly config: string
  readonly variant: string
  readonly threads: number
  readonly tokensPerSec: number
  readonly blas?: string
}

const torch = (threads: number): Array<TorchResult> => {
  const r = spawnSync("/usr/bin/python3", ["bench/torch_train.py", "--threads", String(threads)], { encoding: "utf8" })
  if (r.status !== 0) {
    console.error(`torch (${threads} threads) failed: ${(r.stderr || r.error?.message || "").trim().split("\n").pop()}`)
    return []
  }
  return r.stdout.trim().split("\n").map((l) => JSON.parse(l) as TorchResult)
}

const main = async () => {
  setGemmKernel(gemm)
  const backend = await selectBackend(preference, { threads })
  if (!json) console.log(`backend: ${backend.name} — ${backend.detail}`)
  const results: Array<{ config: string; variant: Variant; single: number; ms: number; tokensPerSec: number }> = []
  for (const c of configs) {
    for (const variant of variants) {
      let single: Awaited<ReturnType<typeof measure>> | undefined
      if (!json && threads > 1) {
        // Truly one thread: no data-parallel replicas and no GEMM helper threads.
        const resume = suspendGemmHelpers()
        single = await measure(c, variant, 1)
        resume()
      }
      const r = await measure(c, variant, threads)
      results.push({ config: c.name, variant, single: single?.tokensPerSec ?? r.tokensPerSec, ...r })
      if (json) console.log(JSON.stringify({ config: c.name, variant, backend: backend.name, tokensPerSec: Math.round(r.tokensPerSec) }))
      else {
        console.log(`cairn ${c.name} ${variant}: ${single === undefined ? "" : `1 thread ${single.ms.toFixed(1)} ms/step; `}` +
          `${threads} threads (${r.workers} worker${r.workers === 1 ? "" : "s"}) ${r.ms.toFixed(1)} ms/step, ${Math.round(r.tokensPerSec)} tokens/s`)
      }
    }
  }
  if (json) return
  const leak = await tensorCheck(configs[0]!)
  console.log(`tensors, config a full, 300 steps: before ${leak.before}, after step 1 ${leak.first}, after step 300 ${leak.last}, after training ${leak.after} → ${leak.flat ? "flat" : "NOT flat"}`)
  if (profile) {
    for (const c of configs) console.log(`kernel profile, config ${c.name} full, one step (nested kernels counted in their parents too):\n${await kernelProfile(c)}`)
  }
  const torchRuns = withTorch ? [...torch(1), ...torch(2)] : []
  const blas = torchRuns.find((t) => t.blas !== undefined)?.blas
  if (torchRuns.length > 0) console.log(`torch: ${blas ?? "unknown BLAS"}`)
  const rows = results.map((r) => {
    const t1 = torchRuns.find((t) => t.config === r.config && t.variant === r.variant && t.threads === 1)?.tokensPerSec
    const t2 = torchRuns.find((t) => t.config === r.config && t.variant === r.variant && t.threads === 2)?.tokensPerSec
    const best = Math.max(t1 ?? 0, t2 ?? 0)
    const cairn = Math.max(r.single, r.tokensPerSec)
    return [r.config, r.variant, Math.round(r.single), Math.round(r.tokensPerSec), t1 === undefined ? "-" : Math.round(t1), t2 === undefined ? "-" : Math.round(t2), best > 0 ? (cairn / best).toFixed(2) : "-"]
  })
  const header = ["config", "variant", "cairn 1T tok/s", `cairn ${threads}T tok/s`, "torch 1T", "torch 2T", "cairn/torch (best of each)"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)))
  const line = (cells: ReadonlyArray<unknown>) => cells.map((c, i) => String(c).padStart(widths[i]!)).join("  ")
  console.log(line(header))
  for (const r of rows) console.log(line(r))
}

await main()
