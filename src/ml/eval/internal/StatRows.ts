/**
 * Per-segment sufficient statistics as rows of numbers. Corpus metrics sum the
 * rows and then compute the score, so a bootstrap replicate is just a sum over
 * resampled row indices.
 */

export type StatRows = ReadonlyArray<ReadonlyArray<number>>

/** Column sums over all rows, or over `indices` (repeats count again) when given. */
export const sumRows = (rows: StatRows, width: number, indices?: ArrayLike<number>): Array<number> => {
  const sum = new Array<number>(width).fill(0)
  const n = indices === undefined ? rows.length : indices.length
  for (let k = 0; k < n; k++) {
    const row = rows[indices === undefined ? k : indices[k]!]!
    for (let i = 0; i < width; i++) sum[i]! += row[i]!
  }
  return sum
}
