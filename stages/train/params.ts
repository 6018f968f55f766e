/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Instruction fine-tuning of a model directory on JSONL records: full or LoRA (optionally merged), with mixing weights, validation, early stopping (the best evaluation is the output), warmup + cosine/linear schedule, AdamW, clipping and accumulation. Writes the model (or PEFT adapter) directory, the loss curve (metrics.jsonl) and a summary (metrics.json); checkpoints in .cairn/checkpoints/<stage>/ make a killed run resume.
 */
export interface TrainParams {
  /**
   * Model directory to start from: a pretrain output, or a Hugging Face GPT-2 checkpoint (config.json + model.safetensors + tokenizer.json or vocab.json/merges.txt). The template markers are added to its tokenizer (and embedding) when missing.
   */
  baseModel: string;
  /**
   * Training data: one or more JSONL files, optionally with mixing weights (a replay mix is simply another dataset, or split's train-mixed.jsonl).
   *
   * @minItems 1
   */
  datasets: [TrainingDataset, ...TrainingDataset[]];
  /**
   * JSONL evaluated every `evalEvery` steps (token-mean loss).
   */
  validation?: string;
  /**
   * Output directory: the fine-tuned model, or the adapter (PEFT layout, naming baseModel) with LoRA and merge: false.
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
   * Instruction format: also compute the loss on prompt tokens.
   */
  trainOnInputs?: boolean;
  adapter?: TrainAdapter;
  /**
   * With LoRA: fold the adapters into the weights and write a full model instead of the adapter.
   */
  merge?: boolean;
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
   * Seeds the LoRA initialisation, data order and dropout.
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
 * `none`: full fine-tuning; `lora`: train low-rank adapters on the target modules, base weights frozen.
 */
export interface TrainAdapter {
  type?: "none" | "lora";
  r?: number;
  /**
   * Scale alpha/r.
   */
  alpha?: number;
  dropout?: number;
  /**
   * q, k, v (slices of attn.c_attn), c_attn (all of it), o (attn.c_proj), c_fc, c_proj (the MLP).
   *
   * @minItems 1
   */
  targetModules?: [
    "q" | "k" | "v" | "c_attn" | "o" | "c_fc" | "c_proj",
    ...("q" | "k" | "v" | "c_attn" | "o" | "c_fc" | "c_proj")[]
  ];
}
/**
 * Stop after `patience` evaluations without an improvement of more than `threshold`; the best evaluated weights are the output. Needs `validation` and `evalEvery`.
 */
export interface EarlyStopping {
  patience: number;
  threshold?: number;
}
