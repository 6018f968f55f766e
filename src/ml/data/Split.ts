/**
 * The split stage's logic: seeded train/validation/test assignment, stratified by task and
 * group-aware.
 *
 * Groups: records linked through `meta.group` (near-duplicates, see clean) or
 * `meta.augmentedFrom` (variants, see augment) are merged with union-find, transitively, and a
 * group is assigned as a whole, so no near-duplicate or augmented variant of a test record is
 * trained on. A group's stratum is the task of its first record.
 *
 * Sizes: targets come from ratios (rounded) or counts (train takes the rest), in records.
 *
 * Order: within each stratum (task) the groups are shuffled with a stream seeded by
 * (seed, task) and spread evenly over [0, 1) with a seeded random offset — group i of n sits at
 * (i + u) / n, systematic sampling — and all groups are then walked in that order. The walk fills
 * test, then validation, then train, so each split takes the same slice of every task's order
 * and tasks are represented in proportion, even tasks with a single group (their one group lands
 * in test with probability ≈ the test ratio). A group goes to a split that still needs records
 * if at least half of it fits, so totals stay within half a group of their targets; with
 * single-record groups they are exact.
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

export const splitRecords = (records: ReadonlyArray<DataRecord>, options: SplitOptions): SplitResult => {
  const keys = groupKeys(records)
  // Groups in order of first appearance, with their members and stratum.
  const groups = new Map<string, { members: Array<number>; stratum: string }>()
  records.forEach((r, i) => {
    const g = groups.get(keys[i]!)
    if (g === undefined) groups.set(keys[i]!, { members: [i], stratum: options.stratify ? r.task : "" })
    else g.members.push(i)
  })
  const strata = new Map<string, Array<Array<number>>>()
  for (const g of groups.values()) {
    const list = strata.get(g.stratum) ?? []
    list.push(g.members)
    strata.set(g.stratum, list)
  }

  // Systematic positions: every stratum's groups spread over [0, 1) from a random start.
  const ordered: Array<{ position: number; stratum: string; rank: number; members: Array<number> }> = []
  for (const [name, list] of strata) {
    const rng = seededRandom(options.seed, "stratum", name)
    const shuffled = rng.shuffle(list)
    const offset = rng.next()
    shuffled.forEach((members, rank) => ordered.push({ position: (rank + offset) / shuffled.length, stratum: name, rank, members }))
  }
  ordered.sort((a, b) => a.position - b.position || (a.stratum < b.stratum ? -1 : a.stratum > b.stratum ? 1 : a.rank - b.rank))

  const targets = globalTargets(records.length, options)
  const filled: Record<SplitName, number> = { train: 0, validation: 0, test: 0 }
  const takes = (split: SplitName, size: number) => {
    const missing = targets[split] - filled[split]
    return missing > 0 && 2 * missing >= size
  }
  const assignment: Array<SplitName> = new Array(records.length).fill("train")
  for (const group of ordered) {
    const size = group.members.length
    const split: SplitName = takes("test", size) ? "test" : takes("validation", size) ? "validation" : "train"
    filled[split] += size
    for (const i of group.members) assignment[i] = split
  }

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
