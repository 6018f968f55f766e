/**
 * Early-termination state of a running sweep: each trial's reports of the objective, one per
 * evaluation, and the scheduler's verdict after each report.
 *
 * Reports are journaled as `running` events carrying an extra `progress` field, so a resumed
 * sweep (or one extended later) judges new trials against the curves of the trials that ran
 * before. A trial's iterations count from 1 in each attempt: a retried trial starts afresh.
 */
import { type MetricReport, shouldStop, type StopDecision } from "../EarlyTermination.js"
import type { TrialEvent } from "../Journal.js"
import type { SweepSpec } from "../SweepSpec.js"

export interface ProgressReport {
  /** 1-based count of the trial's evaluations in this attempt. */
  readonly iteration: number
  /** The objective at this evaluation. */
  readonly value: number
  readonly step?: number
}

/** A journal event recording one evaluation. */
export type ReportEvent = TrialEvent & { readonly progress: ProgressReport }

export const isReportEvent = (e: TrialEvent): e is ReportEvent => {
  const p = (e as { progress?: unknown }).progress as Partial<ProgressReport> | undefined
  return e.status === "running" && typeof p === "object" && p !== null &&
    typeof p.iteration === "number" && typeof p.value === "number"
}

/**
 * The objective's value among a progress event's metrics. Stages report under their own names,
 * so `eval.rougeL` is matched by a metric named `rougeL` from any stage of the trial (the train
 * stage evaluating as it goes), or by one named `eval.rougeL` outright.
 */
export const objectiveIn = (
  metricName: string,
  metricKey: string,
  metrics: Readonly<Record<string, number>> | undefined
): number | undefined => {
  if (metrics === undefined) return undefined
  const v = metrics[metricName] ?? metrics[metricKey]
  return typeof v === "number" && Number.isFinite(v) ? v : undefined
}

export interface Terminator {
  /** A new attempt of a trial begins: reports of earlier attempts no longer count. */
  readonly begin: (id: string) => void
  /** Records the trial's next evaluation and returns its iteration. */
  readonly report: (id: string, value: number) => number
  readonly judge: (id: string) => StopDecision
}

export const makeTerminator = (spec: SweepSpec, events: ReadonlyArray<TrialEvent>): Terminator => {
  const histories = new Map<string, Array<MetricReport>>()
  for (const e of events) {
    if (!isReportEvent(e)) continue
    const h = histories.get(e.id)
    const last = h?.[h.length - 1]
    if (h === undefined || last === undefined || e.progress.iteration <= last.iteration) {
      histories.set(e.id, [{ iteration: e.progress.iteration, metric: e.progress.value }])
    } else h.push({ iteration: e.progress.iteration, metric: e.progress.value })
  }
  return {
    begin: (id) => void histories.set(id, []),
    report: (id, value) => {
      const h = histories.get(id) ?? []
      histories.set(id, h)
      h.push({ iteration: h.length + 1, metric: value })
      return h.length
    },
    judge: (id) =>
      spec.earlyTerminate === undefined ? { stop: false } : shouldStop(spec.earlyTerminate, spec.metric.goal, histories, id)
  }
}
