/**
 * Where built-in stages come from. The engine depends only on this tag; the CLI provides the
 * layer that loads `stages/<name>/index.js` on demand, tests provide stages of their own.
 */
import { Context, Effect, Layer } from "effect"
import type { BuiltinStage } from "./BuiltinStage.js"

export class BuiltinRegistry extends Context.Service<BuiltinRegistry, {
  readonly names: ReadonlyArray<string>
  /** The stage declaration, or undefined when no built-in has that name. */
  readonly get: (name: string) => Effect.Effect<BuiltinStage | undefined>
}>()("cairn/BuiltinRegistry") {
  static readonly layerStatic = (stages: ReadonlyArray<BuiltinStage>) =>
    Layer.succeed(BuiltinRegistry, BuiltinRegistry.of({
      names: stages.map((s) => s.name),
      get: (name) => Effect.succeed(stages.find((s) => s.name === name))
    }))
}
