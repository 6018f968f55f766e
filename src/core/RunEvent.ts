/**
 * What happened to each stage during a run, as data. The executor only publishes these; the
 * reporters (TTY, plain lines, JSON lines) only render them.
 */
export type RunEvent =
  | { readonly _tag: "Planned"; readonly stages: ReadonlyArray<string>; readonly jobs: number }
  /** Outs in the workspace already match the current key: nothing to do. */
  | { readonly _tag: "Fresh"; readonly stage: string; readonly key: string }
  /** A run record for the current key existed: outs restored from the store, log replayed. */
  | { readonly _tag: "Restored"; readonly stage: string; readonly key: string; readonly log: string; readonly durationMs: number }
  | { readonly _tag: "Waiting"; readonly stage: string; readonly holder: string }
  | { readonly _tag: "Started"; readonly stage: string; readonly key: string; readonly reason: string }
  | { readonly _tag: "Output"; readonly stage: string; readonly line: string }
  | {
    readonly _tag: "Progress"
    readonly stage: string
    readonly step?: number
    readonly total?: number
    readonly metrics?: Readonly<Record<string, number>>
    readonly message?: string
  }
  | { readonly _tag: "Succeeded"; readonly stage: string; readonly key: string; readonly durationMs: number; readonly cached: boolean }
  | { readonly _tag: "Failed"; readonly stage: string; readonly reason: string; readonly logTail: ReadonlyArray<string>; readonly durationMs: number }
  /** A dependency failed, so this stage did not run. */
  | { readonly _tag: "Skipped"; readonly stage: string; readonly reason: string }
  | { readonly _tag: "Interrupted"; readonly stage: string }
  | { readonly _tag: "Warning"; readonly stage?: string; readonly message: string }
  | { readonly _tag: "WouldRun"; readonly stage: string; readonly reason: string }
  | { readonly _tag: "Finished"; readonly ok: boolean; readonly durationMs: number; readonly counts: Readonly<Record<string, number>> }
