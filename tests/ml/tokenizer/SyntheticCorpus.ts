/**
 * A seeded, made-up corpus for tokenizer tests: the same seed always gives the same text, it
 * has Zipf-like word frequencies (so BPE has something to learn) and every kind of character
 * the byte-level layer must survive: accents, CJK, emoji with joiners, digits, tabs, runs of
 * spaces and blank lines.
 */

import { mulberry32 } from "../../../src/core/Random.js"

const STEMS = [
  "the", "model", "train", "token", "learn", "data", "set", "pipe", "line", "stage", "cache",
  "run", "eval", "loss", "rate", "step", "batch", "prompt", "answer", "question", "café",
  "naïve", "über", "straße", "日本語", "テキスト", "данные", "модель", "λόγος", "🎉", "👍🏽",
  "👨‍👩‍👧", "x²", "don't", "we'll", "it's", "they've", "I'm", "you'd", "we're"
]
const SUFFIXES = ["", "", "", "s", "ed", "ing", "er", "ly", "ness"]
const PUNCT = [".", ",", "!", "?", ";", ":", " -", " —", "..."]
const GAPS = [" ", " ", " ", " ", " ", "  ", "\t", "\n", "\n\n", "   "]

const random = mulberry32

/** `lines` lines of about 12 words each. */
export const syntheticCorpus = (lines: number, seed = 1): string[] => {
  const next = random(seed)
  const pick = <T>(items: ReadonlyArray<T>): T => items[Math.floor(next() * items.length)]!
  // Squaring a uniform draw favours early stems: a cheap skew towards frequent words.
  const stem = (): string => STEMS[Math.floor(next() * next() * STEMS.length)]!
  const out: string[] = []
  for (let l = 0; l < lines; l++) {
    let line = ""
    const words = 4 + Math.floor(next() * 16)
    for (let w = 0; w < words; w++) {
      const r = next()
      const word = r < 0.08 ? String(Math.floor(next() * 100000)) : stem() + pick(SUFFIXES)
      line += (w === 0 ? "" : pick(GAPS)) + (r > 0.9 ? word[0]!.toUpperCase() + word.slice(1) : word)
      if (next() < 0.12) line += pick(PUNCT)
    }
    out.push(line)
  }
  return out
}
