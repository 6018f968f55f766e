/**
 * GPT-2's byte-level layer: the reversible byte ↔ printable-character map and the regex that
 * splits text into pre-tokens ("words") before BPE.
 *
 * Every UTF-8 byte maps to one visible character, so BPE works on strings, a vocabulary needs
 * no unknown token, and any text (emoji, control bytes) round-trips. The mapping and the split
 * are GPT-2's exactly, which is what makes a `tokenizer.json` written here load in Hugging Face
 * `tokenizers` with the same ids.
 */

/**
 * The Unicode White_Space set, spelled out. GPT-2 (Python `regex`), tiktoken and HF `tokenizers`
 * all use it for `\s`; JavaScript's `\s` differs on two characters (it adds U+FEFF and drops
 * U+0085), which would change how a few rare texts are split.
 */
const WS = "\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"

/**
 * `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+` with `\s` as above.
 * The `(?!\S)` branch leaves the last space of a run to start the next word, which is why
 * " world" (not "world") is a GPT-2 token.
 */
export const GPT2_SPLIT_PATTERN =
  `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${WS}\\p{L}\\p{N}]+|[${WS}]+(?![^${WS}])|[${WS}]+`

const splitRegex = (): RegExp => new RegExp(GPT2_SPLIT_PATTERN, "gu")

/** Pre-tokens of `text` in order; their concatenation is `text`. */
export const splitWords = (text: string): string[] => {
  const words: string[] = []
  // A fresh regex per call: a shared global regex keeps `lastIndex` between callers.
  const regex = splitRegex()
  for (let m = regex.exec(text); m !== null; m = regex.exec(text)) words.push(m[0])
  return words
}

/**
 * Byte b's character, in GPT-2's order: printable Latin-1 bytes map to themselves, the other 68
 * (controls, space, NBSP, soft hyphen) to U+0100 onwards. The order of this list is also the id
 * order of the 256 base tokens in GPT-2's vocabulary (`!` = 0, `Ā` = 188).
 */
const buildByteOrder = (): { readonly bytes: number[]; readonly chars: string[] } => {
  const bytes: number[] = []
  for (let b = 33; b <= 126; b++) bytes.push(b)
  for (let b = 161; b <= 172; b++) bytes.push(b)
  for (let b = 174; b <= 255; b++) bytes.push(b)
  const codes = [...bytes]
  let shifted = 0
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b)
      codes.push(256 + shifted++)
    }
  }
  return { bytes, chars: codes.map((c) => String.fromCharCode(c)) }
}

const order = buildByteOrder()

/** The 256 base tokens in GPT-2 vocabulary order. */
export const BYTE_ALPHABET: ReadonlyArray<string> = order.chars

/** byteToChar[b] is the character standing for byte b. */
export const byteToChar: ReadonlyArray<string> = (() => {
  const table = new Array<string>(256)
  order.bytes.forEach((b, i) => (table[b] = order.chars[i]!))
  return table
})()

const charToByte: ReadonlyMap<string, number> = new Map(byteToChar.map((c, b) => [c, b]))

const utf8 = new TextEncoder()

/** The byte-level spelling of raw bytes. */
export const bytesToByteLevel = (bytes: ArrayLike<number>): string => {
  let out = ""
  for (let i = 0; i < bytes.length; i++) out += byteToChar[bytes[i]!]
  return out
}

/** The byte-level spelling of `text`: one character per UTF-8 byte. */
export const toByteLevel = (text: string): string => bytesToByteLevel(utf8.encode(text))

/**
 * The bytes a byte-level token stands for, or undefined when some character is not in the map
 * (a token that did not come from bytes, e.g. a special token's literal text).
 */
export const byteLevelToBytes = (token: string): Uint8Array | undefined => {
  const out = new Uint8Array(token.length)
  for (let i = 0; i < token.length; i++) {
    const b = charToByte.get(token[i]!)
    if (b === undefined) return undefined
    out[i] = b
  }
  return out
}
