/**
 * Byte-level BPE with GPT-2's pre-tokenisation: the one `Tokenizer` implementation. A trained
 * tokenizer, GPT-2's vocab.json + merges.txt, a loaded tokenizer.json and GPT-2 from
 * `gpt-tokenizer` all end up as a vocabulary, an ordered merge list and added tokens here.
 *
 * Encoding follows HF `tokenizers` (BPE model, ByteLevel pre-tokenizer, no `ignore_merges`):
 * within each pre-token, repeatedly merge the adjacent pair with the lowest merge rank, leftmost
 * first. Pre-tokens repeat a lot in natural text, so each one's ids are cached.
 */
import { byteToChar, byteLevelToBytes, GPT2_SPLIT_PATTERN } from "./ByteLevel.js"
import { Heap } from "./internal/Heap.js"
import { specialPattern } from "./internal/SpecialPattern.js"
import {
  type AddedToken,
  type DecodeOptions,
  EOS_TOKEN,
  PAD_TOKEN,
  PROMPT_TOKEN,
  COMPLETION_TOKEN,
  type SpecialTokenIds,
  type SpecialTokenRoles,
  type Tokenizer
} from "./Tokenizer.js"
import { InvalidTokenizerFile, MissingSpecialToken, UnknownTokenId } from "./TokenizerError.js"
import type { TokenizerJson } from "./TokenizerJson.js"

export interface BpeSpec {
  /** Token spelling (byte-level) → id. */
  readonly vocab: ReadonlyMap<string, number>
  /** Merges in rank order: `[left, right]` makes `left + right`, which must be in `vocab`. */
  readonly merges: ReadonlyArray<readonly [string, string]>
  /** Added tokens with fixed ids (from a tokenizer.json). */
  readonly addedTokens?: ReadonlyArray<AddedToken>
  /**
   * Special tokens to make sure of: one already added is kept, one in `vocab` becomes an added
   * token with that id (GPT-2's `<|endoftext|>`), any other gets the next free id.
   */
  readonly specialTokens?: ReadonlyArray<string>
  readonly roles?: SpecialTokenRoles
  /** Named in error messages. */
  readonly source?: string
}

/** Cache bound: ~100k distinct pre-tokens is a few MB; past that the cache starts over. */
const MAX_CACHED_WORDS = 100_000

const utf8 = new TextEncoder()
const utf8Decoder = new TextDecoder("utf-8")

export class BpeTokenizer implements Tokenizer {
  readonly vocabSize: number
  readonly specialTokens: SpecialTokenIds
  readonly addedTokens: ReadonlyArray<AddedToken>
  readonly merges: ReadonlyArray<readonly [string, string]>

  private readonly vocab: ReadonlyMap<string, number>
  private readonly roles: SpecialTokenRoles
  /** id → stored spelling; holes for unused ids. */
  private readonly tokens: ReadonlyArray<string | undefined>
  /** Merge rank of the pair (left id, right id), keyed `left * vocabSize + right`. */
  private readonly ranks = new Map<number, number>()
  /** Id of the token merge r makes. */
  private readonly mergeResult: Int32Array
  /** Id of each byte's base token, -1 when the vocabulary lacks it (HF then drops the byte). */
  private readonly byteIds = new Int32Array(256)
  private readonly addedById = new Map<number, AddedToken>()
  private readonly addedPattern: RegExp | undefined
  private readonly splitter = new RegExp(GPT2_SPLIT_PATTERN, "gu")
  private readonly cache = new Map<string, ReadonlyArray<number>>()
  private tokenBytes: Array<Uint8Array | undefined> = []

  private constructor(spec: BpeSpec) {
    const source = spec.source ?? "<tokenizer>"
    const vocab = new Map(spec.vocab)
    const added = new Map<string, AddedToken>()
    for (const token of spec.addedTokens ?? []) added.set(token.content, token)
    let nextId = 0
    for (const id of vocab.values()) nextId = Math.max(nextId, id + 1)
    for (const token of added.values()) nextId = Math.max(nextId, token.id + 1)
    for (const content of spec.specialTokens ?? []) {
      if (added.has(content)) continue
      const id = vocab.get(content) ?? nextId++
      added.set(content, { id, content, special: true })
    }
    // Added tokens also live in the model vocabulary, as in GPT-2's files and HF-trained ones.
    for (const token of added.values()) {
      const known = vocab.get(token.content)
      if (known !== undefined && known !== token.id) {
        throw new InvalidTokenizerFile({
          source,
          location: "/added_tokens",
          problem: `${JSON.stringify(token.content)} has id ${token.id} but the vocabulary says ${known}`
        })
      }
      vocab.set(token.content, token.id)
    }
    this.vocab = vocab
    this.addedTokens = [...added.values()].sort((a, b) => a.id - b.id)
    for (const token of this.addedTokens) this.addedById.set(token.id, token)
    this.vocabSize = nextId

    const tokens = new Array<string | undefined>(this.vocabSize)
    for (const [token, id] of vocab) {
      if (tokens[id] !== undefined) {
        throw new InvalidTokenizerFile({
          source,
          location: "/model/vocab",
          problem: `id ${id} is used by both ${JSON.stringify(tokens[id])} and ${JSON.stringify(token)}`
        })
      }
      tokens[id] = token
    }
    this.tokens = tokens

    this.merges = spec.merges
    this.mergeResult = new Int32Array(spec.merges.length)
    spec.merges.forEach(([left, right], rank) => {
      const a = vocab.get(left)
      const b = vocab.get(right)
      const c = vocab.get(left + right)
      if (a === undefined || b === undefined || c === undefined) {
        const missing = a === undefined ? left : b === undefined ? right : left + right
        throw new InvalidTokenizerFile({
          source,
          location: `merge ${rank}`,
          problem: `${JSON.stringify(missing)} is not in the vocabulary`
        })
      }
      // A repeated pair keeps its last rank, as HF's merge map does.
      this.ranks.set(a * this.vocabSize + b, rank)
      this.mergeResult[rank] = c
    })
    for (let b = 0; b < 256; b++) this.byteIds[b] = vocab.get(byteToChar[b]!) ?? -1

    this.addedPattern = specialPattern(this.addedTokens.map((t) => t.content), "g")
    this.roles = spec.roles ?? {}
    this.specialTokens = resolveRoles(added, this.roles)
  }

  static create(spec: BpeSpec): BpeTokenizer {
    return new BpeTokenizer(spec)
  }

  /** This vocabulary and merges with more special tokens (e.g. template markers for GPT-2). */
  withSpecialTokens(contents: ReadonlyArray<string>, roles?: SpecialTokenRoles): BpeTokenizer {
    return new BpeTokenizer({
      vocab: this.vocab,
      merges: this.merges,
      addedTokens: this.addedTokens,
      specialTokens: contents,
      roles: roles ?? this.roles
    })
  }

  encode(text: string): number[] {
    const ids: number[] = []
    this.encodeInto(text, ids)
    return ids
  }

  encodeWithSpecial(text: string): number[] {
    const pattern = this.addedPattern
    if (pattern === undefined) return this.encode(text)
    const ids: number[] = []
    pattern.lastIndex = 0
    let start = 0
    for (let m = pattern.exec(text); m !== null; m = pattern.exec(text)) {
      if (m.index > start) this.encodeInto(text.slice(start, m.index), ids)
      ids.push(this.vocab.get(m[0])!)
      start = m.index + m[0].length
    }
    if (start < text.length) this.encodeInto(start === 0 ? text : text.slice(start), ids)
    return ids
  }

  decode(ids: ReadonlyArray<number>, options?: DecodeOptions): string {
    const skip = options?.skipSpecialTokens ?? false
    const parts: Uint8Array[] = []
    let length = 0
    for (const id of ids) {
      if (skip && this.addedById.get(id)?.special === true) continue
      const bytes = this.bytesOf(id)
      parts.push(bytes)
      length += bytes.length
    }
    const all = new Uint8Array(length)
    let offset = 0
    for (const part of parts) {
      all.set(part, offset)
      offset += part.length
    }
    return utf8Decoder.decode(all)
  }

  tokenToId(token: string): number | undefined {
    return this.vocab.get(token)
  }

  idToToken(id: number): string | undefined {
    return this.tokens[id]
  }

  toJSON(): TokenizerJson {
    const vocab: Record<string, number> = Object.create(null)
    // Null prototype: a token spelled `__proto__` must become a key, not a prototype.
    this.tokens.forEach((token, id) => {
      if (token !== undefined) vocab[token] = id
    })
    return {
      version: "1.0",
      truncation: null,
      padding: null,
      added_tokens: this.addedTokens.map((t) => ({
        id: t.id,
        content: t.content,
        single_word: false,
        lstrip: false,
        rstrip: false,
        normalized: false,
        special: t.special
      })),
      normalizer: null,
      pre_tokenizer: { type: "ByteLevel", add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: "ByteLevel", add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: "ByteLevel", add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: {
        type: "BPE",
        dropout: null,
        unk_token: null,
        continuing_subword_prefix: "",
        end_of_word_suffix: "",
        fuse_unk: false,
        byte_fallback: false,
        vocab,
        // "left right" strings load in every `tokenizers` version; byte-level tokens never contain a space.
        merges: this.merges.map(([a, b]) => `${a} ${b}`)
      }
    }
  }

  private encodeInto(text: string, ids: number[]): void {
    const splitter = this.splitter
    splitter.lastIndex = 0
    for (let m = splitter.exec(text); m !== null; m = splitter.exec(text)) {
      const word = m[0]
      let wordIds = this.cache.get(word)
      if (wordIds === undefined) {
        wordIds = this.encodeWord(word)
        if (this.cache.size >= MAX_CACHED_WORDS) this.cache.clear()
        this.cache.set(word, wordIds)
      }
      for (let i = 0; i < wordIds.length; i++) ids.push(wordIds[i]!)
    }
  }

  /** BPE of one pre-token: O(n log n) with a heap of candidate pairs, for long words too. */
  private encodeWord(word: string): number[] {
    const bytes = utf8.encode(word)
    const sym: number[] = []
    for (let i = 0; i < bytes.length; i++) {
      const id = this.byteIds[bytes[i]!]!
      if (id >= 0) sym.push(id)
    }
    const n = sym.length
    if (n < 2) return sym
    const next = new Int32Array(n)
    const prev = new Int32Array(n)
    for (let i = 0; i < n; i++) {
      next[i] = i + 1 < n ? i + 1 : -1
      prev[i] = i - 1
    }
    // Entries are rank * n + position: lowest rank first, then leftmost, as HF orders merges.
    const heap = new Heap<number>((a, b) => a < b)
    const consider = (pos: number): void => {
      const rank = this.ranks.get(sym[pos]! * this.vocabSize + sym[next[pos]!]!)
      if (rank !== undefined) heap.push(rank * n + pos)
    }
    for (let i = 0; i + 1 < n; i++) consider(i)
    while (heap.size > 0) {
      const entry = heap.pop()!
      const rank = Math.floor(entry / n)
      const pos = entry - rank * n
      const right = next[pos]!
      // Stale entry: the left symbol was absorbed, or one side changed since it was pushed.
      if (sym[pos]! < 0 || right < 0) continue
      if (this.ranks.get(sym[pos]! * this.vocabSize + sym[right]!) !== rank) continue
      sym[pos] = this.mergeResult[rank]!
      sym[right] = -1
      const after = next[right]!
      next[pos] = after
      if (after >= 0) prev[after] = pos
      if (prev[pos]! >= 0) consider(prev[pos]!)
      if (after >= 0) consider(pos)
    }
    const out: number[] = []
    for (let i = 0; i >= 0; i = next[i]!) out.push(sym[i]!)
    return out
  }

  private bytesOf(id: number): Uint8Array {
    const cached = this.tokenBytes[id]
    if (cached !== undefined) return cached
    const token = Number.isInteger(id) ? this.tokens[id] : undefined
    if (token === undefined) throw new UnknownTokenId({ id, vocabSize: this.vocabSize })
    // Added tokens are literal text; others are byte-level, falling back to their own UTF-8
    // like HF's ByteLevel decoder does for a token outside the byte alphabet.
    const bytes = this.addedById.has(id) ? utf8.encode(token) : (byteLevelToBytes(token) ?? utf8.encode(token))
    this.tokenBytes[id] = bytes
    return bytes
  }
}

const resolveRoles = (added: ReadonlyMap<string, AddedToken>, roles: SpecialTokenRoles): SpecialTokenIds => {
  const required = (role: string, content: string): number => {
    const token = added.get(content)
    if (token === undefined) throw new MissingSpecialToken({ role, content })
    return token.id
  }
  const optional = (role: string, content: string | undefined, fallback: string): number | undefined =>
    content !== undefined ? required(role, content) : added.get(fallback)?.id
  const eos = required("eos", roles.eos ?? EOS_TOKEN)
  const pad = optional("pad", roles.pad, PAD_TOKEN) ?? eos
  const prompt = optional("prompt", roles.prompt, PROMPT_TOKEN)
  const completion = optional("completion", roles.completion, COMPLETION_TOKEN)
  return {
    eos,
    pad,
    ...(prompt !== undefined ? { prompt } : {}),
    ...(completion !== undefined ? { completion } : {})
  }
}
