/**
 * Near-duplicate detection with MinHash signatures and LSH banding.
 *
 * Text → lower-cased word tokens (runs of letters, marks and digits) → shingles of `shingleSize` consecutive
 * tokens (a text shorter than that is one shingle) → 32-bit shingle hashes → `numPerm` minimums,
 * one per seeded affine hash function (32-bit, in a flat Uint32Array so 100k signatures are one
 * allocation). Signatures are cut into `bands` bands of
 * `numPerm / bands` rows; texts sharing a band bucket are candidates, and a candidate is a
 * near-duplicate when the share of equal signature rows (the Jaccard estimate) reaches the
 * threshold.
 *
 * Records are visited in order and only kept ones enter the buckets, so every duplicate points at
 * the first kept record it resembles: groups are stars around a representative, never chains.
 */
import { fmix32, seededRandom } from "./SeededRandom.js"

export interface MinHashOptions {
  readonly shingleSize: number
  readonly numPerm: number
  readonly bands: number
  /** Estimated Jaccard similarity at or above which a text is a near-duplicate. */
  readonly threshold: number
  readonly seed: number
}

export interface NearDuplicates {
  /** Index of the kept text each text duplicates, or -1 for kept texts. */
  readonly duplicateOf: Int32Array
  /** Estimated Jaccard similarity to that text (0 for kept texts). */
  readonly similarity: Float32Array
}

/** Word tokens: runs of letters, marks and digits (V8's regex engine beats a hand-written scan). */
const WORD = /[\p{L}\p{M}\p{N}]+/gu

let tokenBuffer = new Int32Array(1024)

/**
 * Writes the 32-bit shingle hashes of `text` into `out` (grown as needed) and returns them with
 * their count; typed buffers are reused across texts so the hot loop allocates nothing.
 */
const fillShingles = (text: string, shingleSize: number, out: Int32Array): { hashes: Int32Array; count: number } => {
  const lower = text.toLowerCase()
  let tokens = 0
  WORD.lastIndex = 0
  let m: RegExpExecArray | null
  while ((m = WORD.exec(lower)) !== null) {
    const word = m[0]
    let h = 0x811c9dc5
    for (let i = 0; i < word.length; i++) h = Math.imul(h ^ word.charCodeAt(i), 0x01000193)
    if (tokens === tokenBuffer.length) {
      const grown = new Int32Array(tokens * 2)
      grown.set(tokenBuffer)
      tokenBuffer = grown
    }
    tokenBuffer[tokens++] = h
  }
  if (tokens === 0) return { hashes: out, count: 0 }
  const k = Math.min(shingleSize, tokens)
  const count = tokens - k + 1
  let hashes = out
  if (count > hashes.length) hashes = new Int32Array(count * 2)
  for (let i = 0; i < count; i++) {
    let x = 0
    for (let j = 0; j < k; j++) x = Math.imul(x ^ tokenBuffer[i + j]!, 0x9e3779b1) ^ (x >>> 15)
    hashes[i] = fmix32(x) | 0
  }
  return { hashes, count }
}

/** 32-bit hashes of the word shingles of `text` (possibly with repeats; MinHash ignores them). */
export const shingleHashes = (text: string, shingleSize: number): Array<number> => {
  const { hashes, count } = fillShingles(text, shingleSize, new Int32Array(64))
  return Array.from(hashes.subarray(0, count), (x) => x >>> 0)
}

export interface Signatures {
  /** `numPerm` values per text, back to back. */
  readonly values: Uint32Array
  /** 1 for texts without a single word (their signature is meaningless). */
  readonly empty: Uint8Array
}

/** MinHash signatures of all texts. */
export const signatures = (texts: ReadonlyArray<string>, options: Pick<MinHashOptions, "shingleSize" | "numPerm" | "seed">): Signatures => {
  const { numPerm } = options
  const rng = seededRandom(options.seed, "minhash")
  // h_p(x) = (a_p·x + b_p) mod 2^32 with odd a_p: a bijection of the 32-bit space per
  // permutation, applied to already avalanched shingle hashes (the same affine family as the
  // usual (a·x + b) mod prime, in native 32-bit arithmetic).
  const mul = new Int32Array(numPerm)
  const add = new Int32Array(numPerm)
  for (let p = 0; p < numPerm; p++) {
    mul[p] = Math.floor(rng.next() * 4294967296) | 1
    add[p] = Math.floor(rng.next() * 4294967296) | 0
  }
  const sig = new Uint32Array(texts.length * numPerm)
  const empty = new Uint8Array(texts.length)
  let shingles: Int32Array = new Int32Array(256)
  for (let t = 0; t < texts.length; t++) {
    const filled = fillShingles(texts[t]!, options.shingleSize, shingles)
    shingles = filled.hashes
    const count = filled.count
    if (count === 0) {
      empty[t] = 1
      continue
    }
    const base = t * numPerm
    // Permutation-major: a and b stay in registers and the inner loop is a multiply-add and
    // a compare over a small typed array; this loop is where clean spends most of its time.
    for (let p = 0; p < numPerm; p++) {
      const a = mul[p]!
      const b = add[p]!
      let min = 0xffffffff
      for (let s = 0; s < count; s++) {
        const h = (Math.imul(shingles[s]!, a) + b) >>> 0
        if (h < min) min = h
      }
      sig[base + p] = min
    }
  }
  return { values: sig, empty }
}

/** Finds near-duplicates among `texts` (in order; earlier texts are the representatives). */
export const findNearDuplicates = (texts: ReadonlyArray<string>, options: MinHashOptions): NearDuplicates => {
  const { numPerm, bands } = options
  if (bands < 1 || numPerm % bands !== 0) throw new RangeError(`numPerm (${numPerm}) must be a multiple of bands (${bands})`)
  const rows = numPerm / bands
  const n = texts.length
  const { values: sig, empty } = signatures(texts, options)
  const duplicateOf = new Int32Array(n).fill(-1)
  const similarity = new Float32Array(n)
  // Per band: bucket key → most recent kept text; `chain` links to the previous one in the bucket.
  const heads: Array<Map<number, number>> = Array.from({ length: bands }, () => new Map())
  const chain = new Int32Array(n * bands).fill(-1)
  const keys = new Int32Array(bands)
  const seenBy = new Int32Array(n).fill(-1) // candidate j already compared against text i
  const minEqual = Math.ceil(options.threshold * numPerm - 1e-9)

  for (let i = 0; i < n; i++) {
    if (empty[i] === 1) continue // nothing to compare; never a representative either
    const base = i * numPerm
    for (let b = 0; b < bands; b++) {
      let h = b
      for (let r = 0; r < rows; r++) h = Math.imul(h ^ sig[base + b * rows + r]!, 0x9e3779b1) ^ (h >>> 16)
      keys[b] = fmix32(h) & 0x3fffffff // small-integer keys keep Map entries unboxed
    }
    let best = -1
    let bestEqual = -1
    for (let b = 0; b < bands; b++) {
      let j = heads[b]!.get(keys[b]!) ?? -1
      while (j !== -1) {
        if (seenBy[j] !== i) {
          seenBy[j] = i
          const equal = equalRows(sig, base, j * numPerm, numPerm)
          if (equal >= minEqual && (equal > bestEqual || (equal === bestEqual && j < best))) {
            best = j
            bestEqual = equal
          }
        }
        j = chain[j * bands + b]!
      }
    }
    if (best !== -1) {
      duplicateOf[i] = best
      similarity[i] = bestEqual / numPerm
      continue
    }
    for (let b = 0; b < bands; b++) {
      const map = heads[b]!
      chain[i * bands + b] = map.get(keys[b]!) ?? -1
      map.set(keys[b]!, i)
    }
  }
  return { duplicateOf, similarity }
}

const equalRows = (sig: Uint32Array, a: number, b: number, length: number): number => {
  let equal = 0
  for (let k = 0; k < length; k++) if (sig[a + k] === sig[b + k]) equal++
  return equal
}
