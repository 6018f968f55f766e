/**
 * `with:` validation against the data stages' schemas: defaults filled in, and every problem
 * reported with the stage name, a JSON pointer and a reason.
 */
import { describe, expect, it } from "vitest"
import { decodeStageParams, InvalidParams, validateStageParams } from "../../src/config/ParamsValidation.js"
import { Effect, Exit } from "effect"
import ingest from "../../stages/ingest/index.js"
import clean from "../../stages/clean/index.js"
import augment from "../../stages/augment/index.js"
import split from "../../stages/split/index.js"

const problems = (stage: { name: string; paramsSchema: Record<string, unknown> }, value: unknown) =>
  validateStageParams(stage.name, stage.paramsSchema, value).errors.map((e) => [e.stage, e.pointer, e.reason])

describe("validateStageParams", () => {
  it("fills in defaults, nested ones included, without touching the input", () => {
    const input = { input: "a.jsonl", out: "b.jsonl", report: "r.json", nearDedupe: { threshold: 0.9 } }
    const { value, errors } = validateStageParams<Record<string, any>>("clean", clean.paramsSchema, input)
    expect(errors).toEqual([])
    expect(value["nearDedupe"]).toEqual({ threshold: 0.9, enabled: true, shingleSize: 3, numPerm: 128, bands: 16, seed: 0, action: "drop" })
    expect(value["pii"]["kinds"]).toEqual(["email", "ipv6", "ipv4", "credit_card", "phone"])
    expect(input).toEqual({ input: "a.jsonl", out: "b.jsonl", report: "r.json", nearDedupe: { threshold: 0.9 } })
  })

  it("reports missing, unknown, mistyped and out-of-range values with JSON pointers", () => {
    expect(problems(clean, { out: 3, report: "r", nearDedupe: { threshold: 2, bogus: 1, action: "keep" } })).toEqual([
      ["clean", "/input", "is required"],
      ["clean", "/out", "must be string"],
      ["clean", "/nearDedupe/bogus", "is not a known parameter"],
      ["clean", "/nearDedupe/threshold", "must be <= 1"],
      ["clean", "/nearDedupe/action", 'must be one of "drop", "group"']
    ])
    expect(problems(ingest, { sources: [], out: "x", onInvalid: "ignore" })).toEqual([
      ["ingest", "/sources", "must NOT have fewer than 1 items"],
      ["ingest", "/onInvalid", 'must be one of "fail", "skip"']
    ])
    expect(problems(ingest, { sources: [{ path: "a", format: "xml" }], out: "x" })).toEqual([
      ["ingest", "/sources/0/format", 'must be one of "auto", "jsonl", "alpaca", "chat", "self-instruct", "csv", "taxonomy"']
    ])
    expect(problems(augment, { input: "i", out: "o", report: "r", template: { templates: ["no placeholder"] }, endpoint: { baseUrl: "ftp://x" } })).toEqual([
      ["augment", "/template/templates/0", 'must match pattern "\\{prompt\\}"'],
      ["augment", "/endpoint/baseUrl", 'must match pattern "^https?://"']
    ])
    expect(problems(split, { input: "i", outDir: "o", replay: { datasets: [{ path: "p", sampling_size: "lots" }] } }).map((p) => p[1])).toContain("/replay/datasets/0/sampling_size")
    expect(problems(split, { input: "i", outDir: "o", replay: { datasets: [{ path: "p", sampling_size: { count: 5 } }, { path: "q", sampling_size: 2.5 }] } })).toEqual([])
  })

  it("compiles every stage schema in the repository (strict mode)", async () => {
    const fs = await import("node:fs/promises")
    const names = (await fs.readdir("stages", { withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => e.name)
    for (const name of names) {
      const text = await fs.readFile(`stages/${name}/params.schema.json`, "utf8").catch(() => undefined)
      if (text === undefined) continue
      expect(() => validateStageParams(name, JSON.parse(text), {}), name).not.toThrow()
    }
  })

  it("treats a missing with: as an empty object", () => {
    expect(problems(split, undefined)).toEqual([["split", "/input", "is required"], ["split", "/outDir", "is required"]])
  })

  it("has an Effect form failing with a tagged InvalidParams", async () => {
    const exit = await Effect.runPromiseExit(decodeStageParams("s", split.paramsSchema, { input: 1, outDir: "o" }))
    expect(Exit.isFailure(exit)).toBe(true)
    const ok = await Effect.runPromise(decodeStageParams<{ seed: number }>("s", split.paramsSchema, { input: "i", outDir: "o" }))
    expect(ok.seed).toBe(0)
    const error = new InvalidParams({ stage: "s", pointer: "/x", reason: "is required" })
    expect(error._tag).toBe("InvalidParams")
    expect(error.message).toBe("is required")
  })
})
