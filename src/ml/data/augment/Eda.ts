/**
 * Easy Data Augmentation (Wei & Zou, 2019): synonym replacement, random insertion, random swap
 * and random deletion, applied to whitespace-separated words.
 *
 * Text is split into words and the whitespace between them, so line breaks and indentation
 * survive; punctuation stays attached to its word and is carried over to a replacement, and a
 * capitalised word's replacement is capitalised. Function words are never replaced or used as
 * insertion seeds (as in the paper), because their WordNet senses are unrelated nouns
 * (`a` → `angstrom`). The number of words changed is `max(1, round(alpha · words))`.
 */
import type { Random } from "../SeededRandom.js"
import type { SynonymSource } from "./WordNet.js"

/** English function words: closed-class words whose WordNet entries are not their meaning here. */
const STOPWORDS = new Set(
  ("a about above after again against all am an and any are as at be because been before being below between both but by " +
    "can could did do does doing down during each few for from further had has have having he her here hers herself him " +
    "himself his how i if in into is it its itself just me more most my myself no nor not now of off on once only or " +
    "other our ours ourselves out over own same she should so some such than that the their theirs them themselves then " +
    "there these they this those through to too under until up very was we were what when where which while who whom why " +
    "will with would you your yours yourself yourselves s t don let").split(" ")
)

/** Words at even indexes, the whitespace that follows each at odd indexes. */
type Tokens = Array<string>

const split = (text: string): Tokens => text.split(/(\s+)/)
const join = (tokens: Tokens): string => tokens.join("")
const wordIndexes = (tokens: Tokens): Array<number> => {
  const out: Array<number> = []
  for (let i = 0; i < tokens.length; i += 2) if (tokens[i] !== "") out.push(i)
  return out
}

/** The word without surrounding punctuation, and what surrounds it. */
const core = (token: string): { pre: string; word: string; post: string } => {
  const m = /^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/su.exec(token)!
  return { pre: m[1]!, word: m[2]!, post: m[3]! }
}

const replaceable = (word: string): boolean => /^\p{L}[\p{L}'-]*$/u.test(word) && !STOPWORDS.has(word.toLowerCase())

const matchCase = (replacement: string, original: string): string =>
  /^\p{Lu}/u.test(original) ? replacement.charAt(0).toUpperCase() + replacement.slice(1) : replacement

const changes = (words: number, alpha: number): number => Math.max(1, Math.round(alpha * words))

export const synonymReplacement = (text: string, alpha: number, rng: Random, lexicon: SynonymSource): string => {
  const tokens = split(text)
  const candidates = rng.shuffle(wordIndexes(tokens).filter((i) => replaceable(core(tokens[i]!).word)))
  let left = changes(wordIndexes(tokens).length, alpha)
  for (const i of candidates) {
    if (left === 0) break
    const { pre, word, post } = core(tokens[i]!)
    const options = lexicon.synonyms(word.toLowerCase())
    if (options.length === 0) continue
    tokens[i] = pre + matchCase(rng.pick(options), word) + post
    left--
  }
  return join(tokens)
}

export const randomInsertion = (text: string, alpha: number, rng: Random, lexicon: SynonymSource): string => {
  const tokens = split(text)
  const seeds = wordIndexes(tokens)
    .map((i) => core(tokens[i]!).word)
    .filter(replaceable)
    .map((w) => lexicon.synonyms(w.toLowerCase()))
    .filter((s) => s.length > 0)
  if (seeds.length === 0) return text
  const n = changes(wordIndexes(tokens).length, alpha)
  for (let k = 0; k < n; k++) {
    const word = rng.pick(rng.pick(seeds))
    const at = rng.int(wordIndexes(tokens).length + 1) * 2
    tokens.splice(at, 0, word, " ")
  }
  // an insertion at the very end leaves a trailing separator
  return join(tokens).trimEnd()
}

export const randomSwap = (text: string, alpha: number, rng: Random): string => {
  const tokens = split(text)
  const words = wordIndexes(tokens)
  if (words.length < 2) return text
  const n = changes(words.length, alpha)
  for (let k = 0; k < n; k++) {
    const a = rng.pick(words)
    let b = rng.pick(words)
    for (let tries = 0; b === a && tries < 3; tries++) b = rng.pick(words)
    const tmp = tokens[a]!
    tokens[a] = tokens[b]!
    tokens[b] = tmp
  }
  return join(tokens)
}

/** Deletes each word with probability `p`; a text is never reduced below one word. */
export const randomDeletion = (text: string, p: number, rng: Random): string => {
  const tokens = split(text)
  const words = wordIndexes(tokens)
  if (words.length < 2) return text
  const keep = words.filter(() => !rng.chance(p))
  const kept = keep.length > 0 ? keep : [rng.pick(words)]
  return kept.map((i, k) => tokens[i]! + (k < kept.length - 1 ? (tokens[i + 1] ?? " ") : "")).join("")
}
