import * as fs from "node:fs"
import * as path from "node:path"
import { Ajv } from "ajv"
import * as YAML from "yaml"
import { describe, expect, it } from "vitest"
import { builtinStages } from "../../stages/index.js"
import { repoRoot } from "../e2e/rig.js"

const schemaFile = path.join(repoRoot, "schemas", "pipeline.schema.json")
const schema = JSON.parse(fs.readFileSync(schemaFile, "utf8"))

const validator = () => {
  const { $schema: _s, ...body } = schema
  return new Ajv({ allErrors: true, strict: false }).compile(body)
}

describe("schemas/pipeline.schema.json", () => {
  it("lists every built-in stage and checks `with:` against its params schema", () => {
    expect([...schema.definitions.stage.properties.uses.enum].sort()).toEqual(Object.keys(builtinStages).sort())
    const refs = schema.definitions.stage.allOf.map((c: { then: { properties: { with: { $ref: string } } } }) => c.then.properties.with.$ref)
    expect(refs.sort()).toEqual(Object.keys(builtinStages).sort().map((n) => `#/definitions/with_${n}`))
  })

  it("accepts the shipped pipelines and rejects what the loader rejects", () => {
    const validate = validator()
    const shipped = fs.readdirSync(path.join(repoRoot, "pipelines"), { recursive: true, encoding: "utf8" })
      .filter((f) => /(^|\/)[^/]*\.ya?ml$/.test(f) && !f.includes("data/") && !f.includes("params"))
    expect(shipped.length).toBeGreaterThan(0)
    for (const f of shipped) {
      const doc = YAML.parse(fs.readFileSync(path.join(repoRoot, "pipelines", f), "utf8"))
      expect(validate(doc), `${f}: ${JSON.stringify(validate.errors)}`).toBe(true)
    }
    expect(validate({ stages: { a: { cmd: "x", outz: [] } } })).toBe(false)
    expect(validate({ stages: { a: { cmd: "x", uses: "concat" } } })).toBe(false)
    expect(validate({ stages: { a: { uses: "concat", with: { inputs: "a.txt", output: "b" } } } })).toBe(false)
    expect(validate({ stages: { a: { uses: "concat", with: { inputs: ["a.txt"], output: "b", nope: 1 } } } })).toBe(false)
    // A `${...}` reference may stand where the schema wants a number or a list.
    expect(validate({ stages: { a: { uses: "synth", with: { tasks: "${t.list}", perTask: "${t.n}", output: "o.jsonl" } } } })).toBe(true)
  })
})
