/**
 * Keeps `schemas/pipeline.schema.json` in step with the built-in stages: the `uses:` enum and,
 * per stage, `with:` checked against that stage's `params.schema.json` (copied in, with
 * `${...}` references allowed wherever a value goes), so editors complete and check `with:`. Run by `npm run gen:types`; `--check` exits 1 when the file is stale.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const schemaFile = path.join(root, "schemas", "pipeline.schema.json")

export const stageNames = (): Array<string> =>
  fs.readdirSync(path.join(root, "stages"))
    .filter((n) => fs.existsSync(path.join(root, "stages", n, "params.schema.json")))
    .sort()

type Json = { [k: string]: unknown }

/** A `${dotted.key}` reference, which may stand for any value in `with:`. */
const PARAM_REF = { type: "string", pattern: "^\\$\\{\\s*[A-Za-z0-9_.-]+\\s*\\}$" }

/**
 * A stage's params schema as `with:` accepts it: every value may also be a `${...}` reference
 * (the loader substitutes params before validating the real schema), and local `#/definitions/x`
 * refs are renamed into this document's definitions.
 */
const relaxed = (schema: unknown, prefix: string): unknown => {
  if (Array.isArray(schema)) return schema.map((s) => relaxed(s, prefix))
  if (typeof schema !== "object" || schema === null) return schema
  const out: Json = {}
  for (const [k, v] of Object.entries(schema as Json)) {
    if (k === "$schema" || k === "$id" || k === "definitions" || k === "$defs") continue
    if (k === "$ref" && typeof v === "string" && /^#\/(definitions|\$defs)\//.test(v)) out[k] = `#/definitions/${prefix}${v.split("/").pop()}`
    else if (k === "properties") {
      out[k] = Object.fromEntries(Object.entries(v as Json).map(([name, sub]) => [name, { anyOf: [relaxed(sub, prefix), PARAM_REF] }]))
    } else if (k === "items" && typeof v === "object" && v !== null && !Array.isArray(v)) out[k] = { anyOf: [relaxed(v, prefix), PARAM_REF] }
    else out[k] = relaxed(v, prefix)
  }
  return out
}

export const renderPipelineSchema = (): string => {
  const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"))
  const names = stageNames()
  const stage = schema.definitions.stage
  stage.properties.uses.enum = names
  for (const k of Object.keys(schema.definitions)) if (k.startsWith("with_")) delete schema.definitions[k]
  for (const n of names) {
    const params = JSON.parse(fs.readFileSync(path.join(root, "stages", n, "params.schema.json"), "utf8")) as Json
    const prefix = `with_${n}_`
    schema.definitions[`with_${n}`] = relaxed(params, prefix)
    for (const [d, body] of Object.entries((params.definitions ?? params.$defs ?? {}) as Json)) schema.definitions[prefix + d] = relaxed(body, prefix)
  }
  stage.allOf = names.map((n) => ({
    if: { properties: { uses: { const: n } }, required: ["uses"] },
    then: { properties: { with: { $ref: `#/definitions/with_${n}` } } }
  }))
  return JSON.stringify(schema, null, 2) + "\n"
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const text = renderPipelineSchema()
  const current = fs.readFileSync(schemaFile, "utf8")
  if (process.argv.includes("--check")) {
    if (current !== text) {
      process.stderr.write("schemas/pipeline.schema.json is stale: run npm run gen:types\n")
      process.exit(1)
    }
  } else if (current !== text) {
    fs.writeFileSync(schemaFile, text)
    process.stdout.write("wrote schemas/pipeline.schema.json\n")
  }
}
