/**
 * Token counts for the clean stage's `minTokens`/`maxTokens` filters.
 *
 * A stand-in until the trained tokenizer is wired in: the number of matches of a regular
 * expression, by default `\S+` (whitespace-separated words). For English, byte-level BPE
 * vocabularies typically produce about 1.3 tokens per such word, so set limits accordingly.
 */
export const DEFAULT_TOKEN_PATTERN = "\\S+"

export const tokenCounter = (pattern: string = DEFAULT_TOKEN_PATTERN): ((text: string) => number) => {
  if (pattern === DEFAULT_TOKEN_PATTERN) return countWords
  const re = new RegExp(pattern, "gu")
  return (text) => {
    re.lastIndex = 0
    let n = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(text)) !== null) {
      // an empty match does not advance lastIndex; step over it instead of looping forever
      if (m[0] === "") re.lastIndex++
      else n++
    }
    return n
  }
}

/**
 * `\S+` matches counted without the regex engine: runs of non-whitespace (by the same definition
 * of whitespace as `\s`), about ten times faster on the long texts clean filters.
 */
const countWords = (text: string): number => {
  let n = 0
  let inWord = false
  for (let i = 0; i < text.length; i++) {
    const space = isSpace(text.charCodeAt(i))
    if (!space && !inWord) n++
    inWord = !space
  }
  return n
}

const isSpace = (c: number): boolean =>
  c === 32 || (c >= 9 && c <= 13) || (c > 127 && (c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff))
