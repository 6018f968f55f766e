/**
 * A configurable blocklist: whole words/phrases (case-insensitive, Unicode-aware word
 * boundaries) and regular expressions. A record matching any entry is dropped by clean, and the
 * report names the entry that matched.
 */
export interface BlocklistSpec {
  readonly words: ReadonlyArray<string>
  /** Regular expression sources, matched case-insensitively; `/body/flags` sets flags explicitly. */
  readonly patterns: ReadonlyArray<string>
}

export type BlocklistMatcher = (text: string) => string | undefined

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Compiles a spec; throws a `SyntaxError` naming the bad pattern. */
export const compileBlocklist = (spec: BlocklistSpec): BlocklistMatcher => {
  const words = spec.words.map((w) => w.trim()).filter((w) => w !== "")
  const wordRe = words.length === 0
    ? undefined
    : new RegExp(`(?<![\\p{L}\\p{N}_])(?:${words.map((w) => escapeRegExp(w).replace(/\s+/g, "\\s+")).join("|")})(?![\\p{L}\\p{N}_])`, "iu")
  const patterns = spec.patterns.map((source) => {
    const literal = /^\/(.*)\/([a-z]*)$/s.exec(source)
    try {
      return literal ? new RegExp(literal[1]!, literal[2]!.replace(/[gy]/g, "")) : new RegExp(source, "iu")
    } catch (error) {
      throw new SyntaxError(`blocklist pattern ${JSON.stringify(source)}: ${(error as Error).message}`)
    }
  })
  return (text) => {
    const w = wordRe?.exec(text)
    if (w) return w[0]
    for (const re of patterns) {
      const m = re.exec(text)
      if (m) return `/${re.source}/ matched ${JSON.stringify(m[0])}`
    }
    return undefined
  }
}

/** Parses a blocklist file: one word or phrase per line; `#` starts a comment; `re:` prefixes a regex. */
export const parseBlocklistFile = (text: string): BlocklistSpec => {
  const words: Array<string> = []
  const patterns: Array<string> = []
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    if (line.startsWith("re:")) patterns.push(line.slice(3).trim())
    else words.push(line)
  }
  return { words, patterns }
}
