/**
 * Train a byte-level BPE tokenizer on a corpus, GPT-2 style: the 256 byte tokens first (in
 * GPT-2's id order), then one token per learned merge, then the special tokens.
 *
 * Each step merges the most frequent adjacent pair over all pre-tokens (weighted by how often
 * the pre-token occurs). Ties go to the pair whose left token was created first, then whose
 * right token was; byte tokens count as created in GPT-2's byte order. Nothing else (corpus order,
 * hash order) affects the result, so a corpus always gives the same merges and byte-identical
 * `tokenizer.json`.
 *
 * Pair counts are kept up to date by each merge (only the words containing the pair are
 * touched), and a max-heap with lazy re-insertion picks the next pair, as HF's trainer does.
 */
import { BYTE_ALPHABET, byteToChar, GPT2_SPLIT_PATTERN } from "./ByteLevel.js"
import { BpeTokenizer } from "./BpeTokenizer.js"
import { Heap } from "./internal/Heap.js"
import { specialPattern } from "./internal/SpecialPattern.js"
import type { SpecialTokenRoles } from "./Tokenizer.js"
import { InvalidTrainOptions } from "./TokenizerError.js"

export interface TrainBpeOptions {
  /** Total size including the 256 byte tokens and the special tokens. */
  readonly vocabSize: number
  /**
   * A pair seen fewer times is never merged, so the vocabulary can end up smaller than asked.
   * Default 2: a pair seen once would only memorise one spot of the corpus.
   */
  readonly minFrequency?: number
  /** Given ids after the merges, in this order; typically `DEFAULT_SPECIAL_TOKENS`. */
  readonly specialTokens: ReadonlyArray<string>
  readonly roles?: SpecialTokenRoles
}

interface Word {
  symbols: number[]
  readonly count: number
}

interface Candidate {
  readonly count: number
  readonly key: number
}

/** Pair (a, b) is keyed a * KEY_BASE + b: exact in a double for ids below 2^21. */
const KEY_BASE = 2 ** 21

/** Base token id of each byte: its position in GPT-2's alphabet. */
const byteBaseId: ReadonlyArray<number> = byteToChar.map((c) => BYTE_ALPHABET.indexOf(c))

export const trainBpe = (texts: Iterable<string>, options: TrainBpeOptions): BpeTokenizer => {
  const specials = options.specialTokens
  const minFrequency = options.minFrequency ?? 2
  const targetTokens = options.vocabSize - specials.length
  if (!Number.isInteger(options.vocabSize) || targetTokens < 256) {
    throw new InvalidTrainOptions({
      option: "vocabSize",
      problem: `${options.vocabSize} leaves no room for 256 byte tokens and ${specials.length} special tokens`
    })
  }
  if (options.vocabSize > KEY_BASE) {
    throw new InvalidTrainOptions({ option: "vocabSize", problem: `at most ${KEY_BASE}` })
  }
  if (new Set(specials).size !== specials.length || specials.some((s) => s.length === 0)) {
    throw new InvalidTrainOptions({ option: "specialTokens", problem: "must be distinct non-empty strings" })
  }
  if (specials.some((s) => BYTE_ALPHABET.includes(s))) {
    throw new InvalidTrainOptions({ option: "specialTokens", problem: "a special token cannot be a single byte token" })
  }

  const words = countWords(texts, specials)
  const tokens: string[] = [...BYTE_ALPHABET]
  const idOf = new Map(tokens.map((t, i) => [t, i]))
  const merges: Array<readonly [string, string]> = []
  // A merge spelling a special token would let plain text produce it.
  const forbidden = new Set(specials)

  const pairCounts = new Map<number, number>()
  /** Words that contained the pair when it was counted; may list a word twice or stale ones. */
  const pairWords = new Map<number, number[]>()
  const add = (key: number, delta: number, word: number): void => {
    const count = (pairCounts.get(key) ?? 0) + delta
    if (count === 0) {
      pairCounts.delete(key)
      pairWords.delete(key)
      return
    }
    pairCounts.set(key, count)
    if (delta > 0) {
      const list = pairWords.get(key)
      if (list === undefined) pairWords.set(key, [word])
      else if (list[list.length - 1] !== word) list.push(word)
    }
  }
  words.forEach((word, w) => {
    const s = word.symbols
    for (let i = 0; i + 1 < s.length; i++) add(s[i]! * KEY_BASE + s[i + 1]!, word.count, w)
  })

  const heap = new Heap<Candidate>((x, y) => x.count > y.count || (x.count === y.count && x.key < y.key))
  for (const [key, count] of pairCounts) heap.push({ count, key })
  const visited = new Int32Array(words.length).fill(-1)

  while (tokens.length < targetTokens) {
    const top = heap.pop()
    if (top === undefined) break
    const count = pairCounts.get(top.key) ?? 0
    // Counts only fall for pairs already in the heap, so a mismatch means "re-queue lower".
    if (count !== top.count) {
      if (count > 0) heap.push({ count, key: top.key })
      continue
    }
    if (count < minFrequency) break
    const a = Math.floor(top.key / KEY_BASE)
    const b = top.key - a * KEY_BASE
    const spelled = tokens[a]! + tokens[b]!
    if (forbidden.has(spelled)) continue
    merges.push([tokens[a]!, tokens[b]!])
    // Two merge paths can spell the same token ((ab)c and a(bc)); it keeps one id, as in HF.
    let c = idOf.get(spelled)
    if (c === undefined) {
      c = tokens.length
      tokens.push(spelled)
      idOf.set(spelled, c)
    }

    const step = merges.length
    const touched = new Set<number>()
    for (const w of pairWords.get(top.key) ?? []) {
      if (visited[w] === step) continue
      visited[w] = step
      const word = words[w]!
      const s = word.symbols
      const f = word.count
      const out: number[] = []
      let changed = false
      for (let i = 0; i < s.length; ) {
        if (i + 1 < s.length && s[i] === a && s[i + 1] === b) {
          changed = true
          // The left neighbour is `out`'s last symbol, which may be a `c` made just before:
          // then the (c, a) counted a moment ago becomes (c, c).
          if (out.length > 0) {
            const p = out[out.length - 1]!
            add(p * KEY_BASE + a, -f, w)
            add(p * KEY_BASE + c, f, w)
            touched.add(p * KEY_BASE + c)
          }
          if (i + 2 < s.length) {
            const n = s[i + 2]!
            add(b * KEY_BASE + n, -f, w)
            add(c * KEY_BASE + n, f, w)
            touched.add(c * KEY_BASE + n)
          }
          add(top.key, -f, w)
          out.push(c)
          i += 2
        } else {
          out.push(s[i]!)
          i += 1
        }
      }
      if (changed) word.symbols = out
    }
    pairCounts.delete(top.key)
    pairWords.delete(top.key)
    for (const key of touched) {
      const n = pairCounts.get(key)
      if (n !== undefined) heap.push({ count: n, key })
    }
  }

  return BpeTokenizer.create({
    vocab: idOf,
    merges,
    specialTokens: specials,
    ...(options.roles !== undefined ? { roles: options.roles } : {})
  })
}

/** Distinct pre-tokens with their counts; special-token strings are cut out first. */
const countWords = (texts: Iterable<string>, specials: ReadonlyArray<string>): Word[] => {
  const counts = new Map<string, number>()
  const splitter = new RegExp(GPT2_SPLIT_PATTERN, "gu")
  const countSegment = (segment: string): void => {
    splitter.lastIndex = 0
    for (let m = splitter.exec(segment); m !== null; m = splitter.exec(segment)) {
      counts.set(m[0], (counts.get(m[0]) ?? 0) + 1)
    }
  }
  const cut = specialPattern(specials, "")
  for (const text of texts) {
    if (cut === undefined) countSegment(text)
    else for (const segment of text.split(cut)) countSegment(segment)
  }
  const utf8 = new TextEncoder()
  const words: Word[] = []
  for (const [word, count] of counts) {
    const bytes = utf8.encode(word)
    words.push({ symbols: Array.from(bytes, (byte) => byteBaseId[byte]!), count })
  }
  return words
}
