/**
 * How sacrebleu reads a reference set: per segment, empty references are
 * dropped so segments may have different numbers of references, and the
 * signature reports `nrefs:var` when they do.
 */

export interface ReferenceSets {
  /** The references actually scored, per segment; never empty. */
  readonly segments: ReadonlyArray<ReadonlyArray<string>>
  readonly nrefs: number | "var"
}

export const referenceSets = (refs: ReadonlyArray<ReadonlyArray<string>>): ReferenceSets => {
  const counts = new Set<number>()
  const segments = refs.map((segment) => {
    const kept = segment.filter((ref) => ref !== "")
    // sacrebleu raises on a segment with no reference at all; scoring it
    // against one empty reference instead gives 0 and keeps a run going.
    const used = kept.length > 0 ? kept : [""]
    counts.add(used.length)
    return used
  })
  return { segments, nrefs: counts.size === 1 ? [...counts][0]! : counts.size === 0 ? 1 : "var" }
}
