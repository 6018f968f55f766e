/**
 * From tokenised examples to the fixed-length rows and batches the trainer consumes, in a
 * seeded order that is a pure function of (seed, epoch), so a resumed run can rebuild exactly
 * the rows it was about to read.
 *
 * Epoch composition with several datasets: an epoch has as many examples as all datasets
 * together. Without weights each dataset contributes its own size (a plain shuffled
 * concatenation); with mixing weights dataset d contributes round(total·w_d/Σw) examples
 * (largest remainders make the counts add up), cycling through its own reshuffled copies when
 * that exceeds its size, or taking a prefix of a shuffle when it is smaller. The selected
 * examples are then shuffled together.
 *
 * Rows: `pad` puts one example per row (truncated to seqLen, padded with padId, mask 0 on
 * padding); `pack` concatenates examples and cuts the stream every seqLen tokens, so a long
 * example continues in the next row and no padding is spent except at the end of the epoch.
 * Packed rows attend across example boundaries (causal mask only), as in HF `group_texts`.
 */
import { deriveSeed, Rng } from "../model/Random.js"
import type { TokenBatch } from "./Loss.js"

/** A tokenised example: ids and a loss mask of the same length (1 = train on this token). */
export interface Example {
  readonly ids: ReadonlyArray<number>
  readonly labelsMask: ReadonlyArray<number>
}

export interface Dataset {
  readonly name: string
  readonly examples: ReadonlyArray<Example>
  /** Mixing weight; datasets without one are weighted by their size. */
  readonly weight?: number
}

export interface RowOptions {
  readonly seqLen: number
  readonly packing: boolean
  readonly padId: number
  readonly seed: number
}

export interface Row {
  readonly ids: Int32Array
  readonly mask: Uint8Array
}

export const validateExample = (e: Example, where: string): void => {
  if (e.ids.length !== e.labelsMask.length) {
    throw new Error(`${where}: ids (${e.ids.length}) and labelsMask (${e.labelsMask.length}) differ in length`)
  }
}

/** Examples each dataset contributes per epoch. */
export const epochCounts = (datasets: ReadonlyArray<Dataset>): Array<number> => {
  const sizes = datasets.map((d) => d.examples.length)
  const total = sizes.reduce((a, b) => a + b, 0)
  if (datasets.every((d) => d.weight === undefined)) return sizes
  const weights = datasets.map((d, i) => d.weight ?? sizes[i]!)
  if (weights.some((w) => !(w >= 0)) || weights.every((w) => w === 0)) throw new Error("data: mixing weights must be ≥ 0 and not all 0")
  const sum = weights.reduce((a, b) => a + b, 0)
  const exact = weights.map((w) => (total * w) / sum)
  const counts = exact.map((x) => Math.floor(x))
  const order = exact.map((x, i) => [x - Math.floor(x), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1])
  let missing = total - counts.reduce((a, b) => a + b, 0)
  for (const [, i] of order) {
    if (missing-- <= 0) break
    counts[i]!++
  }
  datasets.forEach((d, i) => {
    if (counts[i]! > 0 && d.examples.length === 0) throw new Error(`data: dataset ${d.name} has weight but no examples`)
  })
  return counts
}

/** The epoch's examples in training order, as [dataset index, example index]. */
export const epochOrder = (datasets: ReadonlyArray<Dataset>, epoch: number, seed: number): Array<[number, number]> => {
  const counts = epochCounts(datasets)
  const picks: Array<[number, number]> = []
  datasets.forEach((d, di) => {
    const n = d.examples.length
    for (let cycle = 0; cycle * n < counts[di]!; cycle++) {
      const perm = Rng.seeded(deriveSeed(seed, 1, epoch, di, cycle)).shuffle(Array.from({ length: n }, (_, i) => i))
      const take = Math.min(n, counts[di]! - cycle * n)
      for (let i = 0; i < take; i++) picks.push([di, perm[i]!])
    }
  })
  return Rng.seeded(deriveSeed(seed, 2, epoch)).shuffle(picks)
}

/** Rows of one epoch, in order. */
export const epochRows = (datasets: ReadonlyArray<Dataset>, epoch: number, options: RowOptions): Array<Row> => {
  const examples = epochOrder(datasets, epoch, options.seed).map(([d, i]) => datasets[d]!.examples[i]!)
  return options.packing ? packRows(examples, options) : examples.map((e) => padRow(e, options))
}

export const padRow = (e: Example, options: Pick<RowOptions, "seqLen" | "padId">): Row => {
  const ids = new Int32Array(options.seqLen).fill(options.padId)
  const mask = new Uint8Array(options.seqLen)
  const n = Math.min(options.seqLen, e.ids.length)
  for (let i = 0; i < n; i++) {
    ids[i] = e.ids[i]!
    mask[i] = e.labelsMask[i] ? 1 : 0
  }
  return { ids, mask }
}

export const packRows = (examples: ReadonlyArray<Example>, options: Pick<RowOptions, "seqLen" | "padId">): Array<Row> => {
  const rows: Array<Row> = []
  let ids = new Int32Array(options.seqLen).fill(options.padId)
  let mask = new Uint8Array(options.seqLen)
  let at = 0
  for (const e of examples) {
    for (let i = 0; i < e.ids.length; i++) {
      ids[at] = e.ids[i]!
      mask[at] = e.labelsMask[i] ? 1 : 0
      if (++at === options.seqLen) {
        rows.push({ ids, mask })
        ids = new Int32Array(options.seqLen).fill(options.padId)
        mask = new Uint8Array(options.seqLen)
        at = 0
      }
    }
  }
  if (at > 0) rows.push({ ids, mask })
  return rows
}

/** Stack rows into one [B, T] batch. */
export const stackRows = (rows: ReadonlyArray<Row>, seqLen: number): TokenBatch => {
  const ids = new Int32Array(rows.length * seqLen)
  const mask = new Uint8Array(rows.length * seqLen)
  rows.forEach((r, i) => {
    ids.set(r.ids, i * seqLen)
    mask.set(r.mask, i * seqLen)
  })
  return { ids, mask, batch: rows.length, seqLen }
}

/** Number of rows epoch `epoch` yields, without building them. */
export const epochRowCount = (datasets: ReadonlyArray<Dataset>, epoch: number, options: RowOptions): number => {
  const order = epochOrder(datasets, epoch, options.seed)
  if (!options.packing) return order.length
  const tokens = order.reduce((sum, [d, i]) => sum + datasets[d]!.examples[i]!.ids.length, 0)
  return Math.ceil(tokens / options.seqLen)
}
