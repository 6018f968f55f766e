/**
 * The one place in `src/` that knows where the shipped built-in stages live: the compiled
 * `stages/<name>/index.js` beside the compiled engine. Declarations load on first use, so a
 * pipeline of shell stages never imports one.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { Effect, Layer } from "effect"
import type { BuiltinStage } from "../core/BuiltinStage.js"
import { BuiltinRegistry } from "../core/BuiltinRegistry.js"

/** dist/src/cli/ → dist/stages/ */
export const stagesDir = (): string => path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..", "stages")

export const layerShippedStages = Layer.sync(BuiltinRegistry, () => {
  const dir = stagesDir()
  const names = fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, "index.js"))).sort()
    : []
  const loaded = new Map<string, BuiltinStage | undefined>()
  const modulePath = (name: string) => names.includes(name) ? path.join(dir, name, "index.js") : undefined
  return BuiltinRegistry.of({
    names,
    modulePath,
    get: (name) =>
      Effect.suspend(() => {
        if (loaded.has(name)) return Effect.succeed(loaded.get(name))
        const file = modulePath(name)
        if (file === undefined) return Effect.succeed(undefined)
        return Effect.promise(() => import(pathToFileURL(file).href) as Promise<{ default: BuiltinStage }>).pipe(
          Effect.map((m) => m.default),
          Effect.tap((s) => Effect.sync(() => loaded.set(name, s)))
        )
      })
  })
})
