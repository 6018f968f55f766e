/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Generates with one or more models on one or more test sets (seeded decoding, greedy by default, stop at EOS) and scores every listed metric overall and per task with bootstrap intervals. Writes metrics.json, predictions.jsonl, summary.md and SVG charts into outDir; with `compare`, deltas against a baseline model; with `forgetting`, the baseline-vs-tuned table on old and new test sets (forgetting.md, forgetting.json, forgetting.svg).
 */
export interface EvaluateParams {
  /**
   * Models to evaluate, each under a name.
   *
   * @minItems 1
   */
  models: [EvaluateModel, ...EvaluateModel[]];
  /**
   * JSONL test sets (canonical records); `task` groups the per-task scores.
   *
   * @minItems 1
   */
  testSets: [EvaluateTestSet, ...EvaluateTestSet[]];
  /**
   * Directory for metrics.json, predictions.jsonl, summary.md and the SVG charts.
   */
  outDir: string;
  /**
   * rouge (rouge1/2/L/Lsum), bleu, chrf, squad (EM/F1), exact, perplexity (of the references: exp(total completion NLL / total completion tokens)).
   *
   * @minItems 1
   */
  metrics?: [
    "rouge" | "bleu" | "chrf" | "squad" | "exact" | "perplexity",
    ...("rouge" | "bleu" | "chrf" | "squad" | "exact" | "perplexity")[]
  ];
  /**
   * Porter stemming for ROUGE.
   */
  stem?: boolean;
  generation?: EvaluateGeneration;
  /**
   * Evaluate only the first N examples of each test set.
   */
  maxExamples?: number;
  bootstrap?: EvaluateBootstrap;
  compare?: EvaluateCompare;
  forgetting?: EvaluateForgetting;
  /**
   * Training stages' metrics.jsonl files, plotted together in loss-curve.svg.
   */
  trainingCurves?: EvaluateCurve[];
  /**
   * TensorFlow.js backend; auto tries gpu, node, wasm, cpu in turn.
   */
  backend?: "auto" | "gpu" | "node" | "wasm" | "cpu";
  /**
   * Threads for large matrix products on the wasm backend (1: no helper threads, the backend's default); results do not depend on it.
   */
  threads?: number;
}
export interface EvaluateModel {
  name: string;
  /**
   * A model directory, or a LoRA adapter directory (then `base` is required).
   */
  path: string;
  /**
   * The model directory an adapter adapts.
   */
  base?: string;
}
export interface EvaluateTestSet {
  name: string;
  path: string;
}
export interface EvaluateGeneration {
  maxNewTokens?: number;
  /**
   * 0 is greedy decoding.
   */
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
}
/**
 * Percentile bootstrap intervals (samples 0: none).
 */
export interface EvaluateBootstrap {
  samples?: number;
  seed?: number;
  /**
   * 1 - confidence level.
   */
  alpha?: number;
}
/**
 * Report every other model as deltas against this one.
 */
export interface EvaluateCompare {
  /**
   * A model name.
   */
  baseline: string;
}
/**
 * The forgetting report: baseline (compare.baseline, else the first model) versus each other model on old test sets (tasks known before fine-tuning) and new ones (the tasks fine-tuned on).
 */
export interface EvaluateForgetting {
  /**
   * Test set names.
   *
   * @minItems 1
   */
  old: [string, ...string[]];
  /**
   * Test set names.
   *
   * @minItems 1
   */
  new: [string, ...string[]];
  /**
   * Metric keys in the table (e.g. exact, chrf, rougeL, perplexity); default: all computed.
   *
   * @minItems 1
   */
  metrics?: [string, ...string[]];
}
export interface EvaluateCurve {
  name: string;
  path: string;
}
