/**
 * Python `str` semantics that the reference metric implementations rely on and
 * JavaScript does not share: which characters `str.split()` and
 * `str.rstrip()` treat as whitespace.
 */

// Python's str.isspace() set. JS `\s` differs: it adds U+FEFF and lacks
// U+001C–U+001F and U+0085, which would shift token counts on odd input.
const PY_WHITESPACE_CLASS =
  "\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"

const PY_WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE_CLASS}]+`, "g")
const PY_TRAILING_WHITESPACE = new RegExp(`[${PY_WHITESPACE_CLASS}]+$`)

/** `s.split()` with no argument: split on whitespace runs, drop empty pieces. */
export const pySplit = (s: string): Array<string> => s.split(PY_WHITESPACE_RUN).filter((piece) => piece.length > 0)

/** `s.rstrip()` with no argument. */
export const pyRstrip = (s: string): string => s.replace(PY_TRAILING_WHITESPACE, "")

/** `"".join(s.split())`: the text with every whitespace character removed. */
export const pyRemoveWhitespace = (s: string): string => s.replace(PY_WHITESPACE_RUN, "")
