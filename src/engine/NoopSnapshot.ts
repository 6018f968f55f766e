/**
 * The no-op snapshot: what make and ninja keep implicitly in file times, made explicit. A `cairn
 * run` that selected every stage and found every one fresh, changing nothing, records the file
 * identity (lstat) of every path its verdict depended on, together with everything else that
 * decides what such a run does and prints. A later run with the same command line, directory,
 * environment and cairn build, finding every identity unchanged, would reach the same verdict:
 * it replays the recorded output instead (bin/cairn.cjs, before the CLI bundle loads).
 *
 * Node builtins only, as the reader runs before effect is loaded. Anything unexpected on either
 * side means no snapshot, never a wrong one: the writer skips, the reader falls through to a
 * full run.
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** Bumped when the layout or the meaning of a field changes. */
export const NOOP_SNAPSHOT_VERSION = 1

export interface NoopSnapshot {
  readonly v: number
  /** Where it was written: a store copied elsewhere does not vouch for another workspace. */
  readonly file: string
  /** The command line after `cairn` exactly: any flag change is a different run. */
  readonly argv: ReadonlyArray<string>
  /** Relative flags, and the paths the report prints, are read against it. */
  readonly cwd: string
  /** Another Node could print or decide differently. */
  readonly node: string
  /**
   * Every CAIRN_* variable (the store location), the ones that choose the reporter (CI, TERM,
   * NO_COLOR, FORCE_COLOR), and every variable a stage declares in `env:` (part of its key);
   * null when unset.
   */
  readonly env: Readonly<Record<string, string | null>>
  /** The reporter is a live view on a terminal, plain lines otherwise. */
  readonly tty: string
  /** The cairn build: built-in stages' versions and the engine's rules live in it. */
  readonly build: Readonly<Record<string, string>>
  /**
   * Identity of every path the verdict read: pipeline file, params file (or its absence), lock
   * file, every dep and out, and everything under a directory dep or out including the
   * directories themselves (whose identity changes when an entry is added or removed).
   */
  readonly paths: ReadonlyArray<readonly [path: string, identity: string]>
  /** What the run printed, its summary's duration cut out (the replay prints its own). */
  readonly output: { readonly stdoutHead: string; readonly stdoutTail: string; readonly stderr: string }
}

/** `CAIRN_NO_FASTPATH=1` (any non-empty value): no snapshot is written or read. */
export const fastPathDisabled = (env: Readonly<Record<string, string | undefined>>): boolean =>
  env.CAIRN_NO_FASTPATH !== undefined && env.CAIRN_NO_FASTPATH !== ""

/** A pipeline that is a module can import anything; only a YAML pipeline's inputs are known. */
export const isModulePipeline = (file: string): boolean => /\.(c|m)?[jt]s$/.test(file)

/** Variables the fast path itself reads: they do not change what a run does. */
const OWN_ENV = new Set(["CAIRN_NO_FASTPATH", "CAIRN_DEBUG_FASTPATH"])
const REPORTER_ENV = ["CI", "FORCE_COLOR", "NO_COLOR", "TERM"]

export const envNames = (env: Readonly<Record<string, string | undefined>>, declared: Iterable<string>): Array<string> =>
  [...new Set([...REPORTER_ENV, ...Object.keys(env).filter((k) => k.startsWith("CAIRN_") && !OWN_ENV.has(k)), ...declared])].sort()

export const currentTty = (): string => `${process.stdout.isTTY === true}:${process.stderr.isTTY === true}`
export const currentNode = (): string => `${process.version} ${process.execPath} ${JSON.stringify(process.execArgv)}`

/** The files of a cairn build, as bin/cairn.cjs starts it: the launcher script and dist/bin. */
export const buildFiles = (script: string, distBin: string): Array<string> =>
  [path.resolve(script), ...["cairn.cjs", "stage-worker.js", "launcher.cjs", "fastpath.cjs"].map((f) => path.join(distBin, f))]

const statIdentity = (st: fs.BigIntStats): string => `${st.dev}:${st.ino}:${st.mode}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`

/**
 * A path's identity: its lstat, and for a symlink also what it points to now (stages read
 * through links). `missing` is an identity too: a params file or dep that appears changes the
 * verdict.
 */
export const pathIdentity = (p: string): string => {
  const l = fs.lstatSync(p, { bigint: true, throwIfNoEntry: false })
  if (l === undefined) return "missing"
  if (!l.isSymbolicLink()) return statIdentity(l)
  const t = fs.statSync(p, { bigint: true, throwIfNoEntry: false })
  return `${statIdentity(l)}>${t === undefined ? "missing" : statIdentity(t)}`
}

/** Newest mtime or ctime, in ns, among the stats an identity was made of. */
const newestTime = (identity: string): bigint =>
  identity.split(">").reduce((m, part) => {
    if (part === "missing") return m
    const [, , , , mtime, ctime] = part.split(":")
    const t = BigInt(mtime!) > BigInt(ctime!) ? BigInt(mtime!) : BigInt(ctime!)
    return t > m ? t : m
  }, 0n)

/**
 * Identities of the given paths and of everything under those that are directories (followed
 * through symlinks, as the file hasher walks them), with the newest modification among them.
 */
export const collectIdentities = (roots: Iterable<string>): { readonly paths: Array<readonly [string, string]>; readonly newestNs: bigint } => {
  const seen = new Map<string, string>()
  let newestNs = 0n
  const visit = (p: string) => {
    if (seen.has(p)) return
    const id = pathIdentity(p)
    seen.set(p, id)
    const t = newestTime(id)
    if (t > newestNs) newestNs = t
    if (id !== "missing" && fs.statSync(p, { throwIfNoEntry: false })?.isDirectory() === true) {
      for (const name of fs.readdirSync(p).sort()) visit(path.join(p, name))
    }
  }
  for (const r of roots) visit(r)
  return { paths: [...seen], newestNs }
}

/**
 * How close to the start of the run a recorded path may have been modified. A change during the
 * run, or within one timestamp tick before it, could leave a stat the verdict never saw the
 * content of; the stat cache's racy window (FileHasher.ts), counted from the run's start rather
 * than from its end, and on ctime as well (a rename or `touch -d` keeps an old mtime).
 */
export const RACY_WINDOW_MS = 1_000

export interface SnapshotInput {
  readonly file: string
  readonly argv: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly declaredEnv: Iterable<string>
  readonly build: ReadonlyArray<string>
  readonly roots: Iterable<string>
  /** When the run started (ms since the epoch), before it read any input. */
  readonly startedAtMs: number
  readonly stdout: string
  readonly stderr: string
  /** The summary's duration as printed, which the replay prints afresh. */
  readonly durationText: string
}

/** Writes the snapshot (atomically); returns why not when it must not. */
export const writeSnapshot = (input: SnapshotInput): string | undefined => {
  const build: Record<string, string> = {}
  for (const f of input.build) {
    const id = pathIdentity(f)
    if (id === "missing") return `build file ${f} missing`
    build[f] = id
  }
  const { newestNs, paths } = collectIdentities(input.roots)
  if (newestNs >= BigInt(input.startedAtMs - RACY_WINDOW_MS) * 1_000_000n) return "a recorded path changed too recently"
  const marker = `done in ${input.durationText}: `
  const at = input.stdout.lastIndexOf(marker)
  if (at < 0) return "summary line not found"
  const cut = at + "done in ".length
  const snapshot: NoopSnapshot = {
    v: NOOP_SNAPSHOT_VERSION,
    file: input.file,
    argv: input.argv,
    cwd: input.cwd,
    node: currentNode(),
    env: Object.fromEntries(envNames(input.env, input.declaredEnv).map((n) => [n, input.env[n] ?? null])),
    tty: currentTty(),
    build,
    paths,
    output: {
      stdoutHead: input.stdout.slice(0, cut),
      stdoutTail: input.stdout.slice(cut + input.durationText.length),
      stderr: input.stderr
    }
  }
  fs.mkdirSync(path.dirname(input.file), { recursive: true })
  const tmp = `${input.file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, JSON.stringify(snapshot))
  fs.renameSync(tmp, input.file)
  return undefined
}

export interface CurrentRun {
  readonly file: string
  readonly argv: ReadonlyArray<string>
  readonly cwd: string
  readonly env: Readonly<Record<string, string | undefined>>
  readonly build: ReadonlyArray<string>
}

/** Why the snapshot does not vouch for this run, or undefined when it does. */
export const mismatch = (s: NoopSnapshot, run: CurrentRun): string | undefined => {
  if (s.v !== NOOP_SNAPSHOT_VERSION) return "snapshot version"
  if (s.file !== run.file) return "snapshot file"
  if (s.argv.length !== run.argv.length || s.argv.some((a, i) => a !== run.argv[i])) return "arguments"
  if (s.cwd !== run.cwd) return "working directory"
  if (s.node !== currentNode()) return "node"
  if (s.tty !== currentTty()) return "terminal"
  for (const [name, value] of Object.entries(s.env)) if ((run.env[name] ?? null) !== value) return `env ${name}`
  for (const name of Object.keys(run.env)) {
    if (name.startsWith("CAIRN_") && !OWN_ENV.has(name) && !(name in s.env)) return `env ${name}`
  }
  const recorded = Object.keys(s.build)
  if (recorded.length !== run.build.length || run.build.some((f) => s.build[f] !== pathIdentity(f))) return "cairn build"
  for (const [p, id] of s.paths) if (pathIdentity(p) !== id) return `changed: ${p}`
  return undefined
}
