/**
 * The params file and `${...}` interpolation. Params are plain YAML (or JSON) values addressed by
 * dotted keys; a stage declares which keys it reads, and only those enter its key, so editing an
 * unrelated param reruns nothing.
 */
import * as fs from "node:fs"
import * as YAML from "yaml"
import { PipelineInvalid, UsageError } from "../core/Errors.js"
import { parseYaml, type YamlSource } from "./YamlSource.js"

export type Params = { readonly [k: string]: unknown }

export interface LoadedParams {
  readonly values: Params
  readonly source: YamlSource | undefined
  readonly display: string
}

export const loadParams = (abs: string, display: string): LoadedParams | PipelineInvalid => {
  if (!fs.existsSync(abs)) return new PipelineInvalid({ file: display, field: "(file)", reason: "params file not found" })
  const source = parseYaml(display, fs.readFileSync(abs, "utf8"))
  if (source instanceof PipelineInvalid) return source
  const v = source.value ?? {}
  if (typeof v !== "object" || Array.isArray(v)) {
    return new PipelineInvalid({ file: display, position: { line: 1, column: 1 }, field: "(top)", reason: "a params file must be a mapping" })
  }
  return { values: v as Params, source, display }
}

const NOT_FOUND: unique symbol = Symbol("not found")

/** The value at a dotted key (`train.lr`, `layers.0.size`), or NOT_FOUND. */
export const lookup = (values: unknown, key: string): unknown | typeof NOT_FOUND => {
  let cur: unknown = values
  for (const part of key.split(".")) {
    if (typeof cur !== "object" || cur === null || !Object.prototype.hasOwnProperty.call(cur, part)) return NOT_FOUND
    cur = (cur as Record<string, unknown>)[part]
  }
  return cur
}
export const isFound = <A>(v: A | typeof NOT_FOUND): v is A => v !== NOT_FOUND

/** Returns a copy of `values` with the dotted key set (creating intermediate mappings). */
export const setIn = (values: Params, key: string, value: unknown): Params => {
  const [head, ...rest] = key.split(".")
  const copy: Record<string, unknown> = Array.isArray(values) ? [...values] as never : { ...values }
  if (rest.length === 0) copy[head!] = value
  else {
    const child = copy[head!]
    copy[head!] = setIn(typeof child === "object" && child !== null ? child as Params : {}, rest.join("."), value)
  }
  return copy
}

/** `--set key=value`: the value is read as YAML, so numbers and booleans keep their type. */
export const parseOverride = (raw: string): readonly [string, unknown] | UsageError => {
  const eq = raw.indexOf("=")
  if (eq <= 0) return new UsageError({ reason: `--set expects key=value, got ${JSON.stringify(raw)}` })
  const key = raw.slice(0, eq).trim()
  const text = raw.slice(eq + 1)
  let value: unknown
  try {
    value = YAML.parse(text)
  } catch {
    value = text
  }
  return [key, value ?? (text === "" ? "" : value)] as const
}

const REF = /\$\{\s*([A-Za-z0-9_.-]+)\s*\}/g

/** Dotted keys referenced as `${...}` in a string. */
export const references = (text: string): Array<string> => [...text.matchAll(REF)].map((m) => m[1]!)

/** Renders a param value as text: scalars as themselves, structures as JSON. */
export const renderValue = (v: unknown): string =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : JSON.stringify(v)

/**
 * Single-quotes a value for /bin/sh. Param values are data: they must never be parsed as shell
 * syntax (`x; rm -rf ~` stays one argument).
 */
export const shellQuote = (s: string): string => /^[A-Za-z0-9_./:=@%+,-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`

export const interpolate = (text: string, resolve: (key: string) => unknown, quote: boolean): string =>
  text.replace(REF, (_m, key: string) => {
    const rendered = renderValue(resolve(key))
    return quote ? shellQuote(rendered) : rendered
  })

/**
 * Interpolates `${...}` in every string of a `with:` value. A string that is exactly one
 * reference takes the referenced value with its type (`lr: "${train.lr}"` gives a number).
 */
export const interpolateDeep = (value: unknown, resolve: (key: string) => unknown): unknown => {
  if (typeof value === "string") {
    const whole = /^\$\{\s*([A-Za-z0-9_.-]+)\s*\}$/.exec(value)
    return whole ? resolve(whole[1]!) : interpolate(value, resolve, false)
  }
  if (Array.isArray(value)) return value.map((v) => interpolateDeep(v, resolve))
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolateDeep(v, resolve)]))
  }
  return value
}

/** Every `${...}` key referenced anywhere inside a value. */
export const referencesDeep = (value: unknown): Array<string> => {
  if (typeof value === "string") return references(value)
  if (Array.isArray(value)) return value.flatMap(referencesDeep)
  if (typeof value === "object" && value !== null) return Object.values(value).flatMap(referencesDeep)
  return []
}

/** The env var a param reaches a command through: `train.lr` → `CAIRN_PARAM_TRAIN_LR`. */
export const paramEnvName = (key: string): string => `CAIRN_PARAM_${key.replace(/[^A-Za-z0-9]/g, "_").toUpperCase()}`
