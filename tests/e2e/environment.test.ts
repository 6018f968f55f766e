import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { repoRoot, Rig } from "./rig.js"

/** The `cairn` command as installed (package.json `bin`). */
const command = path.join(repoRoot, "bin", "cairn")

describe("the cairn command's environment", () => {
  let rig: Rig
  afterEach(() => rig.cleanup())

  it("starts cairn without NODE_EXTRA_CA_CERTS and gives it back to stage commands", () => {
    rig = new Rig()
    rig.write("cairn.yaml", `stages:
  env:
    cmd: 'printf "%s" "$NODE_EXTRA_CA_CERTS" > seen.txt; env | grep -c CAIRN_NODE_EXTRA_CA_CERTS > leaked.txt || true'
    outs: [seen.txt, leaked.txt]
`)
    // Node warns on stderr at start-up when the file cannot be read: cairn's process must not try.
    const missing = path.join(rig.dir, "no-such-bundle.pem")
    const r = spawnSync(command, ["run"], { cwd: rig.dir, encoding: "utf8", env: { ...process.env, CI: "1", NODE_EXTRA_CA_CERTS: missing } })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stderr).not.toContain("extra certs")
    expect(rig.read("seen.txt")).toBe(missing)
    expect(rig.read("leaked.txt").trim()).toBe("0")
  })

  it("runs through a link, as npm installs it (node_modules/.bin/cairn → ../cairn/bin/cairn)", () => {
    rig = new Rig()
    rig.write("cairn.yaml", "stages:\n  a:\n    cmd: echo ok > a.txt\n    outs: [a.txt]\n")
    const bin = rig.path("node_modules/.bin")
    fs.mkdirSync(bin, { recursive: true })
    fs.symlinkSync(path.relative(bin, command), path.join(bin, "cairn"))
    const r = spawnSync(path.join(bin, "cairn"), ["run"], { cwd: rig.dir, encoding: "utf8", env: { ...process.env, CI: "1" } })
    expect(r.status, r.stderr).toBe(0)
    expect(rig.read("a.txt")).toBe("ok\n")
  })

  it("leaves the variable unset when it was", () => {
    rig = new Rig()
    rig.write("cairn.yaml", `stages:
  env:
    cmd: 'env | grep -c "^NODE_EXTRA_CA_CERTS=" > seen.txt || true'
    outs: [seen.txt]
`)
    const { NODE_EXTRA_CA_CERTS: _, ...env } = process.env
    const r = spawnSync(command, ["run"], { cwd: rig.dir, encoding: "utf8", env: { ...env, CI: "1" } })
    expect(r.status, r.stderr).toBe(0)
    expect(rig.read("seen.txt").trim()).toBe("0")
  })

  it("runs augment's endpoint requests from a stage process", async () => {
    rig = new Rig()
    const requests: Array<string> = []
    const server = http.createServer((req, res) => {
      let raw = ""
      req.on("data", (c: Buffer) => (raw += c.toString()))
      req.on("end", () => {
        const user: string = JSON.parse(raw).messages[1].content
        requests.push(user)
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ choices: [{ message: { role: "assistant", content: `In other words: ${user}` } }] }))
      })
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const records = ["Name a primary colour.", "What is two plus two?"].map((prompt, i) =>
      JSON.stringify({ id: `r${i}`, task: "qa", prompt, completion: "An answer.", source: "test" }))
    rig.write("data.jsonl", records.join("\n") + "\n")
    const zero = { ratio: 0 }
    const withs = {
      input: "data.jsonl",
      out: "augmented.jsonl",
      report: "augment-report.json",
      synonym: zero, insert: zero, swap: zero, delete: zero, charNoise: zero, template: zero, backTranslation: zero,
      paraphrase: { ratio: 1 },
      endpoint: { baseUrl, model: "test-model" }
    }
    rig.write("cairn.yaml", `stages:\n  augment:\n    uses: augment\n    with: ${JSON.stringify(withs)}\n`)
    // The server answers from this process: the CLI must run alongside it, not under spawnSync.
    const child = spawn(command, ["run"], { cwd: rig.dir, env: { ...process.env, CI: "1", NODE_EXTRA_CA_CERTS: path.join(rig.dir, "no-such-bundle.pem") } })
    let output = ""
    child.stdout.on("data", (d) => (output += d))
    child.stderr.on("data", (d) => (output += d))
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve))
    await new Promise<void>((resolve) => server.close(() => resolve()))
    expect(code, output).toBe(0)
    // Node's start-up warning about the unreadable bundle comes from the stage's process, which
    // had the variable; cairn's own process did not.
    expect(output).toContain("Ignoring extra certs")
    expect(requests.sort()).toEqual(["Name a primary colour.", "What is two plus two?"])
    const out = rig.read("augmented.jsonl").trim().split("\n").map((l) => JSON.parse(l) as { prompt: string })
    expect(out.map((o) => o.prompt)).toContain("In other words: What is two plus two?")
  })
})
