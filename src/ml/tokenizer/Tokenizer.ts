/**
 * The tokenizer contract the data, train and eval stages depend on, whichever vocabulary is
 * behind it (a BPE trained on the corpus, GPT-2's files, GPT-2 from `gpt-tokenizer`).
 *
 * Special tokens are never produced from plain text: `encode` treats `<|endoftext|>` typed in a
 * dataset as ordinary characters, so a record cannot forge an end-of-sequence. Only
 * `encodeWithSpecial`, used on template strings the program builds, recognises them.
 */
import type { TokenizerJson } from "./TokenizerJson.js"

/** Conventional special-token strings; a role can be given another string where needed. */
export const EOS_TOKEN = "<|endoftext|>"
export const PAD_TOKEN = "<|pad|>"
export const PROMPT_TOKEN = "<|prompt|>"
export const COMPLETION_TOKEN = "<|completion|>"

/** What a tokenizer trained for instruction tuning carries by default, in id order. */
export const DEFAULT_SPECIAL_TOKENS: ReadonlyArray<string> = [EOS_TOKEN, PROMPT_TOKEN, COMPLETION_TOKEN]

/** Which special-token string plays which role. Omitted roles use the constants above. */
export interface SpecialTokenRoles {
  readonly eos?: string
  /** Defaults to `<|pad|>` when the tokenizer has it, else to the EOS token (GPT-2's habit). */
  readonly pad?: string
  readonly prompt?: string
  readonly completion?: string
}

/** Ids of the special tokens by role. */
export interface SpecialTokenIds {
  readonly eos: number
  /** Equal to `eos` unless a distinct pad token exists; padding is always masked out anyway. */
  readonly pad: number
  /** Starts the prompt in the instruction template; absent for plain GPT-2. */
  readonly prompt?: number
  /** Separates prompt from completion in the instruction template. */
  readonly completion?: number
}

/** A token matched as a whole before pre-tokenisation (HF "added token"). */
export interface AddedToken {
  readonly id: number
  readonly content: string
  readonly special: boolean
}

export interface DecodeOptions {
  /** Drop special tokens (EOS, markers, padding) from the text; default false. */
  readonly skipSpecialTokens?: boolean
}

export interface Tokenizer {
  /** One more than the largest id: the size of the model's embedding and output layer. */
  readonly vocabSize: number
  readonly specialTokens: SpecialTokenIds
  /** Added tokens in id order. */
  readonly addedTokens: ReadonlyArray<AddedToken>
  /** Ids of `text` with special-token strings encoded as plain characters. */
  encode(text: string): number[]
  /** Ids of `text` where each added token's exact string becomes that token. */
  encodeWithSpecial(text: string): number[]
  /**
   * Text of `ids`. Byte sequences that are not valid UTF-8 (a multi-byte character cut in two)
   * become U+FFFD, as in HF `tokenizers`. Throws `UnknownTokenId` for an id outside the vocabulary.
   */
  decode(ids: ReadonlyArray<number>, options?: DecodeOptions): string
  /** Id of a vocabulary entry in its stored spelling (byte-level, e.g. `Ġworld`), or undefined. */
  tokenToId(token: string): number | undefined
  /** Stored spelling of id, or undefined outside the vocabulary. */
  idToToken(id: number): string | undefined
  /** The Hugging Face `tokenizer.json` object. */
  toJSON(): TokenizerJson
}
