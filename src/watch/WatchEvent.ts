/**
 * What the watcher itself does, as data, beside the RunEvents of the runs it starts. Views render
 * both; `--json` streams both, one per line, so an editor can follow a watch session.
 */

/** The phases of the watch state machine (drawn in `Watcher.ts`). */
export type WatchState = "watching" | "debouncing" | "running" | "queued"

export type WatchEvent =
  /** Watching has begun: the stages kept up to date (topological order) and how many paths are watched. */
  | {
    readonly _tag: "WatchStarted"
    readonly pipeline: string
    readonly stages: ReadonlyArray<string>
    readonly paths: number
    readonly debounceMs: number
  }
  | { readonly _tag: "WatchState"; readonly state: WatchState }
  /**
   * A debounce window closed: these workspace paths changed, so these stages rerun (the stages
   * whose inputs changed and everything downstream of them). `interrupting` are those among them
   * that were running and are stopped first.
   */
  | {
    readonly _tag: "WatchTriggered"
    readonly paths: ReadonlyArray<string>
    readonly stages: ReadonlyArray<string>
    readonly interrupting: ReadonlyArray<string>
  }
  /** The pipeline (or its params file) changed and loaded; `stages` is the new watched set. */
  | {
    readonly _tag: "WatchReloaded"
    /** The edited file(s), workspace-relative. */
    readonly file: string
    readonly added: ReadonlyArray<string>
    readonly changed: ReadonlyArray<string>
    readonly removed: ReadonlyArray<string>
    readonly stages: ReadonlyArray<string>
    readonly paths: number
  }
  /** An edit left the pipeline invalid; the last valid pipeline stays in force. */
  | { readonly _tag: "WatchInvalid"; readonly file: string; readonly message: string }
  /** The file watcher reported a problem (a path it cannot read, too many watches). */
  | { readonly _tag: "WatchWarning"; readonly message: string }
  | { readonly _tag: "WatchStopped" }
