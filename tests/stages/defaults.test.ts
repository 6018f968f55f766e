/**
 * The stages map their generated params type (where defaulted fields are optional) to library
 * options with fallbacks; those fallbacks must equal the schema defaults, or a stage would behave
 * differently when called without the engine's validation. Mapping the bare required params and
 * the same params after ajv filled in the defaults must give the same options.
 */
import { describe, expect, it } from "vitest"
import { validateStageParams } from "../../src/config/ParamsValidation.js"
import ingest, { ingestSources } from "../../stages/ingest/index.js"
import clean, { cleanOptions } from "../../stages/clean/index.js"
import augment, { augmentOptions } from "../../stages/augment/index.js"
import split, { splitOptions } from "../../stages/split/index.js"
import type { BuiltinStage } from "../../src/index.js"

const filled = <P>(stage: BuiltinStage<P>, value: P): P => validateStageParams<P>(stage.name, stage.paramsSchema, value).value

describe("stage fallbacks match schema defaults", () => {
  it("ingest", () => {
    const bare = { sources: [{ path: "a" }, { path: "b", task: "t" }] as [{ path: string }, { path: string; task: string }], out: "o" }
    expect(ingestSources(bare)).toEqual(ingestSources(filled(ingest, bare)))
  })
  it("clean", () => {
    const bare = { input: "i", out: "o", report: "r" }
    expect(cleanOptions(bare)).toEqual(cleanOptions(filled(clean, bare)))
  })
  it("augment", () => {
    const bare = { input: "i", out: "o", report: "r" }
    expect(augmentOptions(bare)).toEqual(augmentOptions(filled(augment, bare)))
  })
  it("split", () => {
    const bare = { input: "i", outDir: "d" }
    expect(splitOptions(bare)).toEqual(splitOptions(filled(split, bare)))
    const withCounts = { input: "i", outDir: "d", counts: {} }
    expect(splitOptions(withCounts)).toEqual(splitOptions(filled(split, withCounts)))
  })
})
