import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { selectBackend } from "../../../src/ml/backend/Backend.js"
import { gemmKernel, Heap, setGemmKernel, type WasmBackend } from "../../../src/ml/backend/internal/wasmHeap.js"
import { Rng } from "../../../src/ml/model/Random.js"

// The relaxed-SIMD GEMM against XNNPACK: ragged shapes (row blocks of 4, panels of 8, chunks
// of packed panels), bias, transposed and strided operands, and no writes outside the output.

let heap: Heap

beforeAll(async () => {
  await selectBackend("wasm", { threads: 1 })
  heap = Heap.of(tf.backend() as unknown as WasmBackend)
})

afterAll(() => {
  setGemmKernel("fma")
})

const shapes: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 1], [1, 5, 3], [3, 7, 9], [4, 8, 8], [5, 16, 17], [7, 3, 15], [16, 256, 768], [1030, 129, 513],
  [64, 32, 64], [9, 300, 7], [2, 4100, 9], [37, 5, 300]
]

const fill = (rng: Rng, at: number, n: number) => {
  const v = heap.f32At(at, n)
  for (let i = 0; i < n; i++) v[i] = rng.normal()
}

describe("relaxed-SIMD GEMM", () => {
  it("is available on this runtime", () => {
    expect(gemmKernel()).toBe("fma")
  })

  it("matches XNNPACK over ragged shapes, with and without bias, writing nothing outside c", () => {
    const rng = Rng.seeded(1)
    for (const [m, k, n] of shapes) {
      const a = heap.alloc(m * k)
      const b = heap.alloc(k * n)
      const bias = heap.alloc(n)
      const want = heap.alloc(m * n)
      const got = heap.alloc(m * n + 8)
      fill(rng, a, m * k)
      fill(rng, b, k * n)
      fill(rng, bias, n)
      setGemmKernel("xnnpack")
      heap.gemmHere(a, b, want, m, k, n)
      setGemmKernel("fma")
      for (const withBias of [false, true]) {
        heap.f32At(got, m * n + 8).fill(7)
        heap.gemmHere(a, b, got, m, k, n, withBias ? bias : 0)
        const x = heap.f32At(want, m * n)
        const y = heap.f32At(got, m * n + 8)
        const bv = heap.f32At(bias, n)
        let worst = 0
        for (let i = 0; i < m * n; i++) worst = Math.max(worst, Math.abs(x[i]! + (withBias ? bv[i % n]! : 0) - y[i]!) / (1 + Math.abs(x[i]!)))
        expect(worst, `${m}x${k}x${n}`).toBeLessThan(1e-5 * Math.sqrt(k))
        expect(Array.from(y.subarray(m * n)), `${m}x${k}x${n} overrun`).toEqual(new Array(8).fill(7))
      }
      for (const p of [a, b, bias, want, got]) heap.free(p)
    }
  })

  it("gives the plain layout's exact bits from transposed and strided operands", () => {
    const rng = Rng.seeded(2)
    for (const [m, k, n] of shapes) {
      const a = heap.alloc(m * k)
      const aT = heap.alloc(m * k)
      const b = heap.alloc(k * n)
      const bT = heap.alloc(k * n)
      const want = heap.alloc(m * n)
      const got = heap.alloc(m * n)
      fill(rng, a, m * k)
      fill(rng, b, k * n)
      heap.transpose(a, aT, m, k)
      heap.transpose(b, bT, k, n)
      heap.gemmHere(a, b, want, m, k, n)
      for (const [ta, tb] of [[true, false], [false, true], [true, true]] as const) {
        heap.gemmTransposed(ta ? aT : a, ta, tb ? bT : b, tb, got, m, k, n)
        expect(Buffer.from(heap.f32At(got, m * n).slice().buffer).equals(Buffer.from(heap.f32At(want, m * n).slice().buffer)), `${m}x${k}x${n} ${ta} ${tb}`).toBe(true)
      }
      // Columns [1, 1+k) of a wider a, and the product written into columns [2, 2+n) of a wider c.
      const wide = heap.alloc(m * (k + 3))
      const wideOut = heap.alloc(m * (n + 5))
      for (let r = 0; r < m; r++) heap.f32At(wide + 4 * (r * (k + 3) + 1), k).set(heap.f32At(a + 4 * r * k, k))
      heap.f32At(wideOut, m * (n + 5)).fill(7)
      heap.gemmStrided({ at: wide + 4, row: 4 * (k + 3), step: 4 }, { at: b, row: 4 * n, transposed: false }, { at: wideOut + 8, row: 4 * (n + 5) }, m, k, n, 0.5)
      const w = heap.f32At(want, m * n)
      const o = heap.f32At(wideOut, m * (n + 5))
      let wrong = 0
      for (let r = 0; r < m; r++) {
        for (let c = 0; c < n + 5; c++) {
          const v = o[r * (n + 5) + c]!
          if (v !== (c < 2 || c >= n + 2 ? 7 : w[r * n + c - 2]! * 0.5)) wrong++
        }
      }
      expect(wrong, `${m}x${k}x${n} strided`).toBe(0)
      for (const p of [a, aT, b, bT, want, got, wide, wideOut]) heap.free(p)
    }
  })
})
