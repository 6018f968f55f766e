/**
 * Hugging Face `tokenizer.json` for byte-level BPE: the on-disk form of every tokenizer here,
 * loadable by `tokenizers` / `transformers` (`PreTrainedTokenizerFast(tokenizer_file=...)`).
 *
 * Loading accepts what HF writes for GPT-2-like tokenizers: merges as `"a b"` strings (before
 * tokenizers 0.20) or `["a", "b"]` pairs (after). Anything that would make ids differ from HF's
 * (a normalizer, a non-ByteLevel pre-tokenizer, `add_prefix_space`, dropout, subword prefixes)
 * is rejected rather than ignored.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { BpeTokenizer } from "./BpeTokenizer.js"
import type { AddedToken, SpecialTokenRoles, Tokenizer } from "./Tokenizer.js"
import { InvalidTokenizerFile } from "./TokenizerError.js"

export interface HfAddedToken {
  readonly id: number
  readonly content: string
  readonly single_word: boolean
  readonly lstrip: boolean
  readonly rstrip: boolean
  readonly normalized: boolean
  readonly special: boolean
}

export interface HfByteLevel {
  readonly type: "ByteLevel"
  readonly add_prefix_space: boolean
  readonly trim_offsets: boolean
  readonly use_regex: boolean
}

/** The fields written, in HF's order. */
export interface TokenizerJson {
  readonly version: "1.0"
  readonly truncation: null
  readonly padding: null
  readonly added_tokens: ReadonlyArray<HfAddedToken>
  readonly normalizer: null
  readonly pre_tokenizer: HfByteLevel
  readonly post_processor: HfByteLevel
  readonly decoder: HfByteLevel
  readonly model: {
    readonly type: "BPE"
    readonly dropout: null
    readonly unk_token: null
    readonly continuing_subword_prefix: ""
    readonly end_of_word_suffix: ""
    readonly fuse_unk: false
    readonly byte_fallback: false
    readonly vocab: Readonly<Record<string, number>>
    readonly merges: ReadonlyArray<string>
  }
}

export interface LoadTokenizerOptions {
  /**
   * Role of each special token. When omitted and a `tokenizer_config.json` sits beside the
   * file, its `eos_token` / `pad_token` are used; otherwise the conventional strings.
   */
  readonly roles?: SpecialTokenRoles
  /** More special tokens to add (e.g. template markers); see `BpeSpec.specialTokens`. */
  readonly specialTokens?: ReadonlyArray<string>
}

type Json = { readonly [key: string]: unknown }

const isObject = (value: unknown): value is Json =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Load a tokenizer from a `tokenizer.json` path or an already parsed object. */
export const loadTokenizerJson = (file: string | object, options: LoadTokenizerOptions = {}): BpeTokenizer => {
  const source = typeof file === "string" ? file : "<object>"
  const fail = (location: string, problem: string): never => {
    throw new InvalidTokenizerFile({ source, location, problem })
  }
  let json: unknown = file
  if (typeof file === "string") {
    try {
      json = JSON.parse(fs.readFileSync(file, "utf8"))
    } catch (cause) {
      fail("", cause instanceof Error ? cause.message : String(cause))
    }
  }
  if (!isObject(json)) return fail("", "not a JSON object")
  const model = json["model"]
  if (!isObject(model)) return fail("/model", "missing")
  if (model["type"] !== undefined && model["type"] !== "BPE") fail("/model/type", `${String(model["type"])} is not BPE`)
  if (json["normalizer"] != null) fail("/normalizer", "normalizers are not supported")
  checkByteLevel(json["pre_tokenizer"], "/pre_tokenizer", fail, true)
  if (json["decoder"] != null) checkByteLevel(json["decoder"], "/decoder", fail, false)
  if (model["dropout"] != null && model["dropout"] !== 0) fail("/model/dropout", "BPE dropout is not supported")
  for (const key of ["continuing_subword_prefix", "end_of_word_suffix"]) {
    if (model[key] != null && model[key] !== "") fail(`/model/${key}`, "must be empty for byte-level BPE")
  }
  if (model["byte_fallback"] === true) fail("/model/byte_fallback", "not supported")
  if (model["ignore_merges"] === true) fail("/model/ignore_merges", "not supported")

  const vocabJson = model["vocab"]
  if (!isObject(vocabJson)) return fail("/model/vocab", "missing")
  const vocab = new Map<string, number>()
  for (const [token, id] of Object.entries(vocabJson)) {
    if (!Number.isInteger(id) || (id as number) < 0) fail(`/model/vocab/${token}`, "id is not a non-negative integer")
    vocab.set(token, id as number)
  }
  const mergesJson = model["merges"]
  if (!Array.isArray(mergesJson)) return fail("/model/merges", "missing")
  const merges = mergesJson.map((merge: unknown, i): readonly [string, string] => {
    if (typeof merge === "string") {
      const parts = merge.split(" ")
      if (parts.length === 2) return [parts[0]!, parts[1]!]
    } else if (Array.isArray(merge) && merge.length === 2 && merge.every((p) => typeof p === "string")) {
      return [merge[0] as string, merge[1] as string]
    }
    return fail(`/model/merges/${i}`, "not a pair")
  })

  const addedJson = json["added_tokens"] ?? []
  if (!Array.isArray(addedJson)) return fail("/added_tokens", "not an array")
  const addedTokens = addedJson.map((token: unknown, i): AddedToken => {
    if (!isObject(token) || !Number.isInteger(token["id"]) || typeof token["content"] !== "string") {
      return fail(`/added_tokens/${i}`, "needs an integer id and a string content")
    }
    return { id: token["id"] as number, content: token["content"], special: token["special"] === true }
  })

  return BpeTokenizer.create({
    vocab,
    merges,
    addedTokens,
    specialTokens: options.specialTokens ?? [],
    roles: options.roles ?? (typeof file === "string" ? rolesBeside(file) : {}),
    source
  })
}

const checkByteLevel = (
  value: unknown,
  pointer: string,
  fail: (location: string, problem: string) => never,
  isPreTokenizer: boolean
): void => {
  if (!isObject(value) || value["type"] !== "ByteLevel") return fail(pointer, "only ByteLevel is supported")
  // The decoder's add_prefix_space is inert in HF; only the pre-tokenizer's changes ids.
  if (isPreTokenizer && value["add_prefix_space"] === true) fail(`${pointer}/add_prefix_space`, "must be false")
  if (isPreTokenizer && value["use_regex"] === false) fail(`${pointer}/use_regex`, "must be true")
}

/** Roles from a `tokenizer_config.json` next to the file, the way `transformers` finds them. */
const rolesBeside = (file: string): SpecialTokenRoles => {
  const configPath = path.join(path.dirname(file), "tokenizer_config.json")
  if (!fs.existsSync(configPath)) return {}
  let config: unknown
  try {
    config = JSON.parse(fs.readFileSync(configPath, "utf8"))
  } catch {
    return {}
  }
  if (!isObject(config)) return {}
  // A role may be a plain string or an AddedToken-like object with `content`.
  const content = (value: unknown): string | undefined =>
    typeof value === "string" ? value : isObject(value) && typeof value["content"] === "string" ? value["content"] : undefined
  const eos = content(config["eos_token"])
  const pad = content(config["pad_token"])
  return { ...(eos !== undefined ? { eos } : {}), ...(pad !== undefined ? { pad } : {}) }
}

/** Write `tokenizer.json`: two-space indented like HF's `save(pretty=True)`, newline-terminated. */
export const saveTokenizerJson = (tokenizer: Tokenizer, file: string): void => {
  fs.mkdirSync(path.dirname(file), { recursive: true })
  fs.writeFileSync(file, serializeTokenizer(tokenizer))
}

/** The exact bytes `saveTokenizerJson` writes; identical for identical tokenizers. */
export const serializeTokenizer = (tokenizer: Tokenizer): string => JSON.stringify(tokenizer.toJSON(), null, 2) + "\n"

/**
 * The `tokenizer_config.json` that lets `AutoTokenizer.from_pretrained(dir)` load the directory
 * with the right EOS, pad and template tokens.
 */
export const tokenizerConfigJson = (tokenizer: Tokenizer, modelMaxLength?: number): Record<string, unknown> => {
  const content = (id: number | undefined): string | undefined => (id === undefined ? undefined : tokenizer.idToToken(id))
  const { eos, pad, prompt, completion } = tokenizer.specialTokens
  const markers = [content(prompt), content(completion)].filter((t): t is string => t !== undefined)
  return {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: content(eos),
    eos_token: content(eos),
    unk_token: null,
    pad_token: content(pad),
    ...(markers.length > 0 ? { additional_special_tokens: markers } : {}),
    add_prefix_space: false,
    clean_up_tokenization_spaces: false,
    ...(modelMaxLength !== undefined ? { model_max_length: modelMaxLength } : {})
  }
}
