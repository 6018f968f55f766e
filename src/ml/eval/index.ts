/**
 * Evaluation metrics for generated text, as pure functions that reproduce the
 * reference implementations (rouge_score, sacrebleu 2.6.0, SQuAD v1.1) to
 * floating-point precision, plus perplexity, classification scores and seeded
 * bootstrap intervals. No TensorFlow or Effect: callers pass strings and
 * numbers in and get plain data out.
 */
export * as Bleu from "./Bleu.js"
export * as Bootstrap from "./Bootstrap.js"
export * as Chrf from "./Chrf.js"
export * as Classification from "./Classification.js"
export * as Perplexity from "./Perplexity.js"
export * as PorterStemmer from "./PorterStemmer.js"
export * as Rouge from "./Rouge.js"
export * as Score from "./Score.js"
export * as ScoreCommand from "./ScoreCommand.js"
export * as Squad from "./Squad.js"

export type { BootstrapOptions, Interval } from "./Bootstrap.js"
export type { MetricName, ScoreOptions, ScoreResult } from "./Score.js"
export { ScoreInputError, scoreTexts } from "./Score.js"
export { formatScoreTable, parseMetricNames } from "./ScoreCommand.js"
