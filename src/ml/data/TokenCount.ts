/**
 * Token counts for the clean stage's `minTokens`/`maxTokens` filters.
 *
 * A stand-in until the trained tokenizer is wired in: the number of matches of a regular
 * expression, by default `\S+` (whitespace-separated words). For English, byte-level BPE
 * vocabularies typically produce about 1.3 tokens per such word, so set limits accordingly.
 */
export const DEFAULT_TOKEN_PATTERN = "\\S+"

export const tokenCounter = (pattern: string = DEFAULT_TOKEN_PATTERN): ((text: string) => number) => {
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
