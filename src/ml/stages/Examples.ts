/**
 * Canonical records to the token ids and loss masks the trainer reads, in one of two formats:
 *
 * - `instruction`: the prompt template (`<|prompt|> p <|completion|> c <|endoftext|>`), loss on
 *   the completion and EOS (also on the prompt with `trainOnInputs`);
 * - `text`: plain causal language modelling on `prompt + "\n" + completion` (either may be
 *   empty) followed by EOS, loss on every token.
 *
 * An instruction example longer than `maxLength` keeps its end rather than its start: the
 * prompt loses tokens from the left (its opening marker stays), so the completion the loss is
 * computed on survives. Only when fewer than 8 prompt tokens would be left is the completion
 * cut on the right instead, since a completion without its prompt teaches nothing. The trainer
 * itself would cut every row on the right, which for a long prompt leaves no target at all.
 */
import type { DataRecord } from "../data/DataRecord.js"
import type { PromptTemplate } from "../tokenizer/Template.js"
import type { Tokenizer } from "../tokenizer/Tokenizer.js"
import { promptTemplate } from "../tokenizer/Template.js"

export type ExampleFormat = "instruction" | "text"

export interface ExampleOptions {
  readonly format: ExampleFormat
  readonly trainOnInputs?: boolean
  /** Row length; longer instruction examples are shortened as described above. */
  readonly maxLength?: number
}

export interface TokenizedExample {
  readonly ids: Array<number>
  readonly labelsMask: Array<number>
}

export interface TokenizedSet {
  readonly examples: Array<TokenizedExample>
  /** Examples that were shortened to fit `maxLength`. */
  readonly truncated: number
  /** Target tokens over all examples. */
  readonly targets: number
}

/** Prompt tokens kept at least when a long completion competes for the row. */
const MIN_PROMPT_TOKENS = 8

/** Prompt ids for generation, shortened from the left (keeping the opening marker) to `limit`. */
export const promptIds = (template: PromptTemplate, prompt: string, limit: number): Array<number> => {
  const ids = template.encodePrompt(prompt)
  if (ids.length <= limit) return ids
  const keep = Math.max(2, limit)
  return [ids[0]!, ...ids.slice(ids.length - (keep - 1))]
}

const instructionExample = (template: PromptTemplate, r: DataRecord, options: ExampleOptions): { example: TokenizedExample; truncated: boolean } => {
  const f = template.format(r.prompt, r.completion, options.trainOnInputs === true ? { trainOnInputs: true } : undefined)
  const limit = options.maxLength
  if (limit === undefined || f.ids.length <= limit) return { example: { ids: f.ids, labelsMask: f.labelsMask }, truncated: false }
  // head = [<|prompt|>, body…, <|completion|>], tail = completion + EOS.
  const head = f.ids.slice(0, f.promptLength)
  const headMask = f.labelsMask.slice(0, f.promptLength)
  const body = head.slice(1, -1)
  const bodyMask = headMask.slice(1, -1)
  let tail = f.ids.slice(f.promptLength)
  let tailMask = f.labelsMask.slice(f.promptLength)
  let keepBody = limit - 2 - tail.length
  if (keepBody < Math.min(MIN_PROMPT_TOKENS, body.length)) {
    keepBody = Math.min(MIN_PROMPT_TOKENS, body.length, Math.max(0, limit - 3))
    tail = tail.slice(0, limit - 2 - keepBody)
    tailMask = tailMask.slice(0, limit - 2 - keepBody)
  }
  const from = body.length - keepBody
  return {
    example: {
      ids: [head[0]!, ...body.slice(from), head[head.length - 1]!, ...tail],
      labelsMask: [headMask[0]!, ...bodyMask.slice(from), headMask[headMask.length - 1]!, ...tailMask]
    },
    truncated: true
  }
}

const textExample = (tokenizer: Tokenizer, r: DataRecord): TokenizedExample => {
  const text = r.prompt !== "" && r.completion !== "" ? `${r.prompt}\n${r.completion}` : r.prompt + r.completion
  const ids = [...tokenizer.encode(text), tokenizer.specialTokens.eos]
  return { ids, labelsMask: new Array<number>(ids.length).fill(1) }
}

export const tokenizeRecords = (records: ReadonlyArray<DataRecord>, tokenizer: Tokenizer, options: ExampleOptions): TokenizedSet => {
  const template = options.format === "instruction" ? promptTemplate(tokenizer) : undefined
  const examples: Array<TokenizedExample> = []
  let truncated = 0
  let targets = 0
  for (const r of records) {
    let example: TokenizedExample
    if (template !== undefined) {
      const made = instructionExample(template, r, options)
      example = made.example
      if (made.truncated) truncated++
    } else {
      example = textExample(tokenizer, r)
      if (options.maxLength !== undefined && example.ids.length > options.maxLength) truncated++
    }
    // The first token is never a target: nothing precedes it.
    for (let i = 1; i < example.labelsMask.length; i++) targets += example.labelsMask[i]!
    examples.push(example)
  }
  return { examples, truncated, targets }
}
