/**
 * Keeps `schemas/pipeline.schema.json` in step with the built-in stages: the `uses:` enum and,
 * per stage, a `$ref` from `with:` to that stage's `params.schema.json`, so editors complete and
 * check `with:`. Run by `npm run gen:types`; `--check` exits 1 when the file is stale.
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

export const renderPipelineSchema = (): string => {
  const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"))
  const names = stageNames()
  const stage = schema.definitions.stage
  stage.properties.uses.enum = names
  stage.allOf = names.map((n) => ({
    if: { properties: { uses: { const: n } }, required: ["uses"] },
    then: { properties: { with: { $ref: `../stages/${n}/params.schema.json` } } }
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
