import * as tf from "@tensorflow/tfjs"
import { describe, expect, it } from "vitest"
import { BackendUnavailable, selectBackend, type ModuleLoader } from "../../../src/ml/backend/Backend.js"

const absent: ModuleLoader = async (specifier) => {
  if (specifier.startsWith("@tensorflow/tfjs-node")) {
    throw new Error(`Cannot find package '${specifier}' imported from cairn`)
  }
  return import(specifier)
}

describe("backend selection", () => {
  it("auto falls back to wasm when the native packages are not installed", async () => {
    const selected = await selectBackend("auto", { load: absent })
    expect(selected.name).toBe("wasm")
    expect(tf.getBackend()).toBe("wasm")
    expect(selected.attempts.map((a) => [a.kind, a.ok])).toEqual([["gpu", false], ["node", false], ["wasm", true]])
    expect(selected.attempts[0]!.reason).toContain("Cannot find package '@tensorflow/tfjs-node-gpu'")
    expect(selected.detail).toMatch(/^wasm \(SIMD, 1 thread.*; cairn kernels: .*UnsortedSegmentSum/)
    // The gradient of gather runs on wasm thanks to the added kernel.
    const table = tf.variable(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]))
    const { grads } = tf.variableGrads(() => tf.sum(tf.gather(table, tf.tensor1d([2, 0, 2], "int32"))) as tf.Scalar, [table])
    expect(Array.from(grads[table.name]!.dataSync())).toEqual([1, 1, 0, 0, 2, 2])
  })

  it("auto skips native packages that load but do not work", async () => {
    const broken: ModuleLoader = async (specifier) => {
      if (specifier === "@tensorflow/tfjs-node-gpu") throw new Error("libcudart.so.11.0: cannot open shared object file")
      if (specifier === "@tensorflow/tfjs-node") {
        // Registers a "tensorflow" backend that has no kernels, so the matmul check fails.
        const { MathBackendCPU } = await import("@tensorflow/tfjs-backend-cpu")
        tf.registerBackend("tensorflow", () => new MathBackendCPU())
        return {}
      }
      return import(specifier)
    }
    const selected = await selectBackend("auto", { load: broken })
    expect(selected.name).toBe("wasm")
    expect(selected.attempts[0]!.reason).toContain("libcudart")
    expect(selected.attempts[1]).toMatchObject({ kind: "node", ok: false })
    expect(selected.attempts[1]!.reason).toMatch(/BatchMatMul|matmul/i)
    tf.removeBackend("tensorflow")
  })

  it("an explicit preference that is unavailable is an error, not a fallback", async () => {
    await expect(selectBackend("node", { load: absent })).rejects.toBeInstanceOf(BackendUnavailable)
    await expect(selectBackend("gpu", { load: absent })).rejects.toThrow(/backend gpu is not available/)
  })

  it("takes a native package that loads and passes the check", async () => {
    const working: ModuleLoader = async (specifier) => {
      if (specifier === "@tensorflow/tfjs-node-gpu") throw new Error("no GPU")
      if (specifier === "@tensorflow/tfjs-node") {
        // Stand-in for libtensorflow: the cpu backend's kernels under the native backend's name.
        const { MathBackendCPU } = await import("@tensorflow/tfjs-backend-cpu")
        tf.registerBackend("tensorflow", () => new MathBackendCPU())
        for (const kernel of tf.getKernelsForBackend("cpu")) tf.registerKernel({ ...kernel, backendName: "tensorflow" })
        return {}
      }
      return import(specifier)
    }
    const selected = await selectBackend("auto", { load: working })
    expect(selected.name).toBe("node")
    expect(selected.detail).toContain("@tensorflow/tfjs-node")
    expect(tf.getBackend()).toBe("tensorflow")
    const cpu = await selectBackend("cpu")
    expect(cpu.name).toBe("cpu")
  })
})
