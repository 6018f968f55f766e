/**
 * Runs the freshly built CLI once on a small throwaway pipeline, so that bin/cairn.cjs writes V8
 * code caches for the bundle and the chunks a run loads (see bin/cairn.cjs). Without them the
 * first run after a build compiles the bundle itself, which costs it tens of milliseconds.
 * A failure here only costs that first run its cache: it is reported, and the build goes on.
 */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
const cli = path.join(root, "bin", "cairn.cjs")

const PIPELINE = `params: params.yaml
stages:
  first:
    cmd: cat in.txt > a.txt
    deps: [in.txt]
    outs: [a.txt]
  second:
    cmd: echo \${second.n} > b.txt; cat a.txt >> b.txt
    deps: [a.txt]
    params: [second.n]
    outs: [b.txt]
`

const main = () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-warm-"))
  try {
    fs.writeFileSync(path.join(dir, "cairn.yaml"), PIPELINE)
    fs.writeFileSync(path.join(dir, "params.yaml"), "second:\n  n: 1\n")
    fs.writeFileSync(path.join(dir, "in.txt"), "line\n")
    // A run that executes stages, then one that restores from the store and reads the lock file.
    for (const args of [["run"], ["run", "--set", "second.n=2"], ["status"]]) {
      const r = spawnSync(process.execPath, [cli, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, CAIRN_NO_FASTPATH: "1" } })
      if (r.status !== 0) {
        process.stderr.write(`warm-code-cache: cairn ${args.join(" ")} exited ${r.status}: ${r.stderr.slice(-500)}\n`)
        return
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

try {
  main()
} catch (e) {
  process.stderr.write(`warm-code-cache: ${(e as Error).message}\n`)
}
