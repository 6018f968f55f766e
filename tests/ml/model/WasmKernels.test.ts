import * as tf from "@tensorflow/tfjs"
import { beforeAll, describe, expect, it } from "vitest"
import { selectBackend } from "../../../src/ml/backend/Backend.js"
import { Rng } from "../../../src/ml/model/Random.js"

// Each replaced or added wasm kernel against the same op on the pure-JS cpu backend.
beforeAll(async () => {
  await selectBackend("wasm", { threads: 2 })
  await tf.setBackend("cpu")
  await tf.setBackend("wasm")
})

const values = (n: number, seed: number) => {
  const rng = Rng.seeded(seed)
  return Float32Array.from({ length: n }, () => rng.normal())
}

/** Run f on both backends with the same inputs; return [wasm, cpu] outputs. */
const both = async (f: () => tf.Tensor): Promise<[Float32Array, Float32Array, Array<number>]> => {
  const onWasm = tf.tidy(f)
  const wasm = Float32Array.from(onWasm.dataSync())
  const shape = onWasm.shape
  onWasm.dispose()
  await tf.setBackend("cpu")
  const onCpu = tf.tidy(f)
  const cpu = Float32Array.from(onCpu.dataSync())
  expect(onCpu.shape).toEqual(shape)
  onCpu.dispose()
  await tf.setBackend("wasm")
  return [wasm, cpu, shape]
}

const close = (a: Float32Array, b: Float32Array, tolerance: number) => {
  expect(a.length).toBe(b.length)
  let worst = 0
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / (1 + Math.abs(b[i]!)))
  expect(worst).toBeLessThan(tolerance)
}

describe("cairn's wasm kernels", () => {
  it("batched matmul (several shapes, fast path and stock fallbacks)", async () => {
    for (const [a, b, ta, tb] of [
      [[3, 5, 7], [3, 7, 4], false, false],
      [[2, 3, 64, 32], [2, 3, 32, 64], false, false],
      [[4, 6, 5], [4, 6, 5], false, true],
      [[4, 5, 6], [1, 6, 3], false, false],
      [[300, 40], [40, 50], false, false]
    ] as const) {
      const av = values(a.reduce((p, q) => p * q, 1), 1)
      const bv = values(b.reduce((p, q) => p * q, 1), 2)
      const [wasm, cpu] = await both(() => tf.matMul(tf.tensor(av, [...a]), tf.tensor(bv, [...b]), ta, tb))
      close(wasm, cpu, 1e-5)
    }
  })

  it("large 2-D products split across helper threads are bit-identical to one thread", async () => {
    const av = values(1024 * 256, 3)
    const bv = values(256 * 300, 4)
    const product = () => {
      const t = tf.tidy(() => tf.matMul(tf.tensor2d(av, [1024, 256]), tf.tensor2d(bv, [256, 300])))
      const out = Float32Array.from(t.dataSync())
      t.dispose()
      return out
    }
    const batched = () => {
      const t = tf.tidy(() => tf.matMul(tf.tensor3d(av, [2, 512, 256]), tf.tensor3d(Float32Array.from([...bv.subarray(0, 256 * 256), ...bv.subarray(0, 256 * 256)]), [2, 256, 256])))
      const out = Float32Array.from(t.dataSync())
      t.dispose()
      return out
    }
    const pooled = batched()
    const single = product()
    await selectBackend("wasm", { threads: 1 })
    expect(Buffer.from(batched().buffer).equals(Buffer.from(pooled.buffer))).toBe(true)
    expect(Buffer.from(product().buffer).equals(Buffer.from(single.buffer))).toBe(true)
    await selectBackend("wasm", { threads: 2 })
  })

  it("sum over leading axes, other axes and everything", async () => {
    const xv = values(2 * 3 * 4, 5)
    for (const [axis, keepDims] of [[0, false], [[0, 1], false], [0, true], [1, false], [-1, true], [undefined, false]] as const) {
      const [wasm, cpu] = await both(() => tf.sum(tf.tensor3d(xv, [2, 3, 4]), axis as number | Array<number> | undefined, keepDims))
      close(wasm, cpu, 1e-6)
    }
  })

  it("gather of rows, with repeats and 2-D indices", async () => {
    const table = values(7 * 3, 6)
    for (const ids of [() => tf.tensor1d([0, 6, 6, 2], "int32"), () => tf.tensor2d([1, 2, 3, 0], [2, 2], "int32")]) {
      const [wasm, cpu, shape] = await both(() => tf.gather(tf.tensor2d(table, [7, 3]), ids()))
      expect(Array.from(wasm)).toEqual(Array.from(cpu))
      expect(shape.length).toBeGreaterThanOrEqual(2)
    }
    expect(() => tf.gather(tf.tensor2d(table, [7, 3]), tf.tensor1d([7], "int32"))).toThrow(/out of range/)
  })

  it("gradient of gather (UnsortedSegmentSum) and zero-copy identity", async () => {
    const table = values(5 * 4, 7)
    const [wasm, cpu] = await both(() => {
      const t = tf.tensor2d(table, [5, 4])
      return tf.grad((x: tf.Tensor) => tf.sum(tf.mul(tf.gather(x, tf.tensor1d([4, 1, 4, 0], "int32")), tf.range(0, 16).reshape([4, 4]))))(t)
    })
    expect(Array.from(wasm)).toEqual(Array.from(cpu))
    const x = tf.tensor1d([1, 2, 3])
    const y = tf.clone(x)
    x.dispose()
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3])
    y.dispose()
  })
})
