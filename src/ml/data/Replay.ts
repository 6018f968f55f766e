/**
 * Replay mixing: the new task's train split plus samples of earlier data, in proportions given by
 * an InstructLab-style recipe (`datasets: [{path, sampling_size}]`), written out with a manifest.
 *
 * `sampling_size` is a fraction of the source (`0.2`; above 1 upsamples: `2.0` doubles it) or an
 * absolute count (`{count: 500}`; JSON cannot tell `2` from `2.0`, so counts are spelled out,
 * where InstructLab's YAML uses an integer). A target of n records from a source of m takes every
 * record ⌊n/m⌋ times plus a seeded sample without replacement of n mod m more, so upsampling is as
 * even as possible (InstructLab samples with replacement, which can leave records out even when
 * upsampling). The mix is shuffled with the seed. Repeated records get `#2`, `#3`, ... id
 * suffixes; every record carries `meta.replaySource`. The manifest records, per source, its path,
 * sha256, size and how many records were taken, and the output's sha256.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import type { DataRecord } from "./DataRecord.js"
import { withId } from "./DataRecord.js"
import { DataConfigInvalid } from "./DataErrors.js"
import { seededRandom } from "./SeededRandom.js"
import { toJsonl, writeJsonl } from "./Jsonl.js"
import { writeJsonFile } from "./JsonFile.js"
import { type FormatOption } from "./DataFormat.js"
import { readDataset } from "./Dataset.js"

export type SamplingSize = number | { readonly count: number }

export interface ReplaySource {
  readonly name: string
  readonly path: string
  readonly records: ReadonlyArray<DataRecord>
  readonly samplingSize: SamplingSize
}

export interface ReplayManifestSource {
  readonly name: string
  readonly path: string
  readonly sha256: string
  readonly available: number
  readonly sampling_size: SamplingSize
  readonly selected: number
}

export interface ReplayManifest {
  readonly seed: number
  readonly sources: ReadonlyArray<ReplayManifestSource>
  readonly output: { readonly path: string; readonly sha256: string; readonly records: number }
}

/** How many records a sampling size asks for from a source of `available` records. */
export const targetCount = (size: SamplingSize, available: number): number => {
  if (typeof size === "number") {
    if (!(size >= 0) || !Number.isFinite(size)) throw new DataConfigInvalid({ field: "sampling_size", reason: `must be a non-negative number, got ${size}` })
    return Math.floor(available * size + 1e-9)
  }
  if (!Number.isInteger(size.count) || size.count < 0) throw new DataConfigInvalid({ field: "sampling_size.count", reason: `must be a non-negative integer, got ${size.count}` })
  if (size.count > 0 && available === 0) throw new DataConfigInvalid({ field: "sampling_size.count", reason: "the source is empty" })
  return size.count
}

/** `n` records from `records`: whole copies, then a seeded sample without replacement (arquero). */
export const sampleRecords = async (records: ReadonlyArray<DataRecord>, n: number, seed: number, label: string): Promise<Array<DataRecord>> => {
  if (records.length === 0 || n === 0) return []
  const whole = Math.floor(n / records.length)
  const rest = n % records.length
  const out: Array<DataRecord> = []
  for (let k = 0; k < whole; k++) out.push(...records)
  if (rest > 0) {
    const aq = await import("arquero")
    // arquero's sampler draws from a global generator: seed it for this call, then put it back.
    aq.seed(seededRandom(seed, "replay", label).int(2 ** 31))
    try {
      const picked = aq.table({ i: records.map((_, i) => i) }).sample(rest).orderby("i").array("i") as ArrayLike<number>
      for (let k = 0; k < picked.length; k++) out.push(records[picked[k]!]!)
    } finally {
      aq.seed(Number.NaN) // back to Math.random (arquero treats NaN as "no seed")
    }
  }
  return out
}

export const mixReplay = async (sources: ReadonlyArray<ReplaySource>, seed: number): Promise<{ records: Array<DataRecord>; selected: Array<number> }> => {
  const mixed: Array<DataRecord> = []
  const selected: Array<number> = []
  for (const source of sources) {
    const sample = await sampleRecords(source.records, targetCount(source.samplingSize, source.records.length), seed, source.name)
    selected.push(sample.length)
    for (const r of sample) mixed.push(withId({ ...r, meta: { ...r.meta, replaySource: source.name } }, r.id))
  }
  const shuffled = seededRandom(seed, "replay-order").shuffle(mixed)
  const seen = new Map<string, number>()
  const records = shuffled.map((r) => {
    const n = (seen.get(r.id) ?? 0) + 1
    seen.set(r.id, n)
    return n === 1 ? r : withId(r, `${r.id}#${n}`)
  })
  return { records, selected }
}

export interface ReplayDatasetSpec {
  readonly path: string
  readonly sampling_size: SamplingSize
  readonly name?: string | undefined
  readonly format?: FormatOption | undefined
}

export const sha256File = async (file: string): Promise<string> => createHash("sha256").update(await fs.readFile(file)).digest("hex")

/**
 * Mixes the train split (already written at `train.path`) with the recipe's datasets, writes the
 * mixed set to `files.out` and the manifest to `files.manifest`. Every path is as the pipeline
 * wrote it (workspace-relative) and is what the manifest records; `resolve` maps it to a file.
 */
export const replayFiles = async (
  train: { readonly path: string; readonly records: ReadonlyArray<DataRecord>; readonly samplingSize: SamplingSize },
  datasets: ReadonlyArray<ReplayDatasetSpec>,
  files: { readonly out: string; readonly manifest: string },
  seed: number,
  resolve: (p: string) => string = (p) => p
): Promise<ReplayManifest> => {
  const sources: Array<ReplaySource & { file: string }> = [{ name: "train", path: train.path, file: resolve(train.path), records: train.records, samplingSize: train.samplingSize }]
  for (const d of datasets) {
    const file = resolve(d.path)
    const dataset = await readDataset(file, { format: d.format ?? "auto", onInvalid: "fail", sourceAs: d.path })
    sources.push({ name: d.name ?? d.path, path: d.path, file, records: dataset.records, samplingSize: d.sampling_size })
  }
  const names = new Set<string>()
  for (const s of sources) {
    if (names.has(s.name)) throw new DataConfigInvalid({ field: "replay.datasets", reason: `two sources are named ${JSON.stringify(s.name)}; give them distinct names` })
    names.add(s.name)
  }
  const { records, selected } = await mixReplay(sources, seed)
  await writeJsonl(resolve(files.out), records)
  const manifest: ReplayManifest = {
    seed,
    sources: await Promise.all(sources.map(async (s, i) => ({
      name: s.name,
      path: s.path,
      sha256: await sha256File(s.file),
      available: s.records.length,
      sampling_size: s.samplingSize,
      selected: selected[i]!
    }))),
    output: { path: files.out, sha256: createHash("sha256").update(toJsonl(records)).digest("hex"), records: records.length }
  }
  await writeJsonFile(resolve(files.manifest), manifest)
  return manifest
}
