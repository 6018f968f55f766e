import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

const root = new URL("../../../", import.meta.url).pathname
const fixture = join(root, "tests/ml/train/fixtures/resume-run.mjs")
let dir: string

/** The fixture runs the compiled library; rebuild when dist is missing or older than src/ml. */
const ensureBuilt = () => {
  const newest = (d: string): number =>
    readdirSync(d, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(join(d, e.name)) : statSync(join(d, e.name)).mtimeMs), 0)
  const built = join(root, "dist/src/ml/train/Trainer.js")
  const sources = Math.max(...["backend", "model", "train"].map((p) => newest(join(root, "src/ml", p))))
  if (!existsSync(built) || statSync(built).mtimeMs < sources) {
    // Other modules' type errors do not stop tsc from emitting ours.
    spawnSync(join(root, "node_modules/.bin/tsc"), ["-p", join(root, "tsconfig.json")], { cwd: root, stdio: "ignore" })
  }
  expect(existsSync(built)).toBe(true)
}

const run = (out: string, backend: string, variant: string, width: string, killAfterStep?: number, dataParallel = "1") =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [fixture, out, backend, variant, width, dataParallel], { cwd: root })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString()
      if (killAfterStep !== undefined && new RegExp(`^step ${killAfterStep}$`, "m").test(stdout)) child.kill("SIGKILL")
    })
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
  })

const losses = (out: string) =>
  readFileSync(join(out, "metrics.jsonl"), "utf8").trim().split("\n").map((l) => {
    const r = JSON.parse(l) as { step: number; loss: number; evalLoss?: number }
    return [r.step, r.loss, r.evalLoss ?? null]
  })

beforeAll(() => {
  ensureBuilt()
  dir = mkdtempSync(join(tmpdir(), "cairn-resume-"))
}, 120_000)
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// The pure-JS cpu backend is ~10x slower than wasm here; it gets a narrower model.
describe.each([
  ["wasm", "full", "48"],
  ["cpu", "lora", "16"]
])("kill -9 and resume (%s, %s)", (backend, variant, width) => {
  it("ends with bit-identical weights and metrics to an uninterrupted run", async () => {
    const straight = join(dir, `${backend}-${variant}-straight`)
    const killed = join(dir, `${backend}-${variant}-killed`)
    const a = await run(straight, backend, variant, width)
    expect(a.code, a.stderr).toBe(0)

    // The first checkpoint is written after step 5, before step 6 starts.
    const b = await run(killed, backend, variant, width, 7)
    expect(b.signal).toBe("SIGKILL")
    expect(existsSync(join(killed, "final.safetensors"))).toBe(false)
    expect(readFileSync(join(killed, "checkpoints", "latest"), "utf8").trim()).toMatch(/^step-0000(05|10)$/)

    const c = await run(killed, backend, variant, width)
    expect(c.code, c.stderr).toBe(0)
    const done = JSON.parse(/^done (.*)$/m.exec(c.stdout)![1]!) as { steps: number; resumedFrom: number }
    expect(done.resumedFrom).toBeGreaterThanOrEqual(5)
    expect(done.steps).toBe(JSON.parse(/^done (.*)$/m.exec(a.stdout)![1]!).steps)

    expect(Buffer.compare(readFileSync(join(killed, "final.safetensors")), readFileSync(join(straight, "final.safetensors")))).toBe(0)
    expect(losses(killed)).toEqual(losses(straight))
  }, 180_000)
})

describe("data parallelism", () => {
  it("gives the same weights with worker threads (compiled) as with shards run in turn (sources)", async () => {
    const out = join(dir, "dp-workers")
    const a = await run(out, "wasm", "full", "32", undefined, "2")
    expect(a.code, a.stderr).toBe(0)
    const lib = {
      ...(await import("../../../src/ml/backend/Backend.js")),
      ...(await import("../../../src/ml/model/Gpt.js")),
      ...(await import("../../../src/ml/model/GptConfig.js")),
      ...(await import("../../../src/ml/model/Lora.js")),
      ...(await import("../../../src/ml/model/Pretrained.js")),
      ...(await import("../../../src/ml/model/Random.js")),
      ...(await import("../../../src/ml/model/Safetensors.js")),
      ...(await import("../../../src/ml/train/Trainer.js"))
    }
    // @ts-expect-error: a plain-JS fixture module
    const { runTraining } = await import("./fixtures/training.mjs")
    const inProcess = await runTraining(lib, { outDir: join(dir, "dp-sequential"), backend: "wasm", variant: "full", width: 32, dataParallel: 2 })
    expect(Buffer.compare(Buffer.from(inProcess.bytes), readFileSync(join(out, "final.safetensors")))).toBe(0)
    expect(losses(join(dir, "dp-sequential"))).toEqual(losses(out))
  }, 180_000)
})
