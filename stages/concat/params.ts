/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Concatenates text files into one, optionally under a header line.
 */
export interface ConcatParams {
  /**
   * Workspace-relative files to concatenate, in order.
   *
   * @minItems 1
   */
  inputs: [string, ...string[]];
  /**
   * Workspace-relative file to write.
   */
  output: string;
  /**
   * A line written before the inputs.
   */
  header?: string;
  /**
   * Text written between inputs.
   */
  separator?: string;
}
