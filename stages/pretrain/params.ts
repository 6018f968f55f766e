/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Trains a small GPT-2 from scratch on a corpus of canonical JSONL records (instruction format or plain causal LM), with a byte-level BPE tokenizer trained on the corpus. Writes a model directory (config.json, model.safetensors, tokenizer.json), the loss curve (metrics.jsonl) and a summary (metrics.json). Checkpoints live in .cairn/checkpoints/<stage>/ so a killed run resumes.
 */
export interface PretrainParams {
  /**
   * Training corpus: one or more JSONL files.
   *
   * @minItems 1
   */
  datasets: [TrainingDataset, ...TrainingDataset[]];
  /**
   * JSONL evaluated every `evalEvery` steps (token-mean loss).
   */
  validation?: string;
  /**
   * Model directory to write.
   */
  out: string;
  /**
   * Summary (a metrics file); default `<out>.metrics.json`.
   */
  metrics?: string;
  /**
   * One JSON line per step and evaluation; default `<out>.metrics.jsonl`.
   */
  curve?: string;
  /**
   * `instruction`: the prompt template, loss on completion + EOS; `text`: plain causal LM over prompt and completion, loss on every token.
   */
  format?: "instruction" | "text";
  /**
   * Instruction format: also compute the loss on prompt tokens.
   */
  trainOnInputs?: boolean;
  tokenizer?: PretrainTokenizer;
  model?: PretrainModel;
  /**
   * Tokens per training row; longer examples are shortened from the left of the prompt (or split across rows with packing).
   */
  seqLen?: number;
  /**
   * Concatenate examples into full rows instead of one padded example per row.
   */
  packing?: boolean;
  /**
   * Rows per micro-batch.
   */
  batchSize?: number;
  /**
   * Micro-batches per optimiser step.
   */
  gradAccumSteps?: number;
  /**
   * Passes over the data; without it, `maxSteps` steps (or one epoch when neither is given).
   */
  epochs?: number;
  /**
   * Stop after this many optimiser steps (whichever of epochs and maxSteps comes first).
   */
  maxSteps?: number;
  /**
   * Peak learning rate (AdamW).
   */
  lr?: number;
  schedule?: "cosine" | "linear" | "constant";
  warmupSteps?: number;
  /**
   * Final learning rate as a fraction of lr.
   */
  minLrRatio?: number;
  /**
   * Decoupled weight decay on matrices.
   */
  weightDecay?: number;
  beta1?: number;
  beta2?: number;
  /**
   * Clip gradients to this global norm (0 disables).
   */
  maxGradNorm?: number;
  /**
   * Seeds initialisation, data order and dropout.
   */
  seed?: number;
  /**
   * Evaluate on `validation` every N steps (and after the last).
   */
  evalEvery?: number;
  earlyStopping?: EarlyStopping;
  /**
   * Full-state checkpoint every N steps (0: none), so a killed run resumes.
   */
  checkpointEvery?: number;
  /**
   * Shards per micro-batch, computed on as many threads when available (results depend on this number, not on the threads).
   */
  dataParallel?: number;
  /**
   * TensorFlow.js backend; auto tries gpu, node, wasm, cpu in turn.
   */
  backend?: "auto" | "gpu" | "node" | "wasm" | "cpu";
  /**
   * Threads for large matrix products on the wasm backend (1: no helper threads, the backend's default); results do not depend on it.
   */
  threads?: number;
}
export interface TrainingDataset {
  /**
   * Workspace-relative JSONL of canonical records ({id, task, prompt, completion, source}) or plain prompt/completion lines.
   */
  path: string;
  /**
   * Mixing weight; with weights, each epoch draws examples from the datasets in these proportions (unweighted datasets count by their size).
   */
  weight?: number;
}
/**
 * Train a byte-level BPE on the training corpus, or load one (`path`: a tokenizer.json or a model directory).
 */
export interface PretrainTokenizer {
  path?: string;
  /**
   * Including the 256 byte tokens and 3 special tokens (259 = bytes only).
   */
  vocabSize?: number;
  /**
   * Pairs seen fewer times are never merged.
   */
  minFrequency?: number;
}
export interface PretrainModel {
  nEmbd?: number;
  nLayer?: number;
  /**
   * Must divide nEmbd.
   */
  nHead?: number;
  /**
   * Context length; default seqLen.
   */
  nPositions?: number;
  /**
   * Embedding, attention and residual dropout.
   */
  dropout?: number;
}
/**
 * Stop after `patience` evaluations without an improvement of more than `threshold`; the best evaluated weights are the output. Needs `validation` and `evalEvery`.
 */
export interface EarlyStopping {
  patience: number;
  threshold?: number;
}
