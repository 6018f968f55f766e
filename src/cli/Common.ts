/**
 * Flags every command shares, and the step from parsed flags to a workspace with its layers.
 */
import { Effect, Option } from "effect"
import { Flag } from "effect/cli"
import { UsageError } from "../core/Errors.js"
import { parseOverride } from "../config/Params.js"
import { resolvePaths } from "../engine/Workspace.js"

export const sharedFlags = {
  directory: Flag.String("directory").pipe(
    Flag.withAlias("C"),
    Flag.withDescription("Workspace root (default: the current directory)"),
    Flag.optional
  ),
  file: Flag.String("file").pipe(
    Flag.withAlias("f"),
    Flag.withDescription("Pipeline file, relative to the workspace (default: cairn.yaml)"),
    Flag.optional
  ),
  cacheDir: Flag.String("cache-dir").pipe(
    Flag.withDescription("Store directory (default: $CAIRN_CACHE_DIR, else <workspace>/cache)"),
    Flag.optional
  )
}

export interface SharedFlagValues {
  readonly directory: Option.Option<string>
  readonly file: Option.Option<string>
  readonly cacheDir: Option.Option<string>
}

export const pathsFrom = (f: SharedFlagValues) =>
  resolvePaths({
    directory: Option.getOrUndefined(f.directory),
    file: Option.getOrUndefined(f.file),
    cacheDir: Option.getOrUndefined(f.cacheDir)
  })

export const parseOverrides = (sets: ReadonlyArray<string>) =>
  Effect.forEach(sets, (raw) => {
    const r = parseOverride(raw)
    return r instanceof UsageError ? Effect.fail(r) : Effect.succeed(r)
  })

export const setFlag = Flag.String("set").pipe(
  Flag.withDescription("Override a param for this run: key=value (repeatable; the value is read as YAML)"),
  Flag.atLeast(0)
)

export const jsonFlag = Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("Print JSON (one event per line for run)"))
