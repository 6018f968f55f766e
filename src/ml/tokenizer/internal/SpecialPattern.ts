/**
 * The regex that finds special-token strings in text, for `encodeWithSpecial` and for cutting
 * them out of a training corpus.
 */
const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * Alternation of `contents`, longest first so that a special token which is a prefix of
 * another (`<|end|>`, `<|end|>more`) does not cut the longer one. Undefined when there are none.
 */
export const specialPattern = (contents: ReadonlyArray<string>, flags: string): RegExp | undefined => {
  if (contents.length === 0) return undefined
  const longestFirst = [...contents].sort((a, b) => b.length - a.length)
  return new RegExp(longestFirst.map(escapeRegExp).join("|"), flags)
}
