/**
 * InstructLab taxonomy trees: every `qna.yaml` under a directory (or one such file).
 *
 * The taxonomy path of the leaf becomes the record's `task`
 * (`compositional_skills/STEM/math/area`). Skills yield one record per seed example (the
 * question, followed by its `context` for grounded skills); v1/v2 knowledge one per seed example,
 * v3 knowledge one per pair in `questions_and_answers`, with the context after the question.
 *
 * Files are checked against the schema of their version (a file without `version` is v1) with
 * ajv, and each error is mapped back to its YAML node through the `yaml` CST ranges and a
 * `LineCounter`, so messages carry the real line. A problem inside `seed_examples[i]` drops that
 * example; any other problem drops the file. A file that only fails because of PyYAML-style
 * under-indented quoted continuations is read as PyYAML reads it (see QuotedContinuations).
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import type { ErrorObject, ValidateFunction } from "ajv"
import type { Document } from "yaml"
import type { DraftRecord, JsonValue } from "../DataRecord.js"
import type { InvalidRecord } from "../DataErrors.js"
import type { ReadResult } from "./ReadResult.js"
import { reindentQuotedContinuations } from "./QuotedContinuations.js"
import { type TaxonomyKind, type TaxonomyVersion, taxonomySchema } from "./TaxonomySchemas.js"

type YamlModule = typeof import("yaml")

/** Top-level folders of an InstructLab taxonomy; a task path starts at one of them. */
const TAXONOMY_ROOTS = new Set(["compositional_skills", "foundational_skills", "knowledge"])

/** Bounds YAML alias expansion so a small hostile file cannot blow up in memory. */
const MAX_ALIAS_COUNT = 100

/** Every `qna.yaml` below `dir`, sorted so reading order (and the records' order) is stable. */
export const findQnaFiles = async (dir: string): Promise<Array<string>> => {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true })
  return entries
    .filter((e) => e.isFile() && e.name === "qna.yaml")
    .map((e) => path.join(e.parentPath, e.name))
    .sort()
}

/**
 * The taxonomy path of a leaf: from its taxonomy root folder (`compositional_skills/...`) if the
 * path has one, else relative to `root`. A root folder at or below `root` wins over one above it,
 * so a checkout that happens to live under a directory called `knowledge` still gets the right
 * task; above `root`, the nearest one counts (the user named a subtree of a taxonomy).
 */
export const taxonomyTask = (qnaFile: string, root: string): string => {
  const parts = path.dirname(path.resolve(qnaFile)).split(path.sep)
  const rootDepth = path.resolve(root).split(path.sep).length
  const candidates = parts.flatMap((p, i) => (TAXONOMY_ROOTS.has(p) ? [i] : []))
  const at = candidates.find((i) => i >= rootDepth - 1) ?? candidates.at(-1)
  if (at !== undefined) return parts.slice(at).join("/")
  const rel = path.relative(path.resolve(root), parts.join(path.sep))
  return rel === "" || rel.startsWith("..") ? parts.at(-1)! : rel.split(path.sep).join("/")
}

/** Reads one qna.yaml; `root` is the directory the user named (for the task path). */
export const readQnaFile = async (file: string, text: string, root: string): Promise<ReadResult> => {
  const YAML = await import("yaml")
  let lineCounter = new YAML.LineCounter()
  let doc = YAML.parseDocument(text, { lineCounter, prettyErrors: false })
  if (doc.errors.length > 0) {
    const lenientCounter = new YAML.LineCounter()
    const lenient = YAML.parseDocument(reindentQuotedContinuations(text), { lineCounter: lenientCounter, prettyErrors: false })
    if (lenient.errors.length === 0) [doc, lineCounter] = [lenient, lenientCounter]
  }
  const lineOf = (offset: number): number => lineCounter.linePos(offset).line
  if (doc.errors.length > 0) {
    return { drafts: [], skipped: 1, invalid: doc.errors.map((e) => ({ file, line: lineOf(e.pos[0]), field: "yaml", reason: e.message.split("\n")[0]! })) }
  }
  let value: unknown
  try {
    value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT })
  } catch (error) {
    return { drafts: [], skipped: 1, invalid: [{ file, line: 1, field: "yaml", reason: (error as Error).message }] }
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { drafts: [], skipped: 1, invalid: [{ file, line: 1, field: "record", reason: "a qna.yaml file must be a mapping" }] }
  }
  const data = value as Record<string, unknown>
  const rawVersion = data["version"] ?? 1
  if (rawVersion !== 1 && rawVersion !== 2 && rawVersion !== 3) {
    return {
      drafts: [],
      skipped: 1,
      invalid: [{ file, line: nodeLine(YAML, doc, ["version"], lineOf), field: "version", reason: `unsupported version ${JSON.stringify(rawVersion)} (expected 1, 2 or 3)` }]
    }
  }
  const version: TaxonomyVersion = rawVersion
  const task = taxonomyTask(file, root)
  const kind = taxonomyKind(task, data)
  const validate = await validator(kind, version)
  const drafts = toDrafts(file, data, kind, version, task)
  if (validate(data)) return { drafts: drafts.flat(), invalid: [], skipped: 0 }

  const invalid: Array<InvalidRecord> = []
  const badExamples = new Set<number>()
  let fileInvalid = false
  for (const error of validate.errors ?? []) {
    const pointer = errorPath(error)
    invalid.push({ file, line: nodeLine(YAML, doc, pointer, lineOf), field: fieldName(pointer), reason: errorReason(error, kind, version) })
    if (pointer[0] === "seed_examples" && pointer.length >= 2) badExamples.add(Number(pointer[1]))
    else fileInvalid = true
  }
  if (fileInvalid) return { drafts: [], invalid, skipped: Math.max(1, drafts.flat().length) }
  const kept = drafts.filter((_, i) => !badExamples.has(i))
  const skipped = drafts.reduce((n, d, i) => n + (badExamples.has(i) ? Math.max(1, d.length) : 0), 0)
  return { drafts: kept.flat(), invalid, skipped }
}

/** Skill or knowledge: from the taxonomy path when it says, else from knowledge-only keys. */
const taxonomyKind = (task: string, data: Record<string, unknown>): TaxonomyKind => {
  const top = task.split("/")[0]
  if (top === "knowledge") return "knowledge"
  if (top === "compositional_skills" || top === "foundational_skills") return "skill"
  return "document" in data || "domain" in data ? "knowledge" : "skill"
}

const validators = new Map<string, ValidateFunction>()

const validator = async (kind: TaxonomyKind, version: TaxonomyVersion): Promise<ValidateFunction> => {
  const key = `${kind}@${version}`
  const cached = validators.get(key)
  if (cached !== undefined) return cached
  const { Ajv } = await import("ajv")
  const compiled = new Ajv({ allErrors: true, strict: true }).compile(taxonomySchema(kind, version))
  validators.set(key, compiled)
  return compiled
}

/** Drafts per seed example (index-aligned with `seed_examples`), built leniently from whatever is valid. */
const toDrafts = (
  file: string,
  data: Record<string, unknown>,
  kind: TaxonomyKind,
  version: TaxonomyVersion,
  task: string
): Array<Array<DraftRecord>> => {
  const examples = Array.isArray(data["seed_examples"]) ? data["seed_examples"] : []
  const meta: Record<string, JsonValue> = { kind, version }
  if (typeof data["created_by"] === "string") meta["created_by"] = data["created_by"]
  if (kind === "knowledge" && typeof data["domain"] === "string") meta["domain"] = data["domain"]
  const draft = (question: unknown, answer: unknown, context: unknown): Array<DraftRecord> =>
    typeof question === "string" && typeof answer === "string"
      ? [{
        task,
        prompt: typeof context === "string" && context.trim() !== "" ? `${question.trim()}\n\n${context.trim()}` : question.trim(),
        completion: answer.trim(),
        source: file,
        meta
      }]
      : []
  return examples.map((example: unknown) => {
    if (typeof example !== "object" || example === null) return []
    const e = example as Record<string, unknown>
    if (kind === "knowledge" && version === 3) {
      const pairs = Array.isArray(e["questions_and_answers"]) ? e["questions_and_answers"] : []
      return pairs.flatMap((qa: unknown) => {
        if (typeof qa !== "object" || qa === null) return []
        const p = qa as Record<string, unknown>
        return draft(p["question"], p["answer"], e["context"])
      })
    }
    return draft(e["question"], e["answer"], e["context"])
  })
}

/** The data path an ajv error is about, as object keys and array indexes. */
const errorPath = (error: ErrorObject): Array<string> => {
  const parts = error.instancePath === "" ? [] : error.instancePath.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"))
  if (error.keyword === "required") parts.push(String(error.params["missingProperty"]))
  if (error.keyword === "additionalProperties") parts.push(String(error.params["additionalProperty"]))
  return parts
}

/** `seed_examples[2].answer` from `["seed_examples", "2", "answer"]`. */
const fieldName = (parts: ReadonlyArray<string>): string =>
  parts.length === 0 ? "record" : parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc === "" ? p : `${acc}.${p}`), "")

const errorReason = (error: ErrorObject, kind: TaxonomyKind, version: TaxonomyVersion): string => {
  const where = `(${kind} v${version})`
  switch (error.keyword) {
    case "required":
      return `missing required field ${where}`
    case "additionalProperties":
      return `unknown field ${where}`
    case "minLength":
      return "must not be empty"
    case "minItems":
      return `needs at least ${String(error.params["limit"])} item${error.params["limit"] === 1 ? "" : "s"} ${where}`
    case "type":
      return `must be ${String(error.params["type"])}`
    case "uniqueItems":
      return "items must be unique"
    case "const":
      return `must be ${JSON.stringify(error.params["allowedValue"])}`
    default:
      return error.message ?? error.keyword
  }
}

/**
 * Line of the deepest YAML node on `parts`: a scalar value's own line, the key's line for a
 * collection value, falling back to the nearest ancestor that exists (the parent map for a
 * missing key).
 */
const nodeLine = (YAML: YamlModule, doc: Document, parts: ReadonlyArray<string>, lineOf: (offset: number) => number): number => {
  let node: unknown = doc.contents
  let line = YAML.isNode(node) && node.range ? lineOf(node.range[0]) : 1
  for (const part of parts) {
    if (YAML.isMap(node)) {
      const pair = node.items.find((p) => YAML.isScalar(p.key) && String(p.key.value) === part)
      if (pair === undefined) break
      const keyLine = YAML.isNode(pair.key) && pair.key.range ? lineOf(pair.key.range[0]) : line
      node = pair.value
      line = YAML.isScalar(node) && node.range ? lineOf(node.range[0]) : keyLine
    } else if (YAML.isSeq(node)) {
      node = node.items[Number(part)]
      if (!YAML.isNode(node)) break
      if (node.range) line = lineOf(node.range[0])
    } else break
  }
  return line
}

/** Reads a taxonomy directory (every qna.yaml below it) or a single qna.yaml file. */
export const readTaxonomy = async (target: string, isDirectory: boolean): Promise<ReadResult> => {
  const files = isDirectory ? await findQnaFiles(target) : [target]
  const root = isDirectory ? target : path.dirname(target)
  const drafts: Array<DraftRecord> = []
  const invalid: Array<InvalidRecord> = []
  let skipped = 0
  for (const file of files) {
    const result = await readQnaFile(file, await fs.readFile(file, "utf8"), root)
    drafts.push(...result.drafts)
    invalid.push(...result.invalid)
    skipped += result.skipped
  }
  return { drafts, invalid, skipped }
}
