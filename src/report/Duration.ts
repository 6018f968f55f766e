/**
 * How reports print a duration. Node builtins only (none, in fact): the no-op fast path prints a
 * run summary with it before the CLI bundle is loaded, and must print it as a full run would.
 */
export const formatDuration = (ms: number): string =>
  ms < 1000 ? `${Math.round(ms)}ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.floor(ms / 60_000)}m${Math.round((ms % 60_000) / 1000)}s`
