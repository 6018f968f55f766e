/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * A fraction of the source (above 1 upsamples, e.g. 2.0 doubles it) or an absolute count ({count: 500}).
 */
export type SamplingSize = number | SamplingCount;

/**
 * Seeded train/validation/test split, stratified by task and group-aware (near-duplicate groups and augmented variants stay with their source), with optional replay mixing of earlier data into train.
 */
export interface SplitParams {
  /**
   * Canonical JSONL to split.
   */
  input: string;
  /**
   * Directory for train.jsonl, validation.jsonl, test.jsonl and split-report.json (plus train-mixed.jsonl and replay-manifest.json with replay).
   */
  outDir: string;
  seed?: number;
  ratios?: SplitRatios;
  counts?: SplitCounts;
  /**
   * Give every task its proportional share of each split.
   */
  stratify?: boolean;
  replay?: SplitReplay;
}
/**
 * Shares of the records per split; they must add up to 1.
 */
export interface SplitRatios {
  train?: number;
  validation?: number;
  test?: number;
}
/**
 * Absolute sizes of validation and test; when given they replace ratios and train gets the rest.
 */
export interface SplitCounts {
  validation?: number;
  test?: number;
}
/**
 * Mix earlier datasets into the train split, InstructLab-recipe style; writes train-mixed.jsonl and replay-manifest.json (per-source counts and sha256 of every input and of the output).
 */
export interface SplitReplay {
  datasets: ReplayDataset[];
  /**
   * A fraction of the source (above 1 upsamples, e.g. 2.0 doubles it) or an absolute count ({count: 500}).
   */
  trainSamplingSize?: number | SamplingCount;
}
export interface ReplayDataset {
  /**
   * Workspace-relative dataset (any readable format).
   */
  path: string;
  sampling_size: SamplingSize;
  /**
   * Name in the manifest and in meta.replaySource; defaults to the path.
   */
  name?: string;
  format?: "auto" | "jsonl" | "alpaca" | "chat" | "self-instruct" | "csv" | "taxonomy";
}
export interface SamplingCount {
  count: number;
}
