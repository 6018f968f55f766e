/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Publishes the best trial of a sweep for downstream stages: its id, metric and parameters, and optionally files from its workspace.
 */
export interface SweepParams {
  /**
   * The sweep, as named under the pipeline's `sweeps:`.
   */
  sweep: string;
  /**
   * The sweep's results table, written by `cairn sweep` and `cairn sweep collect` (default: .cairn/sweeps/<sweep>/results.json). It is this stage's dependency.
   */
  results?: string;
  /**
   * Workspace-relative JSON file to write: {sweep, id, metric, params, key} of the best finished trial.
   */
  output: string;
  /**
   * Optional workspace-relative file for the best trial's parameters as a nested mapping (YAML for .yaml/.yml, else JSON), e.g. a params file for a final run.
   */
  best_params?: string;
  /**
   * Files or directories copied from the best trial's workspace (<sweep dir>/trials/<id>/<from>) to <to>, e.g. its model.
   */
  artifacts?: {
    /**
     * Path inside the trial's workspace.
     */
    from: string;
    /**
     * Workspace-relative destination.
     */
    to: string;
  }[];
}
