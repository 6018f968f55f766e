import * as tf from "@tensorflow/tfjs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { selectBackend } from "../../../src/ml/backend/Backend.js"
import { gemmPool, Heap, type WasmBackend } from "../../../src/ml/backend/internal/wasmHeap.js"
import { Rng } from "../../../src/ml/model/Random.js"

// The GEMM helper threads under stress: products of many shapes, with the caller's heap
// churning and growing between them, helpers that fall behind, and a helper whose thread ends.
// Every pooled product must equal the single-thread one bit for bit, and none may hang (the
// test timeout is the hang detector).

let heap: Heap

beforeAll(async () => {
  await selectBackend("wasm", { threads: 3 })
  heap = Heap.of(tf.backend() as unknown as WasmBackend)
})

afterAll(async () => {
  await selectBackend("wasm", { threads: 1 })
})

/** `count` pooled products of random shapes, each checked against `gemmHere`; returns ms per product. */
const churn = (count: number, seed: number): number => {
  const rng = Rng.seeded(seed)
  const pick = <A>(xs: ReadonlyArray<A>): A => xs[rng.int(xs.length)]!
  const kept: Array<number> = []
  const start = performance.now()
  for (let i = 0; i < count; i++) {
    const m = pick([16, 24, 100, 256, 512, 777, 1030])
    const k = pick([1, 7, 64, 129, 256, 512])
    const n = pick([3, 64, 256, 513, 1024])
    const a = heap.alloc(m * k)
    const b = heap.alloc(k * n)
    const out = heap.alloc(m * n)
    const expected = heap.alloc(m * n)
    const av = heap.f32At(a, m * k)
    for (let j = 0; j < av.length; j++) av[j] = rng.normal()
    const bv = heap.f32At(b, k * n)
    for (let j = 0; j < bv.length; j++) bv[j] = rng.normal()
    heap.gemm(a, b, out, m, k, n)
    heap.gemmHere(a, b, expected, m, k, n)
    const got = heap.f32At(out, m * n)
    const want = heap.f32At(expected, m * n)
    let same = true
    for (let j = 0; j < got.length && same; j++) same = Object.is(got[j], want[j])
    expect(same, `product ${i}: ${m}x${k}x${n}`).toBe(true)
    for (const p of [a, b, out, expected]) heap.free(p)
    // Keep some blocks alive and sometimes take a large one, so the heap grows and fragments
    // and every later view must be re-read.
    if (rng.int(3) === 0) kept.push(heap.alloc(rng.int(1 << 21)))
    if (kept.length > 6 || rng.int(5) === 0) heap.free(kept.splice(rng.int(Math.max(1, kept.length)), 1)[0] ?? heap.alloc(1))
  }
  for (const p of kept) heap.free(p)
  return (performance.now() - start) / count
}

describe("GEMM helper threads", () => {
  it("give bit-identical products over many shapes while the heap churns and grows", () => {
    expect(gemmPool()?.threads).toBe(3)
    const before = heap.all().length
    churn(150, 1)
    expect(heap.all().length).toBeGreaterThan(before)
  }, 60_000)

  it("never wait long for a helper that falls behind", () => {
    const pool = gemmPool()!
    pool.disrupt(0, { stallMs: 200 })
    try {
      // A stalled helper costs at most one late job: it is skipped until it catches up.
      const perProduct = churn(30, 2)
      expect(perProduct).toBeLessThan(150)
    } finally {
      pool.disrupt(0, { stallMs: 0 })
    }
  }, 60_000)

  it("carry on when a helper's thread ends, even in the middle of a product", async () => {
    const pool = gemmPool()!
    pool.disrupt(1, { stallMs: 100 })
    const m = 512
    const k = 256
    const n = 256
    const a = heap.alloc(m * k)
    const b = heap.alloc(k * n)
    const out = heap.alloc(m * n)
    heap.f32At(a, m * k).fill(0.5)
    heap.f32At(b, k * n).fill(0.25)
    heap.gemm(a, b, out, m, k, n) // helper 1 is now late with this product...
    pool.disrupt(1, "exit") // ...and never finishes it
    heap.gemm(a, b, out, m, k, n)
    expect(heap.f32At(out, m * n).every((v) => v === 32)).toBe(true)
    for (const p of [a, b, out]) heap.free(p)
    await new Promise((resolve) => setTimeout(resolve, 100))
    churn(20, 3)
  }, 60_000)
})
