/**
 * The training library: `train(options)` and the pieces it is built from (masked causal-LM
 * loss, batching and mixing, AdamW, schedules, checkpoints, early stopping, metrics).
 */
export * from "./AdamW.js"
export * from "./Batches.js"
export * from "./Checkpoint.js"
export { DataParallel, shardBatch } from "./DataParallel.js"
export * from "./EarlyStopping.js"
export * from "./Gradients.js"
export * from "./Loss.js"
export * from "./Metrics.js"
export * from "./Schedule.js"
export * from "./Trainer.js"
