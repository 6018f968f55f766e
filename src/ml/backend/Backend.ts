/**
 * Chooses the TensorFlow.js backend a training or evaluation process runs on.
 *
 * `auto` walks the chain fastest-first: `@tensorflow/tfjs-node-gpu`, `@tensorflow/tfjs-node`
 * (both optional native packages that often fail to install), the wasm backend, then the
 * pure-JS cpu backend. A native candidate counts only if it loads and then computes a tiny
 * matmul correctly, since a package can import fine and still fail on first use (missing
 * libtensorflow, CUDA mismatch). The wasm backend gets cairn's extra kernels registered before
 * it initialises (see `WasmKernels.ts`). An explicit preference does not fall back: asking for
 * `gpu` on a machine without one is an error, not a silent slowdown.
 *
 * The result names the backend and says why earlier candidates were skipped; the caller
 * records it with the run.
 */
import * as tf from "@tensorflow/tfjs"
import { resetFusedKernelCache } from "./FusedKernels.js"
import { GemmPool } from "./internal/gemmPool.js"
import { fmaGemmBytes } from "./internal/wasmGemm.js"
import { gemmKernel, gemmPool, setGemmPool } from "./internal/wasmHeap.js"
import { registerWasmKernels } from "./WasmKernels.js"

export type BackendPreference = "auto" | "gpu" | "node" | "wasm" | "cpu"
export type BackendKind = "gpu" | "node" | "wasm" | "cpu"

export interface BackendAttempt {
  readonly kind: BackendKind
  readonly ok: boolean
  readonly reason: string
}

export interface SelectedBackend {
  readonly name: BackendKind
  /** The TensorFlow.js namespace, with the chosen backend active. */
  readonly tf: typeof tf
  /** Human-readable: package, tfjs backend name, threads, added kernels. */
  readonly detail: string
  /** Every candidate tried, in order, with why it was or was not taken. */
  readonly attempts: ReadonlyArray<BackendAttempt>
}

/** Dynamic `import()`; injectable so tests can simulate absent or broken packages. */
export type ModuleLoader = (specifier: string) => Promise<unknown>

export interface SelectBackendOptions {
  readonly load?: ModuleLoader
  /**
   * Threads for large matrix products on wasm (default 1). Helper threads cannot hang a
   * product (see gemmPool.ts), but they pay for copying operands in and out of their own wasm
   * instances, which measured no faster than one thread at the models' sizes, and slower when
   * another process (a second trial) already uses the other core. `dataParallel` in training
   * uses extra cores better. Results do not depend on it.
   */
  readonly threads?: number
}

export class BackendUnavailable extends Error {
  readonly attempts: ReadonlyArray<BackendAttempt>
  constructor(preference: BackendPreference, attempts: ReadonlyArray<BackendAttempt>) {
    super(`backend ${preference} is not available: ${attempts.map((a) => `${a.kind}: ${a.reason}`).join("; ")}`)
    this.name = "BackendUnavailable"
    this.attempts = attempts
  }
}

const chains: Readonly<Record<BackendPreference, ReadonlyArray<BackendKind>>> = {
  auto: ["gpu", "node", "wasm", "cpu"],
  gpu: ["gpu"],
  node: ["node"],
  wasm: ["wasm"],
  cpu: ["cpu"]
}

const nativePackages: Readonly<Record<"gpu" | "node", string>> = {
  gpu: "@tensorflow/tfjs-node-gpu",
  node: "@tensorflow/tfjs-node"
}

const defaultLoader: ModuleLoader = (specifier) => import(specifier)

export const selectBackend = async (
  preference: BackendPreference,
  options: SelectBackendOptions = {}
): Promise<SelectedBackend> => {
  const load = options.load ?? defaultLoader
  const attempts: Array<BackendAttempt> = []
  const threads = Math.max(1, Math.floor(options.threads ?? 1))
  for (const kind of chains[preference]) {
    const outcome = await tryBackend(kind, load, threads)
    attempts.push({ kind, ok: outcome.ok, reason: outcome.reason })
    if (outcome.ok) {
      resetFusedKernelCache()
      const skipped = attempts.filter((a) => !a.ok).map((a) => `${a.kind} skipped: ${a.reason}`)
      return { name: kind, tf, detail: [outcome.reason, ...skipped].join("; "), attempts }
    }
  }
  throw new BackendUnavailable(preference, attempts)
}

const tryBackend = async (kind: BackendKind, load: ModuleLoader, threads: number): Promise<{ ok: boolean; reason: string }> => {
  try {
    switch (kind) {
      case "gpu":
      case "node": {
        await load(nativePackages[kind])
        // Both native packages register their backend as "tensorflow".
        if (!(await tf.setBackend("tensorflow"))) return { ok: false, reason: `${nativePackages[kind]} loaded but backend "tensorflow" did not initialise` }
        return await checked(`${nativePackages[kind]} (tfjs backend "tensorflow")`)
      }
      case "wasm": {
        await load("@tensorflow/tfjs-backend-wasm")
        const added = registerWasmKernels()
        if (!(await tf.setBackend("wasm"))) return { ok: false, reason: "wasm backend did not initialise" }
        const simd = await tf.env().getAsync("WASM_HAS_SIMD_SUPPORT")
        const helpers = await startHelpers(threads - 1)
        const gemm = gemmKernel() === "fma" ? "relaxed-SIMD FMA GEMM" : "XNNPACK GEMM"
        return await checked(`wasm (${simd ? "SIMD" : "no SIMD"}, ${threadNote(helpers)}, ${gemm}; cairn kernels: ${added.join(", ")})`)
      }
      case "cpu": {
        if (!(await tf.setBackend("cpu"))) return { ok: false, reason: "cpu backend did not initialise" }
        return await checked("cpu (pure JavaScript)")
      }
    }
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message.split("\n")[0]! : String(error) }
  }
}

/** [[1,2],[3,4]]·[[5,6],[7,8]] must be [[19,22],[43,50]] on the freshly selected backend. */
const checked = async (description: string): Promise<{ ok: boolean; reason: string }> => {
  await tf.ready()
  const product = tf.tidy(() => tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2])))
  const values = Array.from(await product.data())
  product.dispose()
  const expected = [19, 22, 43, 50]
  if (values.length !== 4 || values.some((v, i) => v !== expected[i])) {
    return { ok: false, reason: `${description} failed the matmul check (got ${JSON.stringify(values)})` }
  }
  return { ok: true, reason: description }
}

/** (Re)start the GEMM helper threads; a failure to start them only costs speed. */
const startHelpers = async (count: number): Promise<number | string> => {
  const current = gemmPool()
  if (current !== undefined && current.threads - 1 === count) return count
  current?.close()
  setGemmPool(undefined)
  if (count < 1) return 0
  try {
    setGemmPool(await GemmPool.start(count, fmaGemmBytes()))
    return count
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

const threadNote = (helpers: number | string): string =>
  typeof helpers === "string"
    ? `1 thread; GEMM helpers failed to start: ${helpers}`
    : helpers === 0
      ? "1 thread"
      : `1 thread + ${helpers} GEMM helper thread${helpers > 1 ? "s" : ""}`

/**
 * Stop using GEMM helper threads until the returned function is called (e.g. while
 * data-parallel replicas occupy the other cores).
 */
export const suspendGemmHelpers = (): (() => void) => {
  const pool = gemmPool()
  setGemmPool(undefined)
  return () => {
    if (gemmPool() === undefined) setGemmPool(pool)
  }
}
