import { describe, expect, it } from "vitest"
import { makeJobQueue } from "../../src/engine/internal/JobQueue.js"

describe("JobQueue", () => {
  it("starts at most `limit` jobs, the rest in arrival order as jobs end", () => {
    const q = makeJobQueue<string>(2)
    const started: Array<string> = []
    for (const k of ["a", "b", "c", "d"]) q.add(k, () => started.push(k))
    expect(started).toEqual(["a", "b"])
    q.done()
    expect(started).toEqual(["a", "b", "c"])
    q.done()
    q.done()
    expect(started).toEqual(["a", "b", "c", "d"])
  })

  it("drops waiting entries, never started ones", () => {
    const q = makeJobQueue<string>(1)
    const started: Array<string> = []
    for (const k of ["a", "b", "c", "d"]) q.add(k, () => started.push(k))
    expect(q.cancel("a")).toBe(false)
    expect(q.cancel("c")).toBe(true)
    expect(q.cancel("c")).toBe(false)
    q.done()
    expect(started).toEqual(["a", "b"])
    q.done()
    expect(started).toEqual(["a", "b", "d"])
  })

  it("once stopped, drops what waits and refuses what comes later", () => {
    const q = makeJobQueue<string>(1)
    const started: Array<string> = []
    for (const k of ["a", "b", "c"]) expect(q.add(k, () => started.push(k))).toBe(true)
    expect(q.stop()).toEqual(["b", "c"])
    q.done()
    expect(q.add("d", () => started.push("d"))).toBe(false)
    expect(started).toEqual(["a"])
  })
})
