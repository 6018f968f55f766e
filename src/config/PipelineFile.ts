/**
 * Loads a pipeline file (YAML, or a compiled TypeScript/JavaScript module with a default export)
 * and checks it against the contract of DESIGN.md §3. Every problem is reported with file, line
 * and field; all structural problems of one file are reported together.
 *
 * The checks mirror `schemas/pipeline.schema.json` (kept for editors); they are written out here
 * rather than run through a JSON Schema validator because a no-op `cairn run` must start fast and
 * because errors need YAML line numbers.
 */
import { createHash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import { Effect } from "effect"
import { PipelineInvalid, PipelineInvalidMany } from "../core/Errors.js"
import type { PipelineSpec, StageSpec } from "../core/Pipeline.js"
import { fieldName, parseYaml, type YamlSource } from "./YamlSource.js"

export interface LoadedPipeline {
  /** Absolute path of the file as given. */
  readonly file: string
  /** The path to print in messages (relative to the cwd when shorter). */
  readonly display: string
  readonly spec: PipelineSpec
  readonly source: YamlSource | undefined
}

const STAGE_KEYS = new Set(["cmd", "uses", "with", "deps", "params", "outs", "metrics", "env", "resources", "after", "desc"])
const TOP_KEYS = new Set(["params", "stages", "sweeps"])
const STAGE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v)

/** Validates plain data as a PipelineSpec, collecting every problem with its position. */
export const validateSpec = (
  value: unknown,
  display: string,
  source: YamlSource | undefined
): PipelineSpec | PipelineInvalidMany => {
  const errors: Array<PipelineInvalid> = []
  const fail = (p: ReadonlyArray<string | number>, reason: string, key = false) =>
    errors.push(new PipelineInvalid({ file: display, position: source?.locate(p, { key }), field: fieldName(p) || "(top)", reason }))

  if (!isRecord(value)) {
    fail([], "a pipeline file must be a mapping with a `stages:` key")
    return new PipelineInvalidMany({ errors })
  }
  for (const k of Object.keys(value)) {
    if (!TOP_KEYS.has(k)) fail([k], `unknown key (expected one of ${[...TOP_KEYS].join(", ")})`, true)
  }
  if (value.params !== undefined && typeof value.params !== "string") fail(["params"], "must be a file path")
  if (value.sweeps !== undefined && !isRecord(value.sweeps)) fail(["sweeps"], "must be a mapping of sweep name to spec")
  if (!isRecord(value.stages)) {
    fail(value.stages === undefined ? [] : ["stages"], "`stages:` must be a mapping of stage name to stage")
    return new PipelineInvalidMany({ errors })
  }
  const stringList = (p: ReadonlyArray<string | number>, v: unknown) => {
    if (v === undefined) return
    if (!Array.isArray(v)) return fail(p, "must be a list of strings")
    v.forEach((item, i) => {
      if (typeof item !== "string" || item === "") fail([...p, i], "must be a non-empty string")
    })
  }
  for (const [name, stage] of Object.entries(value.stages)) {
    const at = ["stages", name]
    if (!STAGE_NAME.test(name)) fail(at, "stage names use letters, digits, `_`, `-` and `.`", true)
    if (!isRecord(stage)) {
      fail(at, "a stage must be a mapping with `cmd:` or `uses:`")
      continue
    }
    for (const k of Object.keys(stage)) {
      if (!STAGE_KEYS.has(k)) fail([...at, k], `unknown key (expected one of ${[...STAGE_KEYS].join(", ")})`, true)
    }
    const hasCmd = stage.cmd !== undefined
    const hasUses = stage.uses !== undefined
    if (hasCmd === hasUses) fail(at, "a stage needs exactly one of `cmd:` (a command) or `uses:` (a built-in stage)", true)
    if (hasCmd) {
      const cmd = stage.cmd
      const ok = (typeof cmd === "string" && cmd.trim() !== "") ||
        (Array.isArray(cmd) && cmd.length > 0 && cmd.every((a) => typeof a === "string" || typeof a === "number"))
      if (!ok) fail([...at, "cmd"], "must be a non-empty string or a non-empty list of arguments")
    }
    if (hasUses && typeof stage.uses !== "string") fail([...at, "uses"], "must be the name of a built-in stage")
    if (stage.with !== undefined) {
      if (!hasUses) fail([...at, "with"], "`with:` only applies to a `uses:` stage", true)
      else if (!isRecord(stage.with)) fail([...at, "with"], "must be a mapping")
    }
    for (const k of ["deps", "params", "outs", "metrics", "env", "after"] as const) stringList([...at, k], stage[k])
    if (stage.resources !== undefined) {
      if (!isRecord(stage.resources)) fail([...at, "resources"], "must be a mapping of slot name to count")
      else {
        for (const [slot, n] of Object.entries(stage.resources)) {
          if (typeof n !== "number" || !Number.isInteger(n) || n < 0) fail([...at, "resources", slot], "must be a non-negative integer")
        }
      }
    }
    if (stage.desc !== undefined && typeof stage.desc !== "string") fail([...at, "desc"], "must be a string")
  }
  if (errors.length > 0) return new PipelineInvalidMany({ errors })
  return value as unknown as PipelineSpec
}

export const displayPath = (abs: string): string => {
  const rel = path.relative(process.cwd(), abs)
  return rel !== "" && !rel.startsWith("..") && rel.length < abs.length ? rel : abs
}

/**
 * A TypeScript pipeline runs as the JavaScript the build emitted for it (cairn never loads
 * TypeScript at run time): `x.js` beside `x.ts`, or the project's `dist/` mirror of it.
 */
export const compiledModuleFor = (abs: string): string | undefined => {
  if (!/\.(c|m)?ts$/.test(abs)) return abs
  const sibling = abs.replace(/\.(c|m)?ts$/, ".$1js")
  if (fs.existsSync(sibling)) return sibling
  let dir = path.dirname(abs)
  for (;;) {
    if (fs.existsSync(path.join(dir, "package.json"))) {
      const mirrored = path.join(dir, "dist", path.relative(dir, sibling))
      return fs.existsSync(mirrored) ? mirrored : undefined
    }
    const up = path.dirname(dir)
    if (up === dir) return undefined
    dir = up
  }
}

export const loadPipeline = (file: string, specCache?: SpecCache): Effect.Effect<LoadedPipeline, PipelineInvalid | PipelineInvalidMany> =>
  Effect.gen(function*() {
    const abs = path.resolve(file)
    const display = displayPath(abs)
    if (!fs.existsSync(abs)) {
      return yield* new PipelineInvalid({ file: display, field: "(file)", reason: "pipeline file not found" })
    }
    if (/\.(c|m)?[jt]s$/.test(abs)) {
      const moduleFile = /\.(c|m)?ts$/.test(abs) ? compiledModuleFor(abs) : abs
      if (moduleFile === undefined) {
        return yield* new PipelineInvalid({
          file: display,
          field: "(file)",
          reason: "no compiled JavaScript for this TypeScript pipeline: run `npm run build` (tsc), or pass the .js file"
        })
      }
      const mod = yield* Effect.tryPromise({
        try: () => import(pathToFileURL(moduleFile).href) as Promise<{ default?: unknown }>,
        catch: (e) => new PipelineInvalid({ file: display, field: "(module)", reason: `cannot load: ${String(e)}` })
      })
      const spec = validateSpec(mod.default, display, undefined)
      if (spec instanceof PipelineInvalidMany) return yield* spec
      return { file: abs, display, spec, source: undefined }
    }
    const cached = specCache?.read(abs)
    if (cached !== undefined) {
      // Positions are only needed to report an error; parse for them only then.
      let source: YamlSource | undefined
      return {
        file: abs,
        display,
        spec: cached,
        get source() {
          if (source === undefined) {
            const parsed = parseYaml(display, fs.readFileSync(abs, "utf8"))
            source = parsed instanceof PipelineInvalid ? undefined : parsed
          }
          return source
        }
      }
    }
    const text = fs.readFileSync(abs, "utf8")
    const source = parseYaml(display, text)
    if (source instanceof PipelineInvalid) return yield* source
    const spec = validateSpec(source.value, display, source)
    if (spec instanceof PipelineInvalidMany) return yield* spec
    specCache?.write(abs, spec)
    return { file: abs, display, spec, source }
  })

/**
 * Parsed and validated specs, keyed by the file's identity and stat: a 200-stage YAML file takes
 * longer to parse than everything else a no-op run does.
 */
export interface SpecCache {
  readonly read: (file: string) => PipelineSpec | undefined
  readonly write: (file: string, spec: PipelineSpec) => void
}

/** Bumped when validation rules change, so a spec validated by older rules is parsed again. */
const SPEC_CACHE_VERSION = 1

export const specCacheIn = (dir: string): SpecCache => {
  const statKey = (file: string) => {
    const st = fs.statSync(file, { bigint: true })
    return `${SPEC_CACHE_VERSION}:${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}:${st.ctimeNs}`
  }
  const entry = (file: string) => path.join(dir, `pipeline-${createHash("sha1").update(file).digest("hex").slice(0, 16)}.json`)
  return {
    read: (file) => {
      try {
        const data = JSON.parse(fs.readFileSync(entry(file), "utf8")) as { key: string; spec: PipelineSpec }
        // A file edited within the same timestamp tick could keep its stat; such recent files are
        // never trusted from the cache.
        return data.key === statKey(file) && Date.now() - fs.statSync(file).mtimeMs > 1_000 ? data.spec : undefined
      } catch {
        return undefined
      }
    },
    write: (file, spec) => {
      try {
        fs.mkdirSync(dir, { recursive: true })
        const tmp = `${entry(file)}.${process.pid}.tmp`
        fs.writeFileSync(tmp, JSON.stringify({ key: statKey(file), spec }))
        fs.renameSync(tmp, entry(file))
      } catch {
        // The cache is an optimisation only.
      }
    }
  }
}

export type { StageSpec }
