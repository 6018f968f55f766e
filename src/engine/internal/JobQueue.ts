/**
 * A run's jobs (`--jobs N`): at most N at once, the rest waiting in arrival order. The launcher
 * process keeps one per run for the commands it starts, so the next command starts the moment
 * another one's process ends; the in-process launcher keeps the same queue.
 */
export interface JobQueue<K> {
  /** Calls `start` now when a job is free, otherwise once one is; false (never starts) once stopped. */
  readonly add: (key: K, start: () => void) => boolean
  /** Drops a waiting entry; false when it has started already (or was never added). */
  readonly cancel: (key: K) => boolean
  /**
   * No new work (a failure without --keep-going): drops every waiting entry, returns their keys,
   * and refuses entries added later, which may still be on their way from the engine.
   */
  readonly stop: () => ReadonlyArray<K>
  /** A started job has ended: the next waiting entry starts. */
  readonly done: () => void
}

export const makeJobQueue = <K>(limit: number): JobQueue<K> => {
  let running = 0
  let stopped = false
  const waiting: Array<{ readonly key: K; readonly start: () => void }> = []
  const pump = () => {
    while (running < limit && waiting.length > 0) {
      running++
      waiting.shift()!.start()
    }
  }
  return {
    add: (key, start) => {
      if (stopped) return false
      waiting.push({ key, start })
      pump()
      return true
    },
    cancel: (key) => {
      const i = waiting.findIndex((w) => w.key === key)
      if (i < 0) return false
      waiting.splice(i, 1)
      return true
    },
    stop: () => {
      stopped = true
      return waiting.splice(0).map((w) => w.key)
    },
    done: () => {
      running = Math.max(0, running - 1)
      pump()
    }
  }
}
