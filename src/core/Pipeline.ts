/**
 * The pipeline contract (DESIGN.md §3): what a YAML pipeline file and a TypeScript pipeline
 * module both produce. The TS form adds compile-time checks: a stage may only name stages that
 * exist, and a built-in stage's `with:` is typed by that stage's params schema.
 */

export type ParamValue = string | number | boolean | null | ReadonlyArray<ParamValue> | { readonly [k: string]: ParamValue }

export interface StageSpec {
  /** A shell string (run by /bin/sh) or an argv list (run directly, no shell). */
  readonly cmd?: string | ReadonlyArray<string>
  /** The name of a built-in stage. */
  readonly uses?: string
  /** Params of the built-in stage; strings may hold `${dotted.key}` references. */
  readonly with?: { readonly [k: string]: unknown }
  readonly deps?: ReadonlyArray<string>
  /** Dotted keys of the params file this stage reads; only these enter its key. */
  readonly params?: ReadonlyArray<string>
  readonly outs?: ReadonlyArray<string>
  readonly metrics?: ReadonlyArray<string>
  /** Environment variables whose values enter the key. */
  readonly env?: ReadonlyArray<string>
  /** Named resource slots this stage holds while it runs, e.g. `{ gpu: 1 }`. */
  readonly resources?: { readonly [k: string]: number }
  /** Stages that must finish first although no file links them (TS form; YAML: `after:`). */
  readonly after?: ReadonlyArray<string>
  readonly desc?: string
}

export interface PipelineSpec {
  /** Params file, relative to the pipeline file's directory. */
  readonly params?: string
  readonly stages: { readonly [name: string]: StageSpec }
  readonly sweeps?: { readonly [name: string]: unknown }
}

/** A reference to a params-file value, interpolated where a typed value is expected. */
export type ParamRef = string & { readonly __paramRef: true }

/** `param("train.lr")` stands for the value of `train.lr` in the params file. */
export const param = (key: string): any => `\${${key}}` as ParamRef

/** Leaves of a params object may also be `param(...)` references. */
export type WithParams<T> = T extends ReadonlyArray<infer U> ? ReadonlyArray<WithParams<U>>
  : T extends object ? { readonly [K in keyof T]: WithParams<T[K]> }
  : T | ParamRef

interface StageCommon<Names extends string> {
  readonly deps?: ReadonlyArray<string>
  readonly params?: ReadonlyArray<string>
  readonly outs?: ReadonlyArray<string>
  readonly metrics?: ReadonlyArray<string>
  readonly env?: ReadonlyArray<string>
  readonly resources?: { readonly [k: string]: number }
  readonly after?: ReadonlyArray<Names>
  readonly desc?: string
}

export interface CmdStageDecl<Names extends string> extends StageCommon<Names> {
  readonly cmd: string | ReadonlyArray<string>
  readonly uses?: never
  readonly with?: never
}

export type UsesStageDecl<Names extends string, Builtins> = {
  readonly [U in keyof Builtins & string]: StageCommon<Names> & {
    readonly uses: U
    readonly with?: WithParams<Builtins[U]>
    readonly cmd?: never
  }
}[keyof Builtins & string]

export type StageDecl<Names extends string, Builtins> = CmdStageDecl<Names> | UsesStageDecl<Names, Builtins>

/**
 * Builds a typed pipeline. `Builtins` maps built-in stage names to their params types (see
 * `stages/index.ts`, which fixes it to the shipped stages).
 */
export const definePipelineWith = <Builtins>() =>
<const S extends { readonly [K in keyof S]: StageDecl<Extract<keyof S, string>, Builtins> }>(
  pipeline: { readonly params?: string; readonly stages: S; readonly sweeps?: { readonly [name: string]: unknown } }
): PipelineSpec => pipeline as PipelineSpec
