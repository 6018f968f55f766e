/**
 * Text normalisation applied by the clean stage before any filter, and the dedupe key.
 *
 * Normalisation keeps meaning and layout (indentation of code, paragraph breaks) and removes what
 * only makes equal texts look different: Unicode NFC; CRLF/CR → LF; C0/C1 control characters
 * other than tab and newline; invisible format characters (zero-width space, BOM, word joiner,
 * soft hyphen, bidirectional overrides — the last also because they can disguise text); exotic
 * spaces (NBSP, em space, ideographic space, ...) → a plain space; trailing spaces on a line;
 * runs of spaces inside a line (not its indentation) → one; more than one blank line → one.
 * ZWJ/ZWNJ are kept because emoji sequences and some scripts need them.
 */

const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/g
const INVISIBLE = /[\u00AD\u200B\u2060\uFEFF\u202A-\u202E\u2066-\u2069\u200E\u200F]/g
const EXOTIC_SPACE = /[\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/g
/** Any character the three rules above would touch, or a CR: one scan decides if they run. */
const ODD_CHARACTER = /[\r\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\u00AD\u200B\u2060\uFEFF\u202A-\u202E\u2066-\u2069\u200E\u200F\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]/
const INNER_SPACES = /(\S) {2,}(?=\S)/g
const TRAILING_SPACES = /[ \t]+$/gm
const BLANK_LINES = /\n{3,}/g
/** Whether the three rules above might change anything (`includes` is much cheaper than a regex scan). */
const oddLayout = (t: string): boolean =>
  t.includes("  ") || t.includes(" \n") || t.includes("\t\n") || t.includes("\n\n\n") || t.endsWith(" ") || t.endsWith("\t")

// Each replace scans the whole text even when nothing matches; on clean text (the common case)
// the guards replace nine regex scans with one and a few substring searches.
export const normalizeText = (text: string): string => {
  let t = text.normalize("NFC")
  if (ODD_CHARACTER.test(t)) t = t.replace(/\r\n?/g, "\n").replace(CONTROL, "").replace(INVISIBLE, "").replace(EXOTIC_SPACE, " ")
  if (oddLayout(t)) t = t.replace(TRAILING_SPACES, "").replace(INNER_SPACES, "$1 ").replace(BLANK_LINES, "\n\n")
  return t.trim()
}

/**
 * Key for exact dedupe: the normalised text, lower-cased, with every whitespace run collapsed,
 * so records differing only in case or spacing count as duplicates.
 */
export const dedupeKey = (prompt: string, completion: string): string =>
  `${collapse(prompt)}\u0001${collapse(completion)}`

// Matches only runs and non-space whitespace: replacing every single space is ten times slower.
const collapse = (text: string): string => text.toLowerCase().replace(/\s{2,}|[^\S ]/g, " ").trim()
