/**
 * Synthetic instruction tasks with one right answer each (reverse a word, sort its letters, …),
 * generated from a seeded PRNG. They make small-scale experiments measurable: a model either
 * produces the answer exactly or it does not, so exact match and forgetting are unambiguous.
 */
import { mulberry32 } from "../../core/Random.js"

export type SyntheticTask = "reverse" | "sort" | "upper" | "copy" | "shift" | "double" | "first" | "last" | "count"

const SOLVERS: Readonly<Record<SyntheticTask, (w: string, alphabet: string) => string>> = {
  reverse: (w) => [...w].reverse().join(""),
  sort: (w) => [...w].sort().join(""),
  upper: (w) => w.toUpperCase(),
  copy: (w) => w,
  shift: (w, a) => [...w].map((c) => a[(a.indexOf(c) + 1) % a.length]).join(""),
  double: (w) => [...w].map((c) => c + c).join(""),
  first: (w) => w[0]!,
  last: (w) => w[w.length - 1]!,
  count: (w) => String(w.length)
}

export const solveTask = (task: SyntheticTask, word: string, alphabet: string): string => SOLVERS[task](word, alphabet)

export interface SyntheticOptions {
  readonly tasks: ReadonlyArray<SyntheticTask>
  readonly perTask: number
  readonly minLength: number
  readonly maxLength: number
  readonly alphabet: string
  readonly seed: number
  readonly source: string
}

export interface SyntheticRecord {
  readonly id: string
  readonly task: string
  readonly prompt: string
  readonly completion: string
  readonly source: string
}

const wordSpace = (o: SyntheticOptions) => {
  let n = 0
  for (let len = o.minLength; len <= o.maxLength; len++) n += o.alphabet.length ** len
  return n
}

export const generateTasks = (o: SyntheticOptions): Array<SyntheticRecord> => {
  if (o.minLength > o.maxLength) throw new Error(`minLength ${o.minLength} > maxLength ${o.maxLength}`)
  const out: Array<SyntheticRecord> = []
  const perTask = Math.min(o.perTask, wordSpace(o))
  o.tasks.forEach((task, t) => {
    // One stream per task: adding a task leaves the others' examples unchanged.
    const rand = mulberry32((o.seed * 1_000_003 + t * 7919 + 1) >>> 0)
    const seen = new Set<string>()
    while (seen.size < perTask) {
      const len = o.minLength + Math.floor(rand() * (o.maxLength - o.minLength + 1))
      let w = ""
      for (let i = 0; i < len; i++) w += o.alphabet[Math.floor(rand() * o.alphabet.length)]
      if (seen.has(w)) continue
      seen.add(w)
      out.push({
        id: `${task}-${w}`,
        task,
        prompt: `${task}: ${w}`,
        completion: solveTask(task, w, o.alphabet),
        source: o.source
      })
    }
  })
  return out
}
