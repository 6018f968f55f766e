import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { privateInstall } from "./rig.js"

/**
 * bin/cairn.cjs runs the bundle with V8 code caches written beside it. V8 checks a cache against
 * its source's length only: a rebuild that changes the bundle but not its length must not run
 * the old code.
 */
describe("the CLI's code cache", () => {
  let install: string
  beforeEach(() => {
    install = privateInstall()
  })
  afterEach(() => fs.rmSync(install, { recursive: true, force: true }))

  const help = () => spawnSync(process.execPath, [path.join(install, "bin", "cairn.cjs"), "--help"], { encoding: "utf8" })

  it("is not used for a rebuilt bundle of the same length", () => {
    const first = help()
    expect(first.status, first.stderr).toBe(0)
    expect(first.stdout).toContain("Pipeline runner for instruction")
    const bundle = path.join(install, "dist", "bin", "cairn.cjs")
    expect(fs.readdirSync(path.dirname(bundle)).some((f) => f.startsWith("cairn.cjs.") && f.endsWith(".v8cache"))).toBe(true)
    const source = fs.readFileSync(bundle, "utf8")
    const changed = source.replace("Pipeline runner for instruction", "PIPELINE RUNNER FOR INSTRUCTION")
    expect(changed.length).toBe(source.length)
    fs.writeFileSync(bundle, changed)
    const second = help()
    expect(second.status, second.stderr).toBe(0)
    expect(second.stdout).toContain("PIPELINE RUNNER FOR INSTRUCTION")
  })
})
