/**
 * The training run's `metrics.jsonl` (one JSON object per optimiser step or evaluation) and
 * `summary.json`.
 *
 * On resume the log is cut back to the checkpoint's step, so the finished file reads as if the
 * run had never stopped: lines the killed process wrote after its last checkpoint (and a
 * possibly half-written last line) are dropped, then the resumed run appends its own.
 */
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { dirname } from "node:path"

export interface StepRecord {
  readonly step: number
  readonly epoch: number
  readonly loss: number | null
  readonly lr: number
  readonly gradNorm: number | null
  readonly tokens: number
  readonly tokensPerSec: number
  readonly evalLoss?: number
}

export class MetricsLog {
  private constructor(private readonly path: string | undefined) {}

  /** Open the log, keeping only records up to `keepThroughStep` (0 starts afresh). */
  static open(path: string | undefined, keepThroughStep: number): MetricsLog {
    if (path === undefined) return new MetricsLog(undefined)
    mkdirSync(dirname(path), { recursive: true })
    let kept: Array<string> = []
    if (keepThroughStep > 0) {
      try {
        kept = readFileSync(path, "utf8")
          .split("\n")
          .filter((line) => {
            try {
              const record = JSON.parse(line) as { step?: unknown }
              return typeof record.step === "number" && record.step <= keepThroughStep
            } catch {
              return false
            }
          })
      } catch {
        kept = []
      }
    }
    writeFileSync(path, kept.map((l) => l + "\n").join(""))
    return new MetricsLog(path)
  }

  append(record: StepRecord | Readonly<Record<string, unknown>>): void {
    if (this.path !== undefined) appendFileSync(this.path, JSON.stringify(record) + "\n")
  }
}

export const writeSummary = (path: string, summary: Readonly<Record<string, unknown>>): void => {
  mkdirSync(dirname(path), { recursive: true })
  writeFileSync(path, JSON.stringify(summary, null, 2) + "\n")
}
