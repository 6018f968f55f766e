import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { cliPath, Rig } from "./rig.js"

const hasScript = spawnSync("script", ["--version"], { encoding: "utf8" }).status === 0

describe.skipIf(!hasScript)("terminal output", () => {
  it("a TTY shows each stage's state and duration and a live progress line; a pipe gets plain lines", () => {
    const rig = new Rig()
    rig.write("cairn.yaml", `stages:
  slow:
    cmd: sleep 0.6; echo done > a.txt
    outs: [a.txt]
  fast:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
`)
    // `script` gives the CLI a pseudo-terminal, as an interactive shell would.
    const env = { ...process.env }
    delete env.CI
    const tty = spawnSync("script", ["-qfec", `${process.execPath} ${cliPath} run`, "/dev/null"], { cwd: rig.dir, encoding: "utf8", env })
    expect(tty.status).toBe(0)
    const out = tty.stdout
    expect(out).toMatch(/\x1b\[32m✓\x1b\[0m slow \x1b\[2mran \d+(ms|\.\ds)/)
    expect(out).toMatch(/\[0\/2\]\x1b\[0m slow \d+ms/)
    expect(out).toContain("\r\x1b[K")
    const again = spawnSync("script", ["-qfec", `${process.execPath} ${cliPath} run`, "/dev/null"], { cwd: rig.dir, encoding: "utf8", env })
    expect(again.stdout).toMatch(/✓\x1b\[0m fast \x1b\[2mfresh/)
    const plain = rig.run(["run", "--force"])
    expect(plain.stdout).not.toContain("\x1b[")
    expect(plain.stdout).toMatch(/^ran {7}slow in \d+/m)
    rig.cleanup()
  })
})
