import type { WatchEvent } from "../WatchEvent.js"

const list = (names: ReadonlyArray<string>) => names.length === 0 ? "nothing" : names.join(", ")

/** Plain lines for a watch event, worded like the run reporter's (CI logs, pipes). */
export const watchLines = (e: WatchEvent): ReadonlyArray<string> => {
  switch (e._tag) {
    case "WatchStarted":
      return [`watching  ${e.paths} path(s) for ${e.stages.length} stage(s) of ${e.pipeline} (debounce ${e.debounceMs}ms); Ctrl-C to stop`]
    case "WatchState":
      return e.state === "watching" ? ["idle      waiting for changes"] : []
    case "WatchTriggered":
      return [
        `changed   ${list(e.paths)} -> rerun ${list(e.stages)}${e.interrupting.length > 0 ? `; interrupting ${list(e.interrupting)}` : ""}`
      ]
    case "WatchReloaded":
      return e.added.length + e.changed.length + e.removed.length === 0
        ? [`reloaded  ${e.file}: no stage changed`]
        : [`reloaded  ${e.file}: added ${list(e.added)}; changed ${list(e.changed)}; removed ${list(e.removed)}`]
    case "WatchInvalid":
      return [`invalid   ${e.message.split("\n").join("\n          ")}`, `          still watching the last valid pipeline; fix ${e.file} to resume`]
    case "WatchWarning":
      return [`warning   ${e.message}`]
    case "WatchStopped":
      return ["stopped   watch ended"]
  }
}
