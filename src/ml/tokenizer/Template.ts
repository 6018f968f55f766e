/**
 * The instruction template: how a `{prompt, completion}` record becomes model input and which
 * tokens the loss is computed on.
 *
 *     <|prompt|> prompt… <|completion|> completion… <|endoftext|>
 *     mask:  0     0…          0            1…             1
 *
 * The markers are special tokens, so no BPE merge or pre-token crosses the prompt/completion
 * boundary: encoding the two parts separately gives the same ids as encoding the rendered
 * string with `encodeWithSpecial`, and `encodePrompt(p)` is exactly the prefix the model saw in
 * training. Record text is encoded with `encode`, so a marker typed inside a record stays text.
 */
import { COMPLETION_TOKEN, PROMPT_TOKEN, type Tokenizer } from "./Tokenizer.js"
import { MissingSpecialToken } from "./TokenizerError.js"

export interface FormattedExample {
  readonly ids: number[]
  /**
   * Per token of `ids`: 1 where it is a training target (completion tokens and the closing
   * EOS), 0 on the prompt side (markers included). The train stage shifts both by one.
   */
  readonly labelsMask: number[]
  /** Tokens up to and including the completion marker: `encodePrompt(prompt).length`. */
  readonly promptLength: number
}

export interface FormatOptions {
  /** Mark prompt tokens as targets too (Axolotl's `train_on_inputs`); default false. */
  readonly trainOnInputs?: boolean
}

export interface PromptTemplate {
  /** The example as text with the marker strings, for display and `encodeWithSpecial`. */
  render(prompt: string, completion?: string): string
  /** What generation starts from: prompt marker, prompt, completion marker. */
  encodePrompt(prompt: string): number[]
  format(prompt: string, completion: string, options?: FormatOptions): FormattedExample
}

/** The template for `tokenizer`; throws `MissingSpecialToken` if it lacks the markers. */
export const promptTemplate = (tokenizer: Tokenizer): PromptTemplate => {
  const { prompt: promptId, completion: completionId, eos } = tokenizer.specialTokens
  if (promptId === undefined) throw new MissingSpecialToken({ role: "prompt", content: PROMPT_TOKEN })
  if (completionId === undefined) throw new MissingSpecialToken({ role: "completion", content: COMPLETION_TOKEN })
  const text = (id: number): string => tokenizer.idToToken(id)!
  const encodePrompt = (prompt: string): number[] => [promptId, ...tokenizer.encode(prompt), completionId]
  return {
    render: (prompt, completion) =>
      text(promptId) + prompt + text(completionId) + (completion === undefined ? "" : completion + text(eos)),
    encodePrompt,
    format: (prompt, completion, options) => {
      const head = encodePrompt(prompt)
      const tail = tokenizer.encode(completion)
      tail.push(eos)
      const ids = head.concat(tail)
      const labelsMask = new Array<number>(ids.length).fill(1)
      if (options?.trainOnInputs !== true) labelsMask.fill(0, 0, head.length)
      return { ids, labelsMask, promptLength: head.length }
    }
  }
}

/** `promptTemplate(tokenizer).format(prompt, completion, options)`. */
export const formatExample = (
  tokenizer: Tokenizer,
  prompt: string,
  completion: string,
  options?: FormatOptions
): FormattedExample => promptTemplate(tokenizer).format(prompt, completion, options)
