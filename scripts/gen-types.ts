/**
 * Generates `stages/<name>/params.ts` from every `stages/<name>/params.schema.json` with
 * json-schema-to-typescript. The schema is the source of truth (types, defaults, descriptions);
 * the generated interface is what a pipeline may write under `with:`, so properties that have a
 * schema default stay optional there.
 *
 * Output is deterministic (stages in sorted order, fixed options, no timestamps), which is what
 * lets `tests/stages/gen-types.test.ts` regenerate in memory and fail on a stale file.
 *
 *   npm run gen:types          write every params.ts
 *   npm run gen:types -- --check   exit 1 listing stale files, write nothing
 */
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { compile } from "json-schema-to-typescript"

export const BANNER = "/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */"

export interface GeneratedFile {
  /** Path relative to the project root, with `/` separators. */
  readonly file: string
  readonly content: string
}

/** The project root: the nearest ancestor of `from` holding a `stages/` folder and a package.json. */
export const findProjectRoot = async (from: string): Promise<string> => {
  let dir = from
  for (;;) {
    const ok = await Promise.all([fs.stat(path.join(dir, "package.json")), fs.stat(path.join(dir, "stages"))]).then(() => true, () => false)
    if (ok) return dir
    const parent = path.dirname(dir)
    if (parent === dir) throw new Error(`no project root (package.json + stages/) above ${from}`)
    dir = parent
  }
}

const pascalCase = (name: string): string => name.split(/[^A-Za-z0-9]+/).filter(Boolean).map((w) => w[0]!.toUpperCase() + w.slice(1)).join("")

/** Generates the params.ts of every stage that has a params.schema.json, in stage-name order. */
export const generateParamsTypes = async (root: string): Promise<Array<GeneratedFile>> => {
  const stagesDir = path.join(root, "stages")
  const entries = await fs.readdir(stagesDir, { withFileTypes: true })
  const names = entries.filter((e) => e.isDirectory()).map((e) => e.name).sort()
  const out: Array<GeneratedFile> = []
  for (const name of names) {
    const schemaFile = path.join(stagesDir, name, "params.schema.json")
    const text = await fs.readFile(schemaFile, "utf8").catch(() => undefined)
    if (text === undefined) continue
    const schema = JSON.parse(text)
    const content = await compile(schema, `${pascalCase(name)}Params`, {
      bannerComment: BANNER,
      cwd: path.dirname(schemaFile),
      format: true
    })
    out.push({ file: `stages/${name}/params.ts`, content })
  }
  return out
}

/** Files whose content on disk differs from what the generator produces now. */
export const staleParamsTypes = async (root: string): Promise<Array<string>> => {
  const stale: Array<string> = []
  for (const g of await generateParamsTypes(root)) {
    const current = await fs.readFile(path.join(root, g.file), "utf8").catch(() => undefined)
    if (current !== g.content) stale.push(g.file)
  }
  return stale
}

const main = async (): Promise<number> => {
  const root = await findProjectRoot(path.dirname(fileURLToPath(import.meta.url)))
  if (process.argv.includes("--check")) {
    const stale = await staleParamsTypes(root)
    for (const f of stale) console.error(`stale: ${f} (run npm run gen:types)`)
    return stale.length === 0 ? 0 : 1
  }
  for (const g of await generateParamsTypes(root)) {
    const target = path.join(root, g.file)
    const current = await fs.readFile(target, "utf8").catch(() => undefined)
    if (current === g.content) continue
    await fs.writeFile(target, g.content)
    console.log(`wrote ${g.file}`)
  }
  return 0
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? error.message : error)
      process.exit(1)
    }
  )
}
