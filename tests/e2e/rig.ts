/**
 * A temp-dir workspace that runs the built CLI, as a user would, and counts how often each fake
 * stage command ran (every fake command appends a line to `.calls/<name>`).
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..")
export const cliPath = path.join(repoRoot, "bin", "cairn.cjs")

export interface CliResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export class Rig {
  readonly dir: string
  constructor(prefix = "cairn-e2e-") {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix))
    fs.mkdirSync(path.join(this.dir, ".calls"))
  }
  path(rel: string): string {
    return path.join(this.dir, rel)
  }
  write(rel: string, content: string): void {
    fs.mkdirSync(path.dirname(this.path(rel)), { recursive: true })
    fs.writeFileSync(this.path(rel), content)
  }
  read(rel: string): string {
    return fs.readFileSync(this.path(rel), "utf8")
  }
  exists(rel: string): boolean {
    return fs.existsSync(this.path(rel))
  }
  /** How many times the fake command `name` ran. */
  calls(name: string): number {
    const f = this.path(`.calls/${name}`)
    return fs.existsSync(f) ? fs.readFileSync(f, "utf8").split("\n").filter((l) => l !== "").length : 0
  }
  resetCalls(): void {
    fs.rmSync(this.path(".calls"), { recursive: true, force: true })
    fs.mkdirSync(this.path(".calls"))
  }
  /** Shell snippet for a fake stage: records the call, then runs `body`. */
  static fake(name: string, body: string): string {
    return `echo run >> .calls/${name}; ${body}`
  }
  run(args: ReadonlyArray<string>, env: Record<string, string> = {}): CliResult {
    const r = spawnSync(process.execPath, [cliPath, ...args], {
      cwd: this.dir,
      env: { ...process.env, CI: "1", ...env },
      encoding: "utf8",
      timeout: 60_000
    })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  /** Starts the CLI without waiting (for interruption and concurrency tests). */
  start(args: ReadonlyArray<string>, env: Record<string, string> = {}) {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: this.dir,
      env: { ...process.env, CI: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d) => (stdout += d))
    child.stderr.on("data", (d) => (stderr += d))
    const exited = new Promise<CliResult>((resolve) => child.on("close", (code) => resolve({ code, stdout, stderr })))
    return { child, exited, output: () => stdout + stderr }
  }
  cleanup(): void {
    fs.rmSync(this.dir, { recursive: true, force: true })
  }
}

export const waitFor = async (cond: () => boolean, timeoutMs = 20_000, what = "condition"): Promise<void> => {
  const t0 = Date.now()
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

/** Every file under `rel` (or the workspace), relative path → bytes, for whole-tree comparisons. */
export const snapshot = (root: string, skip: ReadonlyArray<string> = ["cache", ".calls"]): Record<string, string> => {
  const out: Record<string, string> = {}
  const walk = (dir: string, rel: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const r = rel === "" ? e.name : `${rel}/${e.name}`
      if (skip.includes(r)) continue
      if (e.isDirectory()) walk(path.join(dir, e.name), r)
      else out[r] = fs.readFileSync(path.join(dir, e.name), "utf8")
    }
  }
  walk(root, "")
  return out
}

/** Running (a zombie awaiting its reaper counts as dead: it cannot write anything). */
export const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8")
    return !/^\d+ \(.*\) [ZX] /.test(stat)
  } catch {
    return false
  }
}

export { spawnSync }

/**
 * A private copy of the built CLI (bin/cairn.cjs and dist/bin, chunks shared by a symlink), so a
 * test can change the bundle without disturbing any other test. The caller removes it.
 */
export const privateInstall = (): string => {
  const install = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-install-"))
  fs.mkdirSync(path.join(install, "bin"))
  fs.mkdirSync(path.join(install, "dist", "bin"), { recursive: true })
  fs.copyFileSync(path.join(repoRoot, "bin", "cairn.cjs"), path.join(install, "bin", "cairn.cjs"))
  for (const f of ["cairn.cjs", "fastpath.cjs", "launcher.cjs", "stage-worker.js"]) {
    fs.copyFileSync(path.join(repoRoot, "dist", "bin", f), path.join(install, "dist", "bin", f))
  }
  fs.symlinkSync(path.join(repoRoot, "dist", "bin", "chunks"), path.join(install, "dist", "bin", "chunks"))
  return install
}
