/**
 * The split stage's logic: seeded train/validation/test assignment, stratified by task and
 * group-aware.
 *
 * Groups: records linked through `meta.group` (near-duplicates, see clean) or
 * `meta.augmentedFrom` (variants, see augment) are merged with union-find, transitively, and a
 * group is assigned as a whole, so no near-duplicate or augmented variant of a test record is
 * trained on. A group's stratum is the task of its first record.
 *
 * Sizes: global targets come from ratios (rounded) or counts (train takes the rest). With
 * stratification each task gets its proportional share of every target, rounded by largest
 * remainder so the shares add up to the global targets exactly (a task with one record still
 * lands in test if its remainder is among the largest). Within a task, groups are shuffled with a
 * stream seeded by (seed, task) and go to test while they fit its share, then validation, then
 * train; a group larger than what is left of a share goes to train, so the non-train splits can
 * come out slightly under target but never over.
 */
import type { DataRecord } from "./DataRecord.js"
import { DataConfigInvalid } from "./DataErrors.js"
import { seededRandom } from "./SeededRandom.js"
import { readJsonl, writeJsonl } from "./Jsonl.js"
import { writeJsonFile } from "./JsonFile.js"
import { crossTab } from "./TaskCounts.js"

export const SPLITS = ["train", "validation", "test"] as const
export type SplitName = (typeof SPLITS)[number]

export interface SplitOptions {
  readonly seed: number
  readonly ratios: { readonly train: number; readonly validation: number; readonly test: number }
  /** Absolute sizes; when given they replace the ratios and train gets every other record. */
  readonly counts?: { readonly validation: number; readonly test: number } | undefined
  readonly stratify: boolean
}

export interface SplitResult {
  readonly splits: Readonly<Record<SplitName, ReadonlyArray<DataRecord>>>
  /** The split of every input record, index-aligned with the input. */
  readonly assignment: ReadonlyArray<SplitName>
  readonly targets: Readonly<Record<SplitName, number>>
  readonly groups: number
  /** Groups with more than one record. */
  readonly multiRecordGroups: number
}

/** Union-find over record ids and the ids they point at. */
export const groupKeys = (records: ReadonlyArray<DataRecord>): Array<string> => {
  const parent = new Map<string, string>()
  const find = (x: string): string => {
    let root = x
    while (parent.has(root) && parent.get(root) !== root) root = parent.get(root)!
    let node = x
    while (node !== root) {
      const next = parent.get(node) ?? root
      parent.set(node, root)
      node = next
    }
    return root
  }
  const union = (a: string, b: string) => {
    if (!parent.has(a)) parent.set(a, a)
    if (!parent.has(b)) parent.set(b, b)
    const ra = find(a)
    const rb = find(b)
    if (ra !== rb) parent.set(rb < ra ? ra : rb, rb < ra ? rb : ra) // smaller id wins: order-independent roots
  }
  for (const r of records) {
    if (!parent.has(r.id)) parent.set(r.id, r.id)
    const group = r.meta?.["group"]
    const from = r.meta?.["augmentedFrom"]
    if (typeof group === "string" && group !== "") union(r.id, group)
    if (typeof from === "string" && from !== "") union(r.id, from)
  }
  return records.map((r) => find(r.id))
}

const globalTargets = (n: number, options: SplitOptions): Record<SplitName, number> => {
  if (options.counts !== undefined) {
    const { validation, test } = options.counts
    if (!Number.isInteger(validation) || !Number.isInteger(test) || validation < 0 || test < 0) {
      throw new DataConfigInvalid({ field: "counts", reason: "validation and test must be non-negative integers" })
    }
    const t = Math.min(test, n)
    const v = Math.min(validation, n - t)
    return { train: n - t - v, validation: v, test: t }
  }
  const { train, validation, test } = options.ratios
  const sum = train + validation + test
  if ([train, validation, test].some((r) => r < 0) || Math.abs(sum - 1) > 1e-6) {
    throw new DataConfigInvalid({ field: "ratios", reason: `train + validation + test must be 1, got ${sum}` })
  }
  const t = Math.round(n * test)
  const v = Math.min(Math.round(n * validation), n - t)
  return { train: n - t - v, validation: v, test: t }
}

/**
 * Splits `total` over strata proportionally to `sizes`, by largest remainder, never giving a
 * stratum more than its `capacity`; the result adds up to `total` whenever capacity allows.
 */
const apportion = (
  total: number,
  sizes: ReadonlyArray<number>,
  capacity: ReadonlyArray<number>,
  order: ReadonlyArray<number>
): Array<number> => {
  const n = sizes.reduce((a, b) => a + b, 0)
  if (n === 0) return sizes.map(() => 0)
  const exact = sizes.map((s) => (s * total) / n)
  const out = exact.map((e, i) => Math.min(Math.floor(e), capacity[i]!))
  let left = total - out.reduce((a, b) => a + b, 0)
  // ties in the remainder are broken by a seeded order of strata, not by their names
  const byRemainder = [...order].sort((a, b) => exact[b]! - out[b]! - (exact[a]! - out[a]!))
  while (left > 0) {
    let placed = false
    for (const i of byRemainder) {
      if (left === 0) break
      if (out[i]! < capacity[i]!) {
        out[i]!++
        left--
        placed = true
      }
    }
    if (!placed) break
  }
  return out
}

export const splitRecords = (records: ReadonlyArray<DataRecord>, options: SplitOptions): SplitResult => {
  const keys = groupKeys(records)
  // Groups in order of first appearance, with their members and stratum.
  const groups = new Map<string, { members: Array<number>; stratum: string }>()
  records.forEach((r, i) => {
    const g = groups.get(keys[i]!)
    if (g === undefined) groups.set(keys[i]!, { members: [i], stratum: options.stratify ? r.task : "" })
    else g.members.push(i)
  })
  const strata = new Map<string, Array<{ key: string; members: Array<number> }>>()
  for (const [key, g] of groups) {
    const list = strata.get(g.stratum) ?? []
    list.push({ key, members: g.members })
    strata.set(g.stratum, list)
  }
  const names = [...strata.keys()].sort()
  const sizes = names.map((s) => strata.get(s)!.reduce((n, g) => n + g.members.length, 0))
  const order = seededRandom(options.seed, "strata").shuffle(names.map((_, i) => i))
  const targets = globalTargets(records.length, options)
  // Validation is apportioned over what test left, so a one-record task is not promised to both.
  const testShare = apportion(targets.test, sizes, sizes, order)
  const validationShare = apportion(targets.validation, sizes, sizes.map((size, i) => size - testShare[i]!), order)

  const assignment: Array<SplitName> = new Array(records.length).fill("train")
  names.forEach((name, s) => {
    const shuffled = seededRandom(options.seed, "stratum", name).shuffle(strata.get(name)!)
    let test = 0
    let validation = 0
    for (const group of shuffled) {
      const size = group.members.length
      let split: SplitName = "train"
      if (test + size <= testShare[s]!) {
        split = "test"
        test += size
      } else if (validation + size <= validationShare[s]!) {
        split = "validation"
        validation += size
      }
      for (const i of group.members) assignment[i] = split
    }
  })

  const splits: Record<SplitName, Array<DataRecord>> = { train: [], validation: [], test: [] }
  records.forEach((r, i) => splits[assignment[i]!].push(r))
  let multi = 0
  for (const g of groups.values()) if (g.members.length > 1) multi++
  return { splits, assignment, targets, groups: groups.size, multiRecordGroups: multi }
}

export interface SplitFiles {
  readonly input: string
  readonly train: string
  readonly validation: string
  readonly test: string
  readonly report: string
}

export interface SplitReport {
  readonly seed: number
  readonly input: number
  readonly targets: Readonly<Record<SplitName, number>>
  readonly counts: Readonly<Record<SplitName, number>>
  readonly byTask: Readonly<Record<string, Readonly<Record<SplitName, number>>>>
  readonly groups: number
  readonly multiRecordGroups: number
  /** Groups found in more than one split; 0 by construction, checked on the output. */
  readonly leakedGroups: number
}

/** Reads `input`, splits it, writes the three splits and the report; returns the result too. */
export const splitFiles = async (files: SplitFiles, options: SplitOptions): Promise<{ result: SplitResult; report: SplitReport }> => {
  const records = await readJsonl(files.input)
  const result = splitRecords(records, options)
  for (const split of SPLITS) await writeJsonl(files[split], result.splits[split])
  const report: SplitReport = {
    seed: options.seed,
    input: records.length,
    targets: result.targets,
    counts: { train: result.splits.train.length, validation: result.splits.validation.length, test: result.splits.test.length },
    byTask: await crossTab(records, result.assignment, SPLITS),
    groups: result.groups,
    multiRecordGroups: result.multiRecordGroups,
    leakedGroups: leakedGroups(records, result.assignment)
  }
  await writeJsonFile(files.report, report)
  return { result, report }
}

/** Groups whose records ended up in more than one split. */
export const leakedGroups = (records: ReadonlyArray<DataRecord>, assignment: ReadonlyArray<SplitName>): number => {
  const keys = groupKeys(records)
  const seen = new Map<string, SplitName>()
  const leaked = new Set<string>()
  keys.forEach((k, i) => {
    const s = seen.get(k)
    if (s === undefined) seen.set(k, assignment[i]!)
    else if (s !== assignment[i]) leaked.add(k)
  })
  return leaked.size
}
