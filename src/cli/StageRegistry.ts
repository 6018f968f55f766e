/**
 * The one place in `src/` that knows the shipped built-in stages (`stages/index.ts`).
 * Declarations load on first use, so a pipeline of shell stages never imports one.
 */
import { Effect, Layer } from "effect"
import type { BuiltinStage } from "../core/BuiltinStage.js"
import { BuiltinRegistry } from "../core/BuiltinRegistry.js"
import { builtinStages } from "../../stages/index.js"

export const layerShippedStages = Layer.sync(BuiltinRegistry, () => {
  const names = Object.keys(builtinStages).sort()
  const loaded = new Map<string, BuiltinStage>()
  return BuiltinRegistry.of({
    names,
    get: (name) =>
      Effect.suspend(() => {
        const hit = loaded.get(name)
        if (hit !== undefined) return Effect.succeed(hit)
        const load = builtinStages[name]
        if (load === undefined) return Effect.succeed(undefined)
        return Effect.promise(load).pipe(Effect.tap((s) => Effect.sync(() => loaded.set(name, s))))
      })
  })
})
