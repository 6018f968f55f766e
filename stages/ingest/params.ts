/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Reads one or more datasets (prompt/completion JSONL, alpaca, chat messages, self-instruct, CSV, InstructLab taxonomy) into one canonical JSONL file.
 */
export interface IngestParams {
  /**
   * Datasets to read, in order. Paths are workspace-relative files or directories.
   *
   * @minItems 1
   */
  sources: [IngestSource, ...IngestSource[]];
  /**
   * Canonical JSONL written here.
   */
  out: string;
  /**
   * Optional metrics file: record counts per source and per task, skipped records.
   */
  report?: string;
  /**
   * fail: any bad record fails the stage, listing file:line: field: reason for each. skip: bad records are left out and counted.
   */
  onInvalid?: "fail" | "skip";
}
export interface IngestSource {
  /**
   * File or directory (a taxonomy tree, or a folder of data files).
   */
  path: string;
  /**
   * Input format; auto detects it from the path and the first record's keys.
   */
  format?: "auto" | "jsonl" | "alpaca" | "chat" | "self-instruct" | "csv" | "taxonomy";
  /**
   * Replaces the task of every record read from this source.
   */
  task?: string;
}
