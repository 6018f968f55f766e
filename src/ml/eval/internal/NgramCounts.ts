/**
 * Multiset counts of token n-grams, the common currency of ROUGE-N, BLEU and chrF.
 */

export type Counts = Map<string, number>

/**
 * Counts the n-grams of one order. Tokens never contain a space (every caller
 * splits on whitespace first), so joining on a space is an injective key.
 */
export const ngramCounts = (tokens: ReadonlyArray<string>, n: number): Counts => {
  const counts: Counts = new Map()
  for (let i = 0; i + n <= tokens.length; i++) {
    let key = tokens[i]!
    for (let k = 1; k < n; k++) key += " " + tokens[i + k]!
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts
}

export const totalCount = (counts: Counts): number => {
  let total = 0
  for (const c of counts.values()) total += c
  return total
}

/** Size of the multiset intersection (Python's `sum((a & b).values())`). */
export const overlapCount = (a: Counts, b: Counts): number => {
  let overlap = 0
  for (const [key, count] of a) {
    const other = b.get(key)
    if (other !== undefined) overlap += Math.min(count, other)
  }
  return overlap
}
