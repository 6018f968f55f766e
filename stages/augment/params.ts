/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Adds seeded, reproducible variants of each record (EDA word operations with WordNet synonyms, keyboard typos, instruction templates, and paraphrase/back-translation through an OpenAI-compatible endpoint). Originals are kept; variants carry meta.augmentedFrom and meta.augmentOp.
 */
export interface AugmentParams {
  /**
   * Canonical JSONL to augment.
   */
  input: string;
  /**
   * Originals followed by their variants, canonical JSONL.
   */
  out: string;
  /**
   * Metrics file: variants produced per operation, examples, and whether the endpoint was used.
   */
  report: string;
  seed?: number;
  /**
   * Fields the word and character operations change (template expansion only ever changes the prompt).
   *
   * @minItems 1
   */
  fields?: ["prompt" | "completion", ...("prompt" | "completion")[]];
  synonym?: AugmentSynonym;
  insert?: AugmentInsert;
  swap?: AugmentSwap;
  delete?: AugmentDelete;
  charNoise?: AugmentCharNoise;
  template?: AugmentTemplate;
  paraphrase?: AugmentParaphrase;
  backTranslation?: AugmentBackTranslation;
  endpoint?: AugmentEndpoint;
  /**
   * Examples listed per operation in the report.
   */
  reportExamples?: number;
}
/**
 * Replace words with WordNet 3.1 synonyms.
 */
export interface AugmentSynonym {
  /**
   * Variants per record: the whole part always, the fraction as a probability.
   */
  ratio?: number;
  /**
   * Share of words changed (at least one).
   */
  alpha?: number;
}
/**
 * Insert synonyms of words of the text at random positions.
 */
export interface AugmentInsert {
  /**
   * Variants per record: the whole part always, the fraction as a probability.
   */
  ratio?: number;
  /**
   * Insertions as a share of the word count (at least one).
   */
  alpha?: number;
}
/**
 * Swap pairs of words.
 */
export interface AugmentSwap {
  /**
   * Variants per record: the whole part always, the fraction as a probability.
   */
  ratio?: number;
  /**
   * Swaps as a share of the word count (at least one).
   */
  alpha?: number;
}
/**
 * Delete words at random.
 */
export interface AugmentDelete {
  /**
   * Variants per record: the whole part always, the fraction as a probability.
   */
  ratio?: number;
  /**
   * Probability of deleting each word (one word always survives).
   */
  p?: number;
}
/**
 * Typing noise on letters: QWERTY neighbour keys, omissions, transpositions.
 */
export interface AugmentCharNoise {
  /**
   * Variants per record: the whole part always, the fraction as a probability.
   */
  ratio?: number;
  /**
   * Probability that a letter is hit.
   */
  p?: number;
  kinds?: ("neighbor" | "omit" | "transpose")[];
}
/**
 * Rewrap the prompt in an instruction template.
 */
export interface AugmentTemplate {
  /**
   * Variants per record: the whole part always, the fraction as a probability.
   */
  ratio?: number;
  /**
   * Templates; {prompt} marks where the prompt goes.
   *
   * @minItems 1
   */
  templates?: [string, ...string[]];
}
/**
 * Paraphrase through the endpoint (skipped, with a note in the report, when no endpoint is configured).
 */
export interface AugmentParaphrase {
  /**
   * Variants per record: the whole part always, the fraction as a probability.
   */
  ratio?: number;
}
/**
 * Translate to a pivot language and back through the endpoint (skipped, with a note in the report, when no endpoint is configured).
 */
export interface AugmentBackTranslation {
  /**
   * Variants per record: the whole part always, the fraction as a probability.
   */
  ratio?: number;
  pivotLanguage?: string;
}
/**
 * An OpenAI-compatible server (POST {baseUrl}/v1/chat/completions). Requests use the stage seed and the temperature below.
 */
export interface AugmentEndpoint {
  /**
   * Server root, e.g. http://localhost:8000 (a trailing /v1 is accepted).
   */
  baseUrl?: string;
  model?: string;
  /**
   * Environment variable holding the API key, if the server needs one (keys never go in params).
   */
  apiKeyEnv?: string;
  temperature?: number;
  timeoutMs?: number;
  /**
   * Requests in flight at once.
   */
  concurrency?: number;
  /**
   * fail: a failed request fails the stage. skip: the variant is left out and counted.
   */
  onError?: "fail" | "skip";
}
