/**
 * OpenAI GPT-2's tokenizer (50,257 ids, `<|endoftext|>` = 50256), from either source we have
 * offline: a checkpoint's `vocab.json` + `merges.txt`, or the r50k_base ranks bundled in the
 * `gpt-tokenizer` package. Both give the same `BpeTokenizer`, so the GPT-2 vocabulary works
 * without a checkpoint on disk.
 *
 * Fine-tuning GPT-2 with the instruction template needs the prompt/completion markers, which
 * GPT-2 lacks: pass them in `specialTokens` and they get ids 50257, 50258; the model's
 * embedding must then be grown to `vocabSize`, as with HF's `resize_token_embeddings`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { bytesToByteLevel, toByteLevel } from "./ByteLevel.js"
import { BpeTokenizer } from "./BpeTokenizer.js"
import { EOS_TOKEN, type SpecialTokenRoles } from "./Tokenizer.js"
import { InvalidTokenizerFile } from "./TokenizerError.js"

export interface Gpt2Options {
  /** Special tokens; default just `<|endoftext|>`. Ones GPT-2 lacks get ids from 50257 on. */
  readonly specialTokens?: ReadonlyArray<string>
  readonly roles?: SpecialTokenRoles
}

export interface Gpt2Files {
  readonly vocab: string
  readonly merges: string
}

/** Load from a directory holding `vocab.json` and `merges.txt`, or from the two paths. */
export const loadGpt2Tokenizer = (files: string | Gpt2Files, options: Gpt2Options = {}): BpeTokenizer => {
  const { vocab: vocabPath, merges: mergesPath } =
    typeof files === "string"
      ? { vocab: path.join(files, "vocab.json"), merges: path.join(files, "merges.txt") }
      : files
  const vocab = new Map<string, number>()
  let parsed: unknown
  try {
    parsed = JSON.parse(fs.readFileSync(vocabPath, "utf8"))
  } catch (cause) {
    throw new InvalidTokenizerFile({ source: vocabPath, location: "", problem: String(cause) })
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new InvalidTokenizerFile({ source: vocabPath, location: "", problem: "not a JSON object" })
  }
  for (const [token, id] of Object.entries(parsed)) {
    if (!Number.isInteger(id)) {
      throw new InvalidTokenizerFile({ source: vocabPath, location: `/${token}`, problem: "id is not an integer" })
    }
    vocab.set(token, id as number)
  }
  let text: string
  try {
    text = fs.readFileSync(mergesPath, "utf8")
  } catch (cause) {
    throw new InvalidTokenizerFile({ source: mergesPath, location: "", problem: String(cause) })
  }
  const merges: Array<readonly [string, string]> = []
  text.split("\n").forEach((raw, index) => {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw
    // The first line is `#version: 0.2`; blank lines are the trailing newline.
    if (line === "" || (index === 0 && line.startsWith("#version"))) return
    const parts = line.split(" ")
    if (parts.length !== 2) {
      throw new InvalidTokenizerFile({ source: mergesPath, location: `line ${index + 1}`, problem: "not two tokens" })
    }
    merges.push([parts[0]!, parts[1]!])
  })
  return BpeTokenizer.create({
    vocab,
    merges,
    specialTokens: options.specialTokens ?? [EOS_TOKEN],
    ...(options.roles !== undefined ? { roles: options.roles } : {}),
    source: mergesPath
  })
}

/**
 * GPT-2 from `gpt-tokenizer`'s r50k_base ranks. The ranks are token ids but not merges; merge
 * r is recovered as the two parts that BPE with all lower-ranked tokens leaves of token r (the
 * conversion HF uses for tiktoken vocabularies), which reproduces GPT-2's merges.txt exactly.
 */
export const loadR50kTokenizer = async (options: Gpt2Options = {}): Promise<BpeTokenizer> => {
  // Imported on demand: the ranks module is 4.6 MB of source.
  const { default: ranks } = await import("gpt-tokenizer/bpeRanks/r50k_base")
  const tokens: string[] = []
  for (let rank = 0; rank < ranks.length; rank++) {
    const entry = ranks[rank]
    if (entry === undefined) {
      throw new InvalidTokenizerFile({ source: "gpt-tokenizer r50k_base", location: `rank ${rank}`, problem: "missing" })
    }
    // Token bytes that are not valid UTF-8 on their own are stored as byte arrays.
    tokens.push(typeof entry === "string" ? toByteLevel(entry) : bytesToByteLevel(entry))
  }
  const vocab = new Map(tokens.map((token, rank) => [token, rank]))
  const merges: Array<readonly [string, string]> = []
  tokens.forEach((token, rank) => {
    if (token.length < 2) return
    const parts = splitByLowerRanks(token, rank, vocab)
    if (parts.length !== 2) {
      throw new InvalidTokenizerFile({
        source: "gpt-tokenizer r50k_base",
        location: `rank ${rank}`,
        problem: `lower ranks split ${JSON.stringify(token)} into ${parts.length} parts, not 2`
      })
    }
    merges.push([parts[0]!, parts[1]!])
  })
  return BpeTokenizer.create({
    vocab,
    merges,
    specialTokens: options.specialTokens ?? [EOS_TOKEN],
    ...(options.roles !== undefined ? { roles: options.roles } : {}),
    source: "gpt-tokenizer r50k_base"
  })
}

/** tiktoken-style BPE of `token` using only tokens ranked below `maxRank`: merge the lowest-ranked adjacent pair. */
const splitByLowerRanks = (token: string, maxRank: number, ranks: ReadonlyMap<string, number>): string[] => {
  const parts = [...token]
  for (;;) {
    let best = -1
    let bestRank = maxRank
    for (let i = 0; i + 1 < parts.length; i++) {
      const rank = ranks.get(parts[i]! + parts[i + 1]!)
      if (rank !== undefined && rank < bestRank) {
        best = i
        bestRank = rank
      }
    }
    if (best < 0) return parts
    parts.splice(best, 2, parts[best]! + parts[best + 1]!)
  }
}
