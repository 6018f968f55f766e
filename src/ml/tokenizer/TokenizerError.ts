/**
 * What can go wrong building, loading or using a tokenizer. The library functions throw these;
 * stages turn them into a `StageRunError`.
 */
import { Data } from "effect"

/** A tokenizer file (tokenizer.json, vocab.json, merges.txt) is unreadable or unsupported. */
export class InvalidTokenizerFile extends Data.TaggedError("InvalidTokenizerFile")<{
  /** File path, or `<object>` when a parsed object was given. */
  readonly source: string
  /** Where in the file: a JSON pointer or `line N`. */
  readonly location: string
  readonly problem: string
}> {
  override get message(): string {
    return `${this.source}: ${this.location}: ${this.problem}`
  }
}

/** A role (eos, pad, prompt, completion) names a string that is not a special token. */
export class MissingSpecialToken extends Data.TaggedError("MissingSpecialToken")<{
  readonly role: string
  readonly content: string
}> {
  override get message(): string {
    return `special token for ${this.role} (${JSON.stringify(this.content)}) is not in the tokenizer`
  }
}

/** `trainBpe` options that cannot produce a tokenizer. */
export class InvalidTrainOptions extends Data.TaggedError("InvalidTrainOptions")<{
  readonly option: string
  readonly problem: string
}> {
  override get message(): string {
    return `trainBpe: ${this.option}: ${this.problem}`
  }
}

/** `decode` got an id the vocabulary does not have (e.g. from a model padded past it). */
export class UnknownTokenId extends Data.TaggedError("UnknownTokenId")<{
  readonly id: number
  readonly vocabSize: number
}> {
  override get message(): string {
    return `token id ${this.id} is outside the vocabulary (size ${this.vocabSize})`
  }
}
