/**
 * Where a workspace's files are, from the `-C`, `-f` and `--cache-dir` flags. Node builtins only:
 * the CLI resolves a workspace with this, and so does the no-op fast path in bin/cairn.cjs, which
 * runs before the CLI bundle (and effect) is loaded; one function keeps the two in agreement.
 */
import { createHash } from "node:crypto"
import * as path from "node:path"

export interface WorkspaceOptions {
  readonly directory: string | undefined
  readonly file: string | undefined
  readonly cacheDir: string | undefined
}

export interface WorkspaceLocation {
  readonly root: string
  readonly pipelineFile: string
  readonly cacheDir: string
}

export const resolveLocation = (
  o: WorkspaceOptions,
  env: Readonly<Record<string, string | undefined>> = process.env
): WorkspaceLocation => {
  const root = path.resolve(o.directory ?? ".")
  return {
    root,
    pipelineFile: path.resolve(root, o.file ?? "cairn.yaml"),
    cacheDir: path.resolve(root, o.cacheDir ?? env.CAIRN_CACHE_DIR ?? "cache")
  }
}

/**
 * The no-op snapshot of one pipeline file: one per pipeline, so pipelines sharing a store
 * (`CAIRN_CACHE_DIR`) do not overwrite each other's.
 */
export const noopSnapshotFile = (cacheDir: string, pipelineFile: string): string =>
  path.join(cacheDir, "state", `noop-${createHash("sha1").update(pipelineFile).digest("hex").slice(0, 16)}.json`)

/**
 * The workspace flags of a `run` command line, parsed the way the CLI's flag parser reads them
 * (`-C dir`, `--directory dir`, `--directory=dir`), or undefined for a command line this does not
 * read with certainty (a repeated flag, `--`, a joined short flag). The fast path then steps
 * aside; it never guesses.
 */
export const workspaceFlagsOf = (argv: ReadonlyArray<string>): WorkspaceOptions | undefined => {
  const names: Record<string, keyof WorkspaceOptions> = {
    "-C": "directory",
    "--directory": "directory",
    "-f": "file",
    "--file": "file",
    "--cache-dir": "cacheDir"
  }
  const found: { -readonly [K in keyof WorkspaceOptions]?: string } = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--") return undefined
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1
    const flag = eq > 0 ? arg.slice(0, eq) : arg
    const key = names[flag]
    if (key === undefined) {
      if (/^-[Cf]./.test(arg)) return undefined
      continue
    }
    if (found[key] !== undefined) return undefined
    if (eq > 0) found[key] = arg.slice(eq + 1)
    else {
      const value = argv[++i]
      if (value === undefined) return undefined
      found[key] = value
    }
  }
  return { directory: found.directory, file: found.file, cacheDir: found.cacheDir }
}
