/**
 * A parsed YAML file that remembers where every node came from, so that errors found later (a
 * cycle, a missing dep, a params key that does not exist) can still name the line.
 *
 * Two parsers: `yaml` keeps every node's position and its messages name line and column, but it
 * builds a document model first, which for a pipeline of a few hundred stages costs a cold start
 * several times what `js-yaml` takes to return the plain value. So the value comes from `js-yaml`
 * (YAML 1.2 core schema, like `yaml`'s default), and `yaml` parses the file only when positions are
 * asked for, to report an error; anything `js-yaml` refuses (aliases included, so that `yaml`'s
 * alias bound applies) goes to `yaml` directly and fails or succeeds there.
 */
import { CORE_SCHEMA, load } from "js-yaml"
import * as YAML from "yaml"
import { PipelineInvalid, type SourcePosition } from "../core/Errors.js"

export interface YamlSource {
  readonly file: string
  readonly value: unknown
  /** Position of the value at `path` (or of its key, with `key: true`). */
  readonly locate: (path: ReadonlyArray<string | number>, options?: { readonly key?: boolean }) => SourcePosition | undefined
}

/**
 * Alias expansion is bounded: a few hundred bytes of nested aliases ("billion laughs") must fail
 * here instead of expanding into gigabytes downstream.
 */
const MAX_ALIAS_COUNT = 100

/**
 * Where a tag could start. The two parsers resolve explicit tags differently (`!!float 1`), so a
 * document that may have one goes to the careful parser; a `!` inside a command only costs time.
 */
const MAYBE_TAG = /(^|[\s,[{])!/

/** The plain value of a simple document, or undefined when the careful parser must decide. */
const quickValue = (text: string): unknown => {
  if (MAYBE_TAG.test(text)) return undefined
  try {
    // Aliases are refused here: their expansion is bounded by the careful parser.
    return load(text, { schema: CORE_SCHEMA, maxAliases: 0 })
  } catch {
    return undefined
  }
}

export const parseYaml = (file: string, text: string): YamlSource | PipelineInvalid => {
  const value = quickValue(text)
  // An empty document is null for `yaml`, undefined for `js-yaml`: the careful parser says which.
  if (value === undefined) return parseCarefully(file, text)
  let careful: YamlSource | PipelineInvalid | undefined
  return {
    file,
    value,
    locate: (path, options) => {
      careful ??= parseCarefully(file, text)
      return careful instanceof PipelineInvalid ? undefined : careful.locate(path, options)
    }
  }
}

/** Parses with positions for every node. */
export const parseCarefully = (file: string, text: string): YamlSource | PipelineInvalid => {
  const lineCounter = new YAML.LineCounter()
  const doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, keepSourceTokens: false })
  const pos = (offset: number): SourcePosition => {
    const p = lineCounter.linePos(offset)
    return { line: p.line, column: p.col }
  }
  const first = doc.errors[0]
  if (first !== undefined) {
    return new PipelineInvalid({
      file,
      position: pos(first.pos[0]),
      field: "(syntax)",
      reason: `malformed YAML: ${first.message.split("\n")[0]}`
    })
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (e) {
    return new PipelineInvalid({ file, field: "(syntax)", reason: `YAML rejected: ${(e as Error).message}` })
  }
  const locate: YamlSource["locate"] = (path, options) => {
    if (path.length === 0) return pos(0)
    const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true)
    const last = path[path.length - 1]
    if (YAML.isMap(parent)) {
      const pair = parent.items.find((p) => YAML.isScalar(p.key) ? p.key.value === last : p.key === last)
      const node = options?.key === true ? pair?.key : (pair?.value ?? pair?.key)
      const range = (node as YAML.Node | undefined)?.range
      return range ? pos(range[0]) : undefined
    }
    if (YAML.isSeq(parent) && typeof last === "number") {
      const range = (parent.items[last] as YAML.Node | undefined)?.range
      return range ? pos(range[0]) : undefined
    }
    return undefined
  }
  return { file, value, locate }
}

/** A dotted, human-readable rendering of a path: `stages.train.outs[0]`. */
export const fieldName = (path: ReadonlyArray<string | number>): string =>
  path.reduce<string>((acc, p) => typeof p === "number" ? `${acc}[${p}]` : acc === "" ? p : `${acc}.${p}`, "")
