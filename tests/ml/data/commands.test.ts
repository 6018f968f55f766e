/**
 * `cairn data validate` / `cairn data convert` as functions: exit codes and output text, and
 * that converted files are canonical JSONL that read back unchanged.
 */
import { afterAll, describe, expect, it } from "vitest"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { runConvert, runValidate } from "../../../src/ml/data/DataCommands.js"
import { readJsonl, toJsonl, writeJsonl } from "../../../src/ml/data/Jsonl.js"
import { readDataset } from "../../../src/ml/data/Dataset.js"

const F = "tests/ml/data/fixtures"
const dirs: Array<string> = []
const tmp = async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cairn-data-"))
  dirs.push(dir)
  return dir
}
afterAll(() => Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true }))))

describe("runValidate", () => {
  it("exits 0 with a count per task", async () => {
    const r = await runValidate(`${F}/taxonomy`)
    expect(r.exitCode).toBe(0)
    expect(r.output.split("\n")).toEqual([
      "compositional_skills/grounded/rewrite  5",
      "compositional_skills/writing/haiku     2",
      "foundational_skills/reasoning/basic    5",
      "knowledge/birds/robin                  15",
      "knowledge/history/rome                 1",
      "total                                  28  (taxonomy, 5 task(s))"
    ])
  })

  it("exits 2 listing every bad record as file:line: field: reason", async () => {
    const r = await runValidate(`${F}/chat.jsonl`)
    expect(r.exitCode).toBe(2)
    expect(r.output.split("\n")).toEqual([
      `${F}/chat.jsonl:3: messages[1].role: unknown role "robot" (expected system, user or assistant)`,
      `${F}/chat.jsonl:4: messages[0].role: the last message must be the assistant's, got "user"`,
      `${F}/chat.jsonl:5: messages: must not be empty`,
      `3 invalid record(s) in ${F}/chat.jsonl`
    ])
  })

  it("exits 2 for a missing path or an unknown format", async () => {
    expect(await runValidate(`${F}/nope.jsonl`)).toEqual({ exitCode: 2, output: `${F}/nope.jsonl: no such file or directory` })
    expect((await runValidate(`${F}/pc.jsonl`, "parquet")).exitCode).toBe(2)
  })

  it("detects the intended format from partial keys, to name the missing field", async () => {
    const dir = await tmp()
    await fs.writeFile(path.join(dir, "x.jsonl"), '{"prompt":"only a prompt"}\n')
    expect(await runValidate(path.join(dir, "x.jsonl"))).toEqual({
      exitCode: 2,
      output: `${path.join(dir, "x.jsonl")}:1: completion: missing required field\n1 invalid record(s) in ${path.join(dir, "x.jsonl")}`
    })
    await fs.writeFile(path.join(dir, "y.jsonl"), '{"question":"?"}\n')
    expect((await runValidate(path.join(dir, "y.jsonl"))).output).toContain("cannot detect the format")
  })

  it("honours --format", async () => {
    const r = await runValidate(`${F}/alpaca.jsonl`, "jsonl")
    expect(r.exitCode).toBe(2) // alpaca rows have no prompt/completion
    expect(r.output).toContain("alpaca.jsonl:1: prompt: missing required field")
  })
})

describe("runConvert", () => {
  it("writes canonical JSONL that reads back identically", async () => {
    const dir = await tmp()
    const out = path.join(dir, "sub", "chat.jsonl")
    const r = await runConvert(`${F}/self-instruct.jsonl`, out, "auto")
    expect(r.exitCode).toBe(2) // one bad instance: nothing written
    await expect(fs.stat(out)).rejects.toThrow()

    const ok = await runConvert(`${F}/taxonomy`, out)
    expect(ok).toEqual({ exitCode: 0, output: `wrote 28 record(s) from ${F}/taxonomy (taxonomy) to ${out}` })
    const original = await readDataset(`${F}/taxonomy`)
    const back = await readJsonl(out)
    expect(back).toEqual(original.records)
    expect(await fs.readFile(out, "utf8")).toBe(toJsonl(original.records))
  })

  it("writeJsonl leaves no temp file behind and orders keys canonically", async () => {
    const dir = await tmp()
    const file = path.join(dir, "x.jsonl")
    await writeJsonl(file, [{ meta: { a: 1 }, source: "s", completion: "c", prompt: "p", task: "t", id: "i" } as never])
    expect(await fs.readdir(dir)).toEqual(["x.jsonl"])
    expect(await fs.readFile(file, "utf8")).toBe('{"id":"i","task":"t","prompt":"p","completion":"c","source":"s","meta":{"a":1}}\n')
  })
})

describe("readJsonl", () => {
  it("reads canonical files fast and falls back to the general reader for anything else", async () => {
    const dir = await tmp()
    const file = path.join(dir, "r.jsonl")
    await fs.writeFile(file, '{"id":"a","task":"t","prompt":"p","completion":"c","source":"s","meta":{}}\n{"id":"a","task":"t","prompt":"p2","completion":"c","source":"s"}\n{"prompt":"p3","completion":"c"}\n')
    expect((await readJsonl(file)).map((r) => [r.id, r.task, r.source, r.meta])).toEqual([
      ["a", "t", "s", undefined],
      ["a~2", "t", "s", undefined],
      [expect.stringMatching(/^r[0-9a-f]{16}$/), "r", file, undefined]
    ])
    await fs.writeFile(file, '{"id":"a","task":"t","prompt":"p","completion":"c","source":"s"}\n{"id":"b","task":"t","prompt":"","completion":"c","source":"s"}\n')
    await expect(readJsonl(file)).rejects.toMatchObject({ _tag: "DatasetInvalid", invalid: [{ line: 2, field: "prompt", reason: "must not be empty" }] })
  })
})
