/** Shared spec builders for the sweep tests. */
import { Result } from "effect"
import { decodeSweep, type SweepSpec } from "../../src/sweep/index.js"

export const spec = (raw: Record<string, unknown>, name = "s"): SweepSpec => {
  const r = decodeSweep(name, { stage: "tune", metric: { name: "eval.loss", goal: "minimize" }, ...raw })
  if (Result.isFailure(r)) throw r.failure
  return r.success
}

export const issuesOf = (raw: Record<string, unknown>, name = "lr-search"): Array<string> => {
  const r = decodeSweep(name, raw)
  return Result.isFailure(r) ? r.failure.issues.map((i) => `${i.path}: ${i.message}`) : []
}
