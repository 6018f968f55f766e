/**
 * Leniency for one YAML quirk found in real InstructLab taxonomy files.
 *
 * PyYAML (which InstructLab's tooling uses) accepts a multi-line quoted scalar whose continuation
 * lines sit at the same indentation as its key; YAML 1.2, and so the `yaml` package, requires
 * them to be indented further. When a file fails to parse, the reader retries on a copy in which
 * such continuation lines are indented one column past their key. Only spaces are added inside
 * lines, never lines, so every line number reported afterwards is still the file's own.
 */

/** Start of a quoted scalar as a mapping value (optionally after `- `) or as a sequence item. */
const QUOTED_VALUE = /^(\s*(?:-\s+)*)([^\s#'"-][^#]*?:\s+|)(["'])/

export const reindentQuotedContinuations = (text: string): string => {
  const lines = text.split("\n")
  let quote: string | undefined
  let minIndent = 0
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!
    if (quote === undefined) {
      const m = QUOTED_VALUE.exec(line)
      if (m === null || (m[2] === "" && !/-\s+$/.test(m[1]!))) continue
      const start = m[0].length
      const keyIndent = m[1]!.length
      quote = m[3]!
      minIndent = keyIndent + 1
      if (closes(line, start, quote)) quote = undefined
      continue
    }
    if (line.trim() !== "") {
      const lead = line.length - line.trimStart().length
      if (lead < minIndent) lines[i] = " ".repeat(minIndent - lead) + line
    }
    if (closes(lines[i]!, 0, quote)) quote = undefined
  }
  return lines.join("\n")
}

/** Whether a quoted scalar opened before `from` closes on this line. */
const closes = (line: string, from: number, quote: string): boolean => {
  for (let j = from; j < line.length; j++) {
    const c = line[j]
    if (quote === "\"" && c === "\\") j++
    else if (c === quote) {
      if (quote === "'" && line[j + 1] === "'") j++
      else return true
    }
  }
  return false
}
