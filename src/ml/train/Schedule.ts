/**
 * Learning-rate schedules: linear warm-up, then cosine, linear or constant until the last step.
 *
 * Update number s (0-based) uses lr(s). Warm-up ramps (s+1)/warmup so the first update is not
 * wasted at zero; decay runs from the end of warm-up and would reach `minLrRatio · lr` at
 * s = totalSteps, one past the last update, as transformers' schedulers do (so the last update
 * is not wasted at zero either).
 */

export type ScheduleKind = "cosine" | "linear" | "constant"

export interface ScheduleOptions {
  readonly lr: number
  readonly kind: ScheduleKind
  readonly warmupSteps: number
  readonly totalSteps: number
  readonly minLrRatio: number
}

export const learningRate = (options: ScheduleOptions, step: number): number => {
  const { lr, kind, warmupSteps, totalSteps, minLrRatio } = options
  if (step < warmupSteps) return (lr * (step + 1)) / warmupSteps
  if (kind === "constant") return lr
  const span = Math.max(1, totalSteps - warmupSteps)
  const progress = Math.min(1, (step - warmupSteps) / span)
  const floor = lr * minLrRatio
  return kind === "cosine"
    ? floor + (lr - floor) * 0.5 * (1 + Math.cos(Math.PI * progress))
    : lr - (lr - floor) * progress
}
