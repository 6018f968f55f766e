/**
 * Tokenizers for training and evaluating GPT-2-style models: byte-level BPE trained on the
 * corpus, GPT-2's own vocabulary, HF `tokenizer.json` in and out, and the instruction template.
 */
export {
  type AddedToken,
  COMPLETION_TOKEN,
  type DecodeOptions,
  DEFAULT_SPECIAL_TOKENS,
  EOS_TOKEN,
  PAD_TOKEN,
  PROMPT_TOKEN,
  type SpecialTokenIds,
  type SpecialTokenRoles,
  type Tokenizer
} from "./Tokenizer.js"
export { InvalidTokenizerFile, InvalidTrainOptions, MissingSpecialToken, UnknownTokenId } from "./TokenizerError.js"
export { BpeTokenizer, type BpeSpec } from "./BpeTokenizer.js"
export { trainBpe, type TrainBpeOptions } from "./TrainBpe.js"
export {
  loadTokenizerJson,
  type LoadTokenizerOptions,
  saveTokenizerJson,
  serializeTokenizer,
  tokenizerConfigJson,
  type TokenizerJson
} from "./TokenizerJson.js"
export { type Gpt2Files, type Gpt2Options, loadGpt2Tokenizer, loadR50kTokenizer } from "./Gpt2.js"
export {
  type FormatOptions,
  type FormattedExample,
  formatExample,
  type PromptTemplate,
  promptTemplate
} from "./Template.js"
export { GPT2_SPLIT_PATTERN, splitWords } from "./ByteLevel.js"
