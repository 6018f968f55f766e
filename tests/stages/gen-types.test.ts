/**
 * `stages/<name>/params.ts` must be exactly what `npm run gen:types` would write now: the test
 * regenerates every file in memory from its params.schema.json and compares.
 */
import { describe, expect, it } from "vitest"
import * as fs from "node:fs/promises"
import * as path from "node:path"
import { BANNER, findProjectRoot, generateParamsTypes } from "../../scripts/gen-types.js"

describe("generated params types", () => {
  it("are up to date with their schemas (run `npm run gen:types` if this fails)", async () => {
    const root = await findProjectRoot(process.cwd())
    const generated = await generateParamsTypes(root)
    expect(generated.map((g) => g.file)).toEqual(expect.arrayContaining(["stages/augment/params.ts", "stages/clean/params.ts", "stages/ingest/params.ts", "stages/split/params.ts"]))
    for (const g of generated) {
      const current = await fs.readFile(path.join(root, g.file), "utf8").catch(() => "(missing)")
      expect(current, `${g.file} is stale`).toBe(g.content)
    }
  })

  it("are deterministic and carry the generated-file banner", async () => {
    const root = await findProjectRoot(process.cwd())
    const [a, b] = [await generateParamsTypes(root), await generateParamsTypes(root)]
    expect(b).toEqual(a)
    for (const g of a) expect(g.content.startsWith(BANNER)).toBe(true)
  })
})
