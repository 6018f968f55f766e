/**
 * Split sizes and stratification, the no-leakage property over groups and augmented variants,
 * and replay mixing counts (fraction, upsampling above 1, absolute count) with its manifest.
 */
import { describe, expect, it } from "vitest"
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import type { DataRecord } from "../../../src/ml/data/DataRecord.js"
import { groupKeys, leakedGroups, splitRecords, type SplitOptions } from "../../../src/ml/data/Split.js"
import { mixReplay, replayFiles, sampleRecords, targetCount } from "../../../src/ml/data/Replay.js"
import { seededRandom } from "../../../src/ml/data/SeededRandom.js"
import { readJsonl, writeJsonl } from "../../../src/ml/data/Jsonl.js"
import { DataConfigInvalid } from "../../../src/ml/data/DataErrors.js"

const options = (overrides: Partial<SplitOptions> = {}): SplitOptions => ({
  seed: 0,
  ratios: { train: 0.8, validation: 0.1, test: 0.1 },
  stratify: true,
  ...overrides
})

const plain = (n: number, tasks = 4): Array<DataRecord> =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, task: `task${i % tasks}`, prompt: `prompt ${i}`, completion: "c", source: "s" }))

/** Records with near-duplicate groups (meta.group) and augmented variants (meta.augmentedFrom), chained. */
const grouped = (seed: number): Array<DataRecord> => {
  const rng = seededRandom(seed, "fixture")
  const out: Array<DataRecord> = []
  for (let i = 0; i < 300; i++) {
    const task = `task${rng.int(5)}`
    const id = `s${i}`
    out.push({ id, task, prompt: `p${i}`, completion: "c", source: "s" })
    if (rng.chance(0.3)) {
      for (let k = 0; k < 1 + rng.int(3); k++) out.push({ id: `${id}-near${k}`, task, prompt: `p${i}'`, completion: "c", source: "s", meta: { group: id } })
    }
    if (rng.chance(0.4)) {
      const from = rng.chance(0.5) || out[out.length - 1]!.id === id ? id : out[out.length - 1]!.id
      for (let k = 0; k < 1 + rng.int(4); k++) out.push({ id: `${from}+swap${k}`, task, prompt: `p${i}~`, completion: "c", source: "s", meta: { augmentedFrom: from, augmentOp: "swap" } })
    }
  }
  return rng.shuffle(out) // groups must be found whatever the order
}

describe("splitRecords", () => {
  it("hits ratio targets exactly and gives every task its share", () => {
    const r = splitRecords(plain(1000), options())
    expect(r.targets).toEqual({ train: 800, validation: 100, test: 100 })
    expect([r.splits.train.length, r.splits.validation.length, r.splits.test.length]).toEqual([800, 100, 100])
    for (let t = 0; t < 4; t++) {
      expect(Math.abs(r.splits.test.filter((x) => x.task === `task${t}`).length - 25)).toBeLessThanOrEqual(1)
      expect(Math.abs(r.splits.validation.filter((x) => x.task === `task${t}`).length - 25)).toBeLessThanOrEqual(1)
    }
  })

  it("stays near target with many small tasks made of multi-record groups", () => {
    // like augmented taxonomy data: ~240 tasks of a few groups, each a record plus variants
    const records: Array<DataRecord> = []
    const rng = seededRandom(4, "small")
    for (let t = 0; t < 240; t++) {
      for (let g = 0; g < 1 + rng.int(3); g++) {
        const id = `t${t}g${g}`
        records.push({ id, task: `task${t}`, prompt: id, completion: "c", source: "s" })
        for (let v = 0; v < rng.int(4); v++) records.push({ id: `${id}+v${v}`, task: `task${t}`, prompt: `${id}'`, completion: "c", source: "s", meta: { augmentedFrom: id } })
      }
    }
    const r = splitRecords(records, options())
    for (const split of ["validation", "test"] as const) expect(Math.abs(r.splits[split].length - r.targets[split])).toBeLessThanOrEqual(2)
    expect(leakedGroups(records, r.assignment)).toBe(0)
    // tasks are spread: most tasks with a test group have only that one in test
    const testTasks = new Set(r.splits.test.map((x) => x.task))
    expect(testTasks.size).toBeGreaterThan(15)
  })

  it("uses absolute counts when given, train taking the rest", () => {
    const r = splitRecords(plain(103, 3), options({ counts: { validation: 7, test: 11 } }))
    expect([r.splits.train.length, r.splits.validation.length, r.splits.test.length]).toEqual([85, 7, 11])
  })

  it("reaches exact targets with one record per task (each task lands in test with the test ratio)", () => {
    const many = plain(175, 175) // one record per task, like the self-instruct seeds
    const r = splitRecords(many, options())
    expect([r.splits.train.length, r.splits.validation.length, r.splits.test.length]).toEqual([139, 18, 18])
  })

  it("is deterministic for a seed and changes with it", () => {
    const a = splitRecords(plain(200), options({ seed: 1 })).assignment
    expect(splitRecords(plain(200), options({ seed: 1 })).assignment).toEqual(a)
    expect(splitRecords(plain(200), options({ seed: 2 })).assignment).not.toEqual(a)
  })

  it("rejects ratios that do not add up to 1", () => {
    expect(() => splitRecords(plain(10), options({ ratios: { train: 0.8, validation: 0.3, test: 0.1 } }))).toThrow(DataConfigInvalid)
  })

  it("never puts records of one group in two splits (near-duplicates, variants, variants of near-duplicates)", () => {
    for (let seed = 0; seed < 25; seed++) {
      const records = grouped(seed)
      const r = splitRecords(records, options({ seed, ratios: { train: 0.6, validation: 0.2, test: 0.2 } }))
      expect(leakedGroups(records, r.assignment)).toBe(0)
      const keys = groupKeys(records)
      const splitOf = new Map<string, string>()
      records.forEach((rec, i) => {
        const seen = splitOf.get(keys[i]!)
        if (seen !== undefined) expect(r.assignment[i]).toBe(seen)
        splitOf.set(keys[i]!, r.assignment[i]!)
        // every variant sits with its source
        const from = rec.meta?.["augmentedFrom"] ?? rec.meta?.["group"]
        if (typeof from === "string") {
          const j = records.findIndex((x) => x.id === from)
          expect(r.assignment[i]).toBe(r.assignment[j]!)
        }
      })
      const sizes = new Map<string, number>()
      for (const k of keys) sizes.set(k, (sizes.get(k) ?? 0) + 1)
      const largest = Math.max(...sizes.values())
      expect(Math.abs(r.splits.test.length - r.targets.test)).toBeLessThanOrEqual(largest / 2)
      expect(r.multiRecordGroups).toBeGreaterThan(0)
    }
  })
})

describe("replay mixing", () => {
  const source = (name: string, n: number): Array<DataRecord> =>
    Array.from({ length: n }, (_, i) => ({ id: `${name}${i}`, task: name, prompt: `${name} ${i}`, completion: "c", source: name }))

  it("turns sampling sizes into counts like InstructLab (fraction of the source, or a count)", () => {
    expect(targetCount(1, 40)).toBe(40)
    expect(targetCount(0.25, 40)).toBe(10)
    expect(targetCount(0.3, 10)).toBe(3) // not 2.9999…
    expect(targetCount(2.5, 40)).toBe(100)
    expect(targetCount({ count: 7 }, 40)).toBe(7)
    expect(targetCount({ count: 70 }, 40)).toBe(70)
    expect(() => targetCount(-1, 4)).toThrow(DataConfigInvalid)
  })

  it("upsamples evenly: every record ⌊n/m⌋ times plus distinct extras", async () => {
    const recs = source("x", 10)
    const out = await sampleRecords(recs, 25, 3, "x")
    const counts = new Map<string, number>()
    for (const r of out) counts.set(r.id, (counts.get(r.id) ?? 0) + 1)
    expect(out).toHaveLength(25)
    expect([...counts.values()].sort()).toEqual([2, 2, 2, 2, 2, 3, 3, 3, 3, 3])
    expect((await sampleRecords(recs, 25, 3, "x")).map((r) => r.id)).toEqual(out.map((r) => r.id))
  })

  it("mixes per-source counts (fraction, >1 upsample, absolute count) with unique ids", async () => {
    const { records, selected } = await mixReplay([
      { name: "train", path: "t", records: source("t", 50), samplingSize: 1 },
      { name: "old", path: "o", records: source("o", 40), samplingSize: 0.25 },
      { name: "tiny", path: "y", records: source("y", 4), samplingSize: 2.5 },
      { name: "fixed", path: "f", records: source("f", 30), samplingSize: { count: 12 } }
    ], 9)
    expect(selected).toEqual([50, 10, 10, 12])
    expect(records).toHaveLength(82)
    expect(new Set(records.map((r) => r.id)).size).toBe(82)
    const by = (name: string) => records.filter((r) => r.meta?.["replaySource"] === name).length
    expect([by("train"), by("old"), by("tiny"), by("fixed")]).toEqual([50, 10, 10, 12])
    // repeats of an upsampled record are told apart by #n suffixes
    expect(records.filter((r) => /^y0(#\d+)?$/.test(r.id)).map((r) => r.prompt)).toEqual(records.filter((r) => r.prompt === "y 0").map((r) => r.prompt))
  })

  it("writes the mixed set and a manifest with sha256 of every input and of the output", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cairn-replay-"))
    const train = source("t", 20)
    await writeJsonl(path.join(dir, "train.jsonl"), train)
    await writeJsonl(path.join(dir, "old.jsonl"), source("o", 8))
    const manifest = await replayFiles(
      { path: "train.jsonl", records: train, samplingSize: 1 },
      [{ path: "old.jsonl", sampling_size: 1.5 }, { path: "old.jsonl", sampling_size: { count: 3 }, name: "old-again" }],
      { out: "mixed.jsonl", manifest: "manifest.json" },
      4,
      (p) => path.join(dir, p)
    )
    const sha = async (f: string) => createHash("sha256").update(await fs.readFile(path.join(dir, f))).digest("hex")
    expect(manifest.sources.map((s) => [s.name, s.available, s.selected, s.sha256])).toEqual([
      ["train", 20, 20, await sha("train.jsonl")],
      ["old.jsonl", 8, 12, await sha("old.jsonl")],
      ["old-again", 8, 3, await sha("old.jsonl")]
    ])
    expect(manifest.output).toEqual({ path: "mixed.jsonl", sha256: await sha("mixed.jsonl"), records: 35 })
    expect(JSON.parse(await fs.readFile(path.join(dir, "manifest.json"), "utf8"))).toEqual(manifest)
    expect(await readJsonl(path.join(dir, "mixed.jsonl"))).toHaveLength(35)
    await fs.rm(dir, { recursive: true, force: true })
  })
})
