/**
 * chokidar behind a small scoped handle: events arrive as absolute paths on a callback, and the
 * watched set can be replaced when the pipeline reloads. chokidar loads on first use, so commands
 * other than `watch` never pay for it.
 */
import { Data, Effect } from "effect"

export class WatcherFailed extends Data.TaggedError("WatcherFailed")<{ readonly reason: string }> {
  override get message(): string {
    return `cannot watch files: ${this.reason}`
  }
}

export interface FileWatch {
  /** Watch exactly these absolute paths from now on. */
  readonly update: (paths: ReadonlyArray<string>) => Effect.Effect<void>
}

export interface FileWatchOptions {
  readonly paths: ReadonlyArray<string>
  /** Consulted on every event, so it may follow a graph that reloads. */
  readonly ignored: (abs: string) => boolean
  readonly onChange: (abs: string) => void
  readonly onError: (message: string) => void
}

export const makeFileWatch = (options: FileWatchOptions) =>
  Effect.gen(function*() {
    const chokidar = yield* Effect.tryPromise({
      try: () => import("chokidar"),
      catch: (e) => new WatcherFailed({ reason: String(e) })
    })
    const watcher = yield* Effect.acquireRelease(
      Effect.sync(() =>
        chokidar.watch([...options.paths], {
          ignoreInitial: true,
          ignored: (p: string) => options.ignored(p)
        })
      ),
      (w) => Effect.promise(() => w.close())
    )
    let current = new Set(options.paths)
    watcher.on("all", (event, p) => {
      // chokidar forgets a watched path once it is deleted; watched again, a missing path is
      // awaited through its parent directory, so a file that is deleted and recreated is seen.
      if ((event === "unlink" || event === "unlinkDir") && current.has(p)) {
        watcher.unwatch(p)
        watcher.add(p)
      }
      options.onChange(p)
    })
    watcher.on("error", (e) => options.onError(e instanceof Error ? e.message : String(e)))
    // Changes made before the initial scan completes would be missed: wait for it.
    yield* Effect.callback<void>((resume) => void watcher.once("ready", () => resume(Effect.void)))
    return {
      update: (paths) =>
        Effect.sync(() => {
          const next = new Set(paths)
          const gone = [...current].filter((p) => !next.has(p))
          const added = [...next].filter((p) => !current.has(p))
          if (gone.length > 0) watcher.unwatch(gone)
          if (added.length > 0) watcher.add(added)
          current = next
        })
    } satisfies FileWatch
  })
