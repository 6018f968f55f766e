/**
 * Pipeline and params files are read by the fast parser and, for error positions, by the careful
 * one: both must give every document the same value, or a file would mean one thing when it is
 * valid and another when it is not.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { PipelineInvalid } from "../../src/core/Errors.js"
import { parseCarefully, parseYaml } from "../../src/config/YamlSource.js"

const repo = path.resolve(__dirname, "..", "..")

const both = (text: string) => {
  const quick = parseYaml("x.yaml", text)
  const careful = parseCarefully("x.yaml", text)
  return { quick, careful }
}

const shipped = (): Array<string> => {
  const out: Array<string> = []
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory() && !["cache", "work", "data", "node_modules"].includes(e.name)) walk(path.join(dir, e.name))
      else if (e.isFile() && e.name.endsWith(".yaml")) out.push(path.join(dir, e.name))
    }
  }
  walk(path.join(repo, "pipelines"))
  return out
}

describe("YAML sources", () => {
  it("give the shipped pipelines and params files the same value from either parser", () => {
    const files = shipped()
    expect(files.length).toBeGreaterThanOrEqual(8)
    for (const f of files) {
      const { quick, careful } = both(fs.readFileSync(f, "utf8"))
      expect(quick, f).not.toBeInstanceOf(PipelineInvalid)
      expect((quick as { value: unknown }).value, f).toEqual((careful as { value: unknown }).value)
    }
  })

  it("resolve scalars by the YAML 1.2 core schema in both parsers", () => {
    const scalars = [
      "0o17", "0x1F", "017", "+12", "-3", "1e3", "1.5e-3", ".5", "-.inf", ".Inf", ".nan", "1_000", "0b101",
      "~", "null", "Null", "NULL", "", "true", "True", "FALSE", "yes", "no", "on", "off", "y", "n",
      "2024-01-01", "2001-12-14t21:59:43.10-05:00", "12:30", "1:20:30", "3.", "'0x10'", "\"\\u00e9\\t\"", "'it''s'",
      "a b  c", "!!str 12", "!!float 1", "[1, two, {three: 3}]", "{a: 1, 'b': [x]}", "#", "x # comment", "https://a.b/c?d=e#f",
      "-", "--", ".", "+", "0.0.1", "1..2", "=", "<<"
    ]
    for (const s of scalars) {
      const text = `v: ${s}\nlist: [${s === "" ? "''" : s}]\n`
      const { quick, careful } = both(text)
      if (careful instanceof PipelineInvalid) {
        // What the careful parser rejects fails the same way through parseYaml.
        expect(quick, text).toBeInstanceOf(PipelineInvalid)
        continue
      }
      expect(quick, text).not.toBeInstanceOf(PipelineInvalid)
      expect((quick as { value: unknown }).value, text).toEqual(careful.value)
    }
  })

  it("agree on block scalars, nesting, quoting and comments", () => {
    const text = [
      "# a comment",
      "stages:",
      "  train:",
      "    cmd: |",
      "      python train.py \\",
      "        --lr 0.1",
      "    desc: >-",
      "      folded",
      "      text",
      "",
      "      kept",
      "    keep: |+",
      "      trailing",
      "",
      "    deps: [a.txt, 'b c.txt', \"d:e\"]",
      "    with: { k: v, 'n': 1.0, nested: { deep: [1, [2, 3]] } }",
      "    'quoted key': x",
      "    ? complex",
      "    : value",
      "    multi: plain",
      "      continued line",
      "empty:",
      "tab:\t1"
    ].join("\n") + "\n"
    const { quick, careful } = both(text)
    expect(careful).not.toBeInstanceOf(PipelineInvalid)
    expect((quick as { value: unknown }).value).toEqual((careful as { value: unknown }).value)
  })

  it("leave aliases, duplicate keys, several documents and bad syntax to the careful parser", () => {
    for (const text of ["a: &x [1]\nb: *x\n", "a: 1\na: 2\n", "a: 1\n---\nb: 2\n", "a: [1, 2\n", "a: b: c\n", ""]) {
      const { quick, careful } = both(text)
      if (careful instanceof PipelineInvalid) {
        expect(quick, text).toBeInstanceOf(PipelineInvalid)
        expect((quick as PipelineInvalid).message, text).toBe(careful.message)
      } else expect((quick as { value: unknown }).value, text).toEqual(careful.value)
    }
  })

  it("locate nodes on demand", () => {
    const src = parseYaml("x.yaml", "stages:\n  a:\n    cmd: echo\n    outz: [x]\n")
    expect(src).not.toBeInstanceOf(PipelineInvalid)
    const s = src as Exclude<typeof src, PipelineInvalid>
    expect(s.locate(["stages", "a", "outz"], { key: true })).toEqual({ line: 4, column: 5 })
    expect(s.locate(["stages", "a", "cmd"])).toEqual({ line: 3, column: 10 })
  })
})
