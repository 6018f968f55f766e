import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { Rig, repoRoot } from "../e2e/rig.js"

describe("TypeScript pipelines", () => {
  it("a wrong stage reference, param type or built-in name is a compile error", () => {
    const tsc = path.join(repoRoot, "node_modules", ".bin", "tsc")
    const r = spawnSync(tsc, ["-p", path.join(repoRoot, "tests", "types", "tsconfig.json")], { encoding: "utf8" })
    expect(r.stdout + r.stderr).toBe("")
    expect(r.status).toBe(0)
  })

  it("a compiled TS pipeline runs like its YAML twin", () => {
    const rig = new Rig()
    rig.write("data/poem.txt", "b a b c b a\n")
    const r = rig.run(["run", "-f", path.join(repoRoot, "pipelines", "demo.ts")])
    expect(r.code, r.stderr).toBe(0)
    // The params file is found relative to the pipeline file (pipelines/demo/params.yaml).
    expect(rig.read("work/report.txt")).toBe("Most frequent words\n      3 b\n      2 a\n      1 c\n")
    expect(rig.run(["run", "-f", path.join(repoRoot, "pipelines", "demo.ts")]).stdout).toContain("fresh     report")
    rig.cleanup()
    // The lock file lives beside the pipeline file; this run's is not the repository's.
    fs.rmSync(path.join(repoRoot, "pipelines", "demo.cairn.lock"), { force: true })
  })
})
