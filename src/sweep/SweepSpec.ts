/**
 * The `sweeps:` section of a pipeline file, validated into a typed spec.
 *
 * Plain data goes in (what the YAML or TS pipeline produced); out comes either a typed
 * {@link SweepSpec} per sweep or every problem found, each naming the sweep and the parameter
 * (`sweeps.lr-search.parameters.tune.lr: min must be < max`). Parameter semantics follow W&B
 * sweeps, including how a missing `distribution` is inferred from the keys given. Parameter keys
 * stay dotted strings (`tune.adapter.r`): the engine applies them to the stage's `with:`.
 */
import { Data, Result } from "effect"

/** A value a parameter can take: anything JSON can carry. */
export type JsonValue =
  | string
  | number
  | boolean
  | null
  | ReadonlyArray<JsonValue>
  | { readonly [key: string]: JsonValue }

export type Goal = "minimize" | "maximize"
export type Method = "grid" | "random" | "bayes"

/** One swept parameter. `distribution` uses W&B's names. */
export type Parameter =
  | { readonly key: string; readonly distribution: "categorical"; readonly values: ReadonlyArray<JsonValue> }
  | { readonly key: string; readonly distribution: "constant"; readonly value: JsonValue }
  | { readonly key: string; readonly distribution: "uniform"; readonly min: number; readonly max: number }
  | { readonly key: string; readonly distribution: "int_uniform"; readonly min: number; readonly max: number }
  | {
    readonly key: string
    readonly distribution: "log_uniform_values"
    readonly min: number
    readonly max: number
  }
  | {
    readonly key: string
    readonly distribution: "q_uniform"
    readonly min: number
    readonly max: number
    readonly q: number
  }
  | {
    readonly key: string
    readonly distribution: "q_log_uniform_values"
    readonly min: number
    readonly max: number
    readonly q: number
  }

export type Distribution = Parameter["distribution"]

/** The `_` key: settings that vary together; each trial takes exactly one of the options. */
export interface ParameterGroup {
  readonly key: "_"
  readonly options: ReadonlyArray<Readonly<Record<string, JsonValue>>>
}

export interface MetricSpec {
  /** Dotted `stage.metric` name, as the trial's stages report it (e.g. `eval.rougeL`). */
  readonly name: string
  readonly goal: Goal
}

/** W&B's hyperband stopping: bands at `min_iter·eta^k`, or `max_iter/eta^k` for `k ≤ s`. */
export interface HyperbandSpec {
  readonly type: "hyperband"
  readonly minIter?: number
  readonly maxIter?: number
  readonly s?: number
  readonly eta: number
  /** W&B's schema defaults this to true: judge the metric at the band, not the best so far. */
  readonly strict: boolean
}

/** Asynchronous successive halving: rungs at `min_iter·eta^k` below `max_iter`. */
export interface AshaSpec {
  readonly type: "asha"
  readonly minIter: number
  readonly eta: number
  readonly maxIter?: number
}

export type EarlyTerminateSpec = HyperbandSpec | AshaSpec

/** Knobs of the TPE sampler behind `method: bayes` (`tpe:` in the spec; all optional). */
export interface TpeSpec {
  /** Trials drawn at random before the model is used; sharded jobs share these. */
  readonly nStartup: number
  /** Fraction of observations that form the "good" density l(x). */
  readonly gamma: number
  /** Candidates drawn from l(x) per suggestion; the best l/g wins. */
  readonly candidates: number
}

export interface SweepSpec {
  readonly name: string
  /** The stage to vary; it and its downstream form one trial. */
  readonly stage: string
  readonly method: Method
  /** Sorted by key, so every expansion of the spec is in one deterministic order. */
  readonly parameters: ReadonlyArray<Parameter>
  readonly group?: ParameterGroup
  readonly metric: MetricSpec
  /** Upper bound on trials; required for random and bayes, which would otherwise never end. */
  readonly runCap?: number
  readonly seed: number
  readonly earlyTerminate?: EarlyTerminateSpec
  readonly tpe: TpeSpec
}

/** One problem in a sweep spec; `path` is what users see, e.g. `sweeps.x.parameters.tune.lr`. */
export interface SweepSpecIssue {
  readonly sweep: string
  readonly parameter?: string
  readonly path: string
  readonly message: string
}

export class SweepSpecInvalid extends Data.TaggedError("SweepSpecInvalid")<{
  readonly issues: ReadonlyArray<SweepSpecIssue>
  readonly message: string
}> {
  static of(issues: ReadonlyArray<SweepSpecIssue>): SweepSpecInvalid {
    return new SweepSpecInvalid({ issues, message: issues.map(formatIssue).join("\n") })
  }
}

export const formatIssue = (issue: SweepSpecIssue): string => `${issue.path}: ${issue.message}`

export const DEFAULT_TPE: TpeSpec = { nStartup: 10, gamma: 0.25, candidates: 24 }

const TOP_KEYS = ["stage", "method", "parameters", "metric", "run_cap", "seed", "early_terminate", "tpe"]
const DISTRIBUTIONS: ReadonlyArray<Distribution> = [
  "categorical",
  "constant",
  "uniform",
  "int_uniform",
  "log_uniform_values",
  "q_uniform",
  "q_log_uniform_values"
]
/** Distributions a grid can enumerate; W&B expands int_uniform and q_uniform into their values. */
export const GRID_DISTRIBUTIONS: ReadonlyArray<Distribution> = ["categorical", "constant", "int_uniform", "q_uniform"]

const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)
const isFiniteNumber = (u: unknown): u is number => typeof u === "number" && Number.isFinite(u)
const isJsonValue = (u: unknown): u is JsonValue => {
  if (u === null || typeof u === "string" || typeof u === "boolean") return true
  if (typeof u === "number") return Number.isFinite(u)
  if (Array.isArray(u)) return u.every(isJsonValue)
  return isRecord(u) && Object.values(u).every(isJsonValue)
}
const DOTTED_KEY = /^[A-Za-z_][\w-]*(\.[\w-]+)+$/

/** Validate the whole `sweeps:` map; every issue is reported, not just the first. */
export const decodeSweeps = (raw: unknown): Result.Result<ReadonlyMap<string, SweepSpec>, SweepSpecInvalid> => {
  if (!isRecord(raw)) {
    return Result.fail(SweepSpecInvalid.of([{ sweep: "", path: "sweeps", message: "must be a map of sweep name → spec" }]))
  }
  const specs = new Map<string, SweepSpec>()
  const issues: Array<SweepSpecIssue> = []
  for (const name of Object.keys(raw).sort()) {
    const r = decodeSweep(name, raw[name])
    if (Result.isSuccess(r)) specs.set(name, r.success)
    else issues.push(...r.failure.issues)
  }
  return issues.length > 0 ? Result.fail(SweepSpecInvalid.of(issues)) : Result.succeed(specs)
}

/** Validate one sweep. */
export const decodeSweep = (name: string, raw: unknown): Result.Result<SweepSpec, SweepSpecInvalid> => {
  const issues: Array<SweepSpecIssue> = []
  const at = (path: string, message: string, parameter?: string) =>
    issues.push({ sweep: name, path: `sweeps.${name}${path ? "." + path : ""}`, message, ...(parameter ? { parameter } : {}) })

  if (!isRecord(raw)) {
    at("", "must be a map")
    return Result.fail(SweepSpecInvalid.of(issues))
  }
  for (const k of Object.keys(raw)) if (!TOP_KEYS.includes(k)) at(k, "unknown key")

  const stage = raw["stage"]
  if (typeof stage !== "string" || stage === "") at("stage", "required: the stage to vary")

  const method = raw["method"]
  if (method !== "grid" && method !== "random" && method !== "bayes") {
    at("method", "must be one of grid, random, bayes")
  }

  const metric = decodeMetric(raw["metric"], at)

  let runCap: number | undefined
  if (raw["run_cap"] !== undefined) {
    const c = raw["run_cap"]
    if (!Number.isInteger(c) || (c as number) < 1) at("run_cap", "must be an integer ≥ 1")
    else runCap = c as number
  } else if (method === "random" || method === "bayes") {
    at("run_cap", `required for method ${method}: without it the sweep never ends`)
  }

  let seed = 0
  if (raw["seed"] !== undefined) {
    const s = raw["seed"]
    if (!Number.isInteger(s)) at("seed", "must be an integer")
    else seed = s as number
  }

  const parameters: Array<Parameter> = []
  let group: ParameterGroup | undefined
  const rawParams = raw["parameters"]
  if (!isRecord(rawParams) || Object.keys(rawParams).length === 0) {
    at("parameters", "required: a map with at least one parameter")
  } else {
    for (const key of Object.keys(rawParams).sort()) {
      if (key === "_") {
        group = decodeGroup(rawParams[key], at)
        continue
      }
      if (!DOTTED_KEY.test(key)) {
        at(`parameters.${key}`, "key must be dotted: <stage>.<path into its with:>", key)
        continue
      }
      const p = decodeParameter(key, rawParams[key], (msg) => at(`parameters.${key}`, msg, key))
      if (p === undefined) continue
      if (method === "grid" && !GRID_DISTRIBUTIONS.includes(p.distribution)) {
        at(
          `parameters.${key}`,
          `${p.distribution} is continuous; grid search needs values, value, int_uniform or q_uniform`,
          key
        )
        continue
      }
      parameters.push(p)
    }
    const rawGroup = rawParams["_"]
    if (Array.isArray(rawGroup)) {
      const doubled = new Set(rawGroup.flatMap((o) => (isRecord(o) ? Object.keys(o) : [])).filter((k) => k in rawParams))
      for (const k of doubled) at(`parameters._`, `key ${k} is also a parameter of its own`, "_")
    }
  }

  const earlyTerminate = raw["early_terminate"] === undefined ? undefined : decodeEarlyTerminate(raw["early_terminate"], at)
  const tpe = raw["tpe"] === undefined ? DEFAULT_TPE : decodeTpe(raw["tpe"], method, at)

  if (issues.length > 0 || metric === undefined || tpe === undefined) {
    return Result.fail(SweepSpecInvalid.of(issues))
  }
  return Result.succeed({
    name,
    stage: stage as string,
    method: method as Method,
    parameters,
    ...(group ? { group } : {}),
    metric,
    ...(runCap !== undefined ? { runCap } : {}),
    seed,
    ...(earlyTerminate ? { earlyTerminate } : {}),
    tpe
  })
}

type At = (path: string, message: string, parameter?: string) => void

const decodeMetric = (raw: unknown, at: At): MetricSpec | undefined => {
  if (!isRecord(raw)) {
    at("metric", "required: { name, goal } naming the metric that ranks trials")
    return undefined
  }
  for (const k of Object.keys(raw)) if (k !== "name" && k !== "goal") at(`metric.${k}`, "unknown key")
  const name = raw["name"]
  const goal = raw["goal"] ?? "minimize"
  let ok = true
  if (typeof name !== "string" || name === "") {
    at("metric.name", "required: the metric to optimise, e.g. eval.rougeL")
    ok = false
  }
  if (goal !== "minimize" && goal !== "maximize") {
    at("metric.goal", "must be minimize or maximize")
    ok = false
  }
  return ok ? { name: name as string, goal: goal as Goal } : undefined
}

/**
 * W&B infers the distribution from the keys when `distribution` is absent: `values` →
 * categorical, `value` → constant, integer `min`/`max` → int_uniform, other numbers → uniform.
 * JavaScript has one number type, so `min: 0.0` reads as an integer here; write
 * `distribution: uniform` to get a real-valued range over integral bounds.
 */
const inferDistribution = (raw: Record<string, unknown>): Distribution | undefined => {
  if ("values" in raw) return "categorical"
  if ("value" in raw) return "constant"
  if ("min" in raw && "max" in raw) {
    return Number.isInteger(raw["min"]) && Number.isInteger(raw["max"]) ? "int_uniform" : "uniform"
  }
  return undefined
}

const ALLOWED_KEYS: Record<Distribution, ReadonlyArray<string>> = {
  categorical: ["values", "distribution"],
  constant: ["value", "distribution"],
  uniform: ["min", "max", "distribution"],
  int_uniform: ["min", "max", "distribution"],
  log_uniform_values: ["min", "max", "distribution"],
  q_uniform: ["min", "max", "q", "distribution"],
  q_log_uniform_values: ["min", "max", "q", "distribution"]
}

const decodeParameter = (key: string, raw: unknown, fail: (message: string) => void): Parameter | undefined => {
  if (!isRecord(raw)) {
    fail("must be a map such as { values: [...] } or { min, max, distribution }")
    return undefined
  }
  const given = raw["distribution"]
  if (given !== undefined && !DISTRIBUTIONS.includes(given as Distribution)) {
    fail(`unknown distribution ${JSON.stringify(given)}; one of ${DISTRIBUTIONS.join(", ")}`)
    return undefined
  }
  const distribution = (given as Distribution | undefined) ?? inferDistribution(raw)
  if (distribution === undefined) {
    fail("cannot infer a distribution: give values, value, or min and max")
    return undefined
  }
  const problems: Array<string> = []
  for (const k of Object.keys(raw)) {
    if (!ALLOWED_KEYS[distribution].includes(k)) problems.push(`unknown key ${k} for distribution ${distribution}`)
  }
  const parameter = decodeByDistribution(key, distribution, raw, problems)
  problems.forEach(fail)
  return problems.length === 0 ? parameter : undefined
}

const decodeByDistribution = (
  key: string,
  distribution: Distribution,
  raw: Record<string, unknown>,
  problems: Array<string>
): Parameter | undefined => {
  switch (distribution) {
    case "categorical": {
      const values = raw["values"]
      if (!Array.isArray(values) || values.length === 0) problems.push("values must be a non-empty list")
      else if (!values.every(isJsonValue)) problems.push("values must be plain data (no NaN or Infinity)")
      return { key, distribution, values: values as ReadonlyArray<JsonValue> }
    }
    case "constant": {
      const value = raw["value"]
      if (!isJsonValue(value)) problems.push("value must be plain data (no NaN or Infinity)")
      return { key, distribution, value: value as JsonValue }
    }
  }
  const min = raw["min"]
  const max = raw["max"]
  if (!isFiniteNumber(min)) problems.push("min is required and must be a number")
  if (!isFiniteNumber(max)) problems.push("max is required and must be a number")
  if (isFiniteNumber(min) && isFiniteNumber(max) && !(min < max)) problems.push("min must be < max")
  if (distribution === "int_uniform" && !(Number.isInteger(min) && Number.isInteger(max))) {
    problems.push("int_uniform needs integer min and max")
  }
  const isLog = distribution === "log_uniform_values" || distribution === "q_log_uniform_values"
  if (isLog && isFiniteNumber(min) && min <= 0) problems.push("min must be > 0 for a log distribution")
  const range = { key, min: min as number, max: max as number }
  switch (distribution) {
    case "q_uniform":
    case "q_log_uniform_values": {
      // W&B's default quantum is 1.
      const q = raw["q"] ?? 1
      if (!isFiniteNumber(q) || q <= 0) problems.push("q must be a number > 0")
      else if (problems.length === 0 && Math.floor(range.max / q + 1e-9) < Math.ceil(range.min / q - 1e-9)) {
        problems.push(`no multiple of q = ${q} lies in [min, max]`)
      }
      return { ...range, distribution, q: q as number }
    }
    case "uniform":
    case "int_uniform":
    case "log_uniform_values":
      return { ...range, distribution }
  }
}

const decodeGroup = (raw: unknown, at: At): ParameterGroup | undefined => {
  const path = "parameters._"
  if (!Array.isArray(raw) || raw.length === 0) {
    at(path, "must be a non-empty list of maps whose keys vary together", "_")
    return undefined
  }
  const options: Array<Record<string, JsonValue>> = []
  let keys: string | undefined
  let ok = true
  raw.forEach((option, i) => {
    if (!isRecord(option) || Object.keys(option).length === 0) {
      at(`${path}[${i}]`, "must be a non-empty map of dotted key → value", "_")
      ok = false
      return
    }
    for (const [k, v] of Object.entries(option)) {
      if (!DOTTED_KEY.test(k)) {
        at(`${path}[${i}].${k}`, "key must be dotted: <stage>.<path into its with:>", "_")
        ok = false
      }
      if (!isJsonValue(v)) {
        at(`${path}[${i}].${k}`, "value must be plain data", "_")
        ok = false
      }
    }
    // Every option sets the same keys, so each trial has one column per key and none are missing.
    const these = Object.keys(option).sort().join(",")
    if (keys === undefined) keys = these
    else if (these !== keys) {
      at(`${path}[${i}]`, `keys [${these}] differ from the first option's [${keys}]`, "_")
      ok = false
    }
    options.push(option as Record<string, JsonValue>)
  })
  return ok ? { key: "_", options } : undefined
}

const decodeEarlyTerminate = (raw: unknown, at: At): EarlyTerminateSpec | undefined => {
  const path = "early_terminate"
  if (!isRecord(raw)) {
    at(path, "must be a map with type hyperband or asha")
    return undefined
  }
  const type = raw["type"]
  const allowed = type === "hyperband" ? ["type", "min_iter", "max_iter", "s", "eta", "strict"] : ["type", "min_iter", "max_iter", "eta"]
  if (type !== "hyperband" && type !== "asha") {
    at(`${path}.type`, "must be hyperband or asha")
    return undefined
  }
  let ok = true
  const bad = (k: string, m: string) => {
    at(`${path}.${k}`, m)
    ok = false
  }
  for (const k of Object.keys(raw)) if (!allowed.includes(k)) bad(k, `unknown key for ${type}`)
  const int = (k: string, min: number): number | undefined => {
    const v = raw[k]
    if (v === undefined) return undefined
    if (!Number.isInteger(v) || (v as number) < min) {
      bad(k, `must be an integer ≥ ${min}`)
      return undefined
    }
    return v as number
  }
  const eta = raw["eta"] ?? 3
  if (!isFiniteNumber(eta) || eta <= 1) bad("eta", "must be a number > 1")
  const minIter = int("min_iter", 1)
  const maxIter = int("max_iter", 1)

  if (type === "hyperband") {
    const strict = raw["strict"] ?? true
    if (typeof strict !== "boolean") bad("strict", "must be true or false")
    const s = raw["s"]
    if (s !== undefined && (!isFiniteNumber(s) || s < 1)) bad("s", "must be a number ≥ 1")
    if (raw["min_iter"] === undefined && (raw["max_iter"] === undefined || s === undefined)) {
      bad("min_iter", "hyperband needs min_iter, or max_iter with s")
    }
    if (ok && minIter === undefined && maxIter !== undefined && maxIter / (eta as number) < 1) {
      bad("max_iter", "gives no band: max_iter/eta < 1; raise max_iter or lower eta")
    }
    if (!ok) return undefined
    return {
      type,
      ...(minIter !== undefined ? { minIter } : { maxIter: maxIter as number, s: s as number }),
      eta: eta as number,
      strict: strict as boolean
    }
  }
  if (minIter !== undefined && maxIter !== undefined && maxIter <= minIter) bad("max_iter", "must be > min_iter")
  if (!ok) return undefined
  return { type, minIter: minIter ?? 1, eta: eta as number, ...(maxIter !== undefined ? { maxIter } : {}) }
}

const decodeTpe = (raw: unknown, method: unknown, at: At): TpeSpec | undefined => {
  if (method !== "bayes") {
    at("tpe", "only applies to method bayes")
    return undefined
  }
  if (!isRecord(raw)) {
    at("tpe", "must be a map { n_startup, gamma, n_candidates }")
    return undefined
  }
  let ok = true
  for (const k of Object.keys(raw)) {
    if (!["n_startup", "gamma", "n_candidates"].includes(k)) {
      at(`tpe.${k}`, "unknown key")
      ok = false
    }
  }
  const nStartup = raw["n_startup"] ?? DEFAULT_TPE.nStartup
  const gamma = raw["gamma"] ?? DEFAULT_TPE.gamma
  const candidates = raw["n_candidates"] ?? DEFAULT_TPE.candidates
  if (!Number.isInteger(nStartup) || (nStartup as number) < 1) {
    at("tpe.n_startup", "must be an integer ≥ 1")
    ok = false
  }
  if (!isFiniteNumber(gamma) || gamma <= 0 || gamma >= 1) {
    at("tpe.gamma", "must be a number in (0, 1)")
    ok = false
  }
  if (!Number.isInteger(candidates) || (candidates as number) < 1) {
    at("tpe.n_candidates", "must be an integer ≥ 1")
    ok = false
  }
  return ok ? { nStartup: nStartup as number, gamma: gamma as number, candidates: candidates as number } : undefined
}

/** All keys a trial of this spec sets, sorted (group keys included). */
export const parameterKeys = (spec: SweepSpec): ReadonlyArray<string> => {
  const keys = spec.parameters.map((p) => p.key)
  if (spec.group) keys.push(...Object.keys(spec.group.options[0] ?? {}))
  return keys.sort()
}
