/**
 * Early-stopping bookkeeping: the best evaluation so far and how many evaluations have passed
 * without beating it. An evaluation improves only if it is below `best - threshold`, so noise
 * smaller than the threshold does not reset patience.
 */

export interface EarlyStoppingState {
  readonly best: number | null
  readonly bestStep: number | null
  /** Evaluations since the last improvement. */
  readonly bad: number
}

export const initialEarlyStopping: EarlyStoppingState = { best: null, bestStep: null, bad: 0 }

export const observeEvaluation = (
  state: EarlyStoppingState,
  loss: number,
  step: number,
  threshold: number
): { readonly state: EarlyStoppingState; readonly improved: boolean } =>
  state.best === null || loss < state.best - threshold
    ? { state: { best: loss, bestStep: step, bad: 0 }, improved: true }
    : { state: { ...state, bad: state.bad + 1 }, improved: false }

export const shouldStop = (state: EarlyStoppingState, patience: number): boolean => state.bad >= patience
