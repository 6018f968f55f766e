import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { Rig, snapshot } from "./rig.js"

describe("bad input is reported with file, line and field, exit 2", () => {
  let rig: Rig
  beforeEach(() => {
    rig = new Rig()
    rig.write("in.txt", "x\n")
  })
  afterEach(() => rig.cleanup())

  const expectInputError = (yaml: string, ...fragments: Array<string | RegExp>) => {
    rig.write("cairn.yaml", yaml)
    const r = rig.run(["run"])
    expect(r.code, r.stdout + r.stderr).toBe(2)
    for (const f of fragments) expect(r.stderr).toMatch(f)
    return r
  }

  it("a cycle, with its whole path", () => {
    expectInputError(
      `stages:
  a:
    cmd: cat c.txt > a.txt
    deps: [c.txt]
    outs: [a.txt]
  b:
    cmd: cat a.txt > b.txt
    deps: [a.txt]
    outs: [b.txt]
  c:
    cmd: cat b.txt > c.txt
    deps: [b.txt]
    outs: [c.txt]
`,
      /cairn\.yaml:\d+:\d+: stages: dependency cycle: (a -> b -> c -> a|b -> c -> a -> b|c -> a -> b -> c)/
    )
  })

  it("an unknown built-in stage", () => {
    expectInputError("stages:\n  t:\n    uses: no-such-stage\n    with: {}\n", /cairn\.yaml:3:11: stages\.t\.uses: unknown built-in stage "no-such-stage" \(known: .*concat/)
  })

  it("an unknown key", () => {
    expectInputError("stages:\n  t:\n    cmd: echo hi\n    outz: [x]\n", /cairn\.yaml:4:5: stages\.t\.outz: unknown key/)
  })

  it("a missing dep file", () => {
    expectInputError("stages:\n  t:\n    cmd: cat nope.txt > o.txt\n    deps: [in.txt, nope.txt]\n    outs: [o.txt]\n", /cairn\.yaml:4:20: stages\.t\.deps\[1\]: dependency nope\.txt does not exist/)
  })

  it("two stages with one out", () => {
    expectInputError(
      "stages:\n  a:\n    cmd: echo a > o.txt\n    outs: [o.txt]\n  b:\n    cmd: echo b > o.txt\n    outs: [o.txt]\n",
      /cairn\.yaml:7:12: stages\.b\.outs\[0\]: o\.txt is also an output of stage a/
    )
  })

  it("outs outside the workspace", () => {
    expectInputError("stages:\n  a:\n    cmd: echo a > ../x\n    outs: [../x]\n", /cairn\.yaml:4:12: stages\.a\.outs\[0\]: "\.\.\/x" points outside the workspace/)
    expectInputError("stages:\n  a:\n    cmd: echo a > /tmp/x\n    outs: [/tmp/x]\n", /stages\.a\.outs\[0\]: "\/tmp\/x" must be relative to the workspace/)
  })

  it("a param key missing from the params file", () => {
    rig.write("params.yaml", "train:\n  lr: 0.1\n")
    expectInputError("params: params.yaml\nstages:\n  a:\n    cmd: echo ${train.epochs} > o.txt\n    params: [train.lr]\n    outs: [o.txt]\n", /cairn\.yaml:4:10: stages\.a\.cmd: param train\.epochs is not defined in params\.yaml/)
  })

  it("malformed YAML, with line and column", () => {
    expectInputError("stages:\n  a:\n    cmd: [echo, hi\n    outs: [o.txt]\n", /cairn\.yaml:\d+:\d+: \(syntax\): malformed YAML/)
  })

  it("nested YAML aliases fail fast instead of expanding", () => {
    const bomb = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for (let i = 1; i < 9; i++) bomb.push(`${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9).fill("*" + String.fromCharCode(96 + i)).join(", ")}]`)
    const t0 = Date.now()
    expectInputError(bomb.join("\n") + "\nstages: {}\n", /YAML|alias/i)
    expect(Date.now() - t0).toBeLessThan(10_000)
  })

  it("a bad built-in `with:` names the stage, pointer and reason", () => {
    expectInputError("stages:\n  j:\n    uses: concat\n    with:\n      inputs: in.txt\n      output: o.txt\n", /cairn\.yaml:5:15: stages\.j\.with\.inputs: must be array/)
  })
})

describe("failures", () => {
  let rig: Rig
  beforeEach(() => {
    rig = new Rig()
    rig.write("in.txt", "x\n")
  })
  afterEach(() => rig.cleanup())

  it("a malformed command line: the error and exit 2, and nothing runs", () => {
    rig.write("cairn.yaml", `stages:\n  a:\n    cmd: ${JSON.stringify(Rig.fake("a", "echo a > a.txt"))}\n    outs: [a.txt]\n`)
    for (const args of [["run", "--jobs", "abc"], ["run", "--bogus"], ["frobnicate"]]) {
      const r = rig.run(args)
      expect(r.code, args.join(" ")).toBe(2)
      expect(r.stdout + r.stderr).toMatch(/Invalid value for flag --jobs|Unrecognized flag: --bogus|Unknown subcommand "frobnicate"/)
    }
    expect(rig.calls("a")).toBe(0)
    expect(rig.run(["run", "--help"]).code).toBe(0)
  })

  it("a stage that exits non-zero: log tail shown, exit 1, the rest of the store intact", () => {
    rig.write("cairn.yaml", `stages:
  good:
    cmd: cp in.txt good.txt
    deps: [in.txt]
    outs: [good.txt]
  bad:
    cmd: echo "step one"; echo "it broke here" >&2; exit 3
    deps: [good.txt]
    outs: [bad.txt]
`)
    const r = rig.run(["run"])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain("FAILED    bad: exit code 3")
    expect(r.stdout).toContain("bad ! it broke here")
    const store = snapshot(rig.path("cache/objects"), [])
    const runs = fs.readdirSync(rig.path("cache/runs"))
    expect(runs).toHaveLength(1)
    // The good stage's result survives and is reused.
    const again = rig.run(["run"])
    expect(again.code).toBe(1)
    expect(again.stdout).toContain("fresh     good")
    expect(snapshot(rig.path("cache/objects"), [])).toEqual(store)
    expect(fs.readdirSync(rig.path("cache/runs"))).toEqual(runs)
  })

  it("--keep-going runs what does not depend on the failure", () => {
    rig.write("cairn.yaml", `stages:
  bad:
    cmd: exit 1
    outs: [bad.txt]
  after:
    cmd: echo x > after.txt
    deps: [bad.txt]
    outs: [after.txt]
  other:
    cmd: sleep 0.3; echo y > other.txt
    outs: [other.txt]
`)
    const r = rig.run(["run", "-k", "-j", "1"])
    expect(r.code).toBe(1)
    expect(r.stdout).toContain("skipped   after")
    expect(rig.read("other.txt")).toBe("y\n")
  })

  it("a corrupt object in the store is detected, reported, and the stage reruns", () => {
    rig.write("cairn.yaml", `stages:
  a:
    cmd: ${JSON.stringify(Rig.fake("a", "cp in.txt a.txt"))}
    deps: [in.txt]
    outs: [a.txt]
`)
    expect(rig.run(["run"]).code).toBe(0)
    const record = JSON.parse(fs.readFileSync(path.join(rig.path("cache/runs"), fs.readdirSync(rig.path("cache/runs"))[0]!), "utf8"))
    const hash: string = record.outs["a.txt"].hash
    const obj = rig.path(`cache/objects/sha256/${hash.slice(0, 2)}/${hash.slice(2)}`)
    fs.chmodSync(obj, 0o644)
    fs.writeFileSync(obj, "garbage")
    fs.rmSync(rig.path("a.txt"))
    const r = rig.run(["run"])
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/store object [0-9a-f]{10}… for a\.txt is corrupt/)
    expect(rig.calls("a")).toBe(2)
    expect(rig.read("a.txt")).toBe("x\n")
    // The good copy is back in the store.
    expect(fs.readFileSync(obj, "utf8")).toBe("x\n")
  })

  it("param values never reach a shell unquoted", () => {
    rig.write("victim.txt", "still here\n")
    rig.write("params.yaml", "name: ok\n")
    rig.write("cairn.yaml", "params: params.yaml\nstages:\n  a:\n    cmd: echo ${name} > a.txt\n    outs: [a.txt]\n")
    const r = rig.run(["run", "--set", "name=x; rm -f victim.txt; echo pwned"])
    expect(r.code).toBe(0)
    expect(rig.read("victim.txt")).toBe("still here\n")
    expect(rig.read("a.txt")).toBe("x; rm -f victim.txt; echo pwned\n")
  })
})
