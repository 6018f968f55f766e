/**
 * The shipped built-in stages, and the typed pipeline builder that knows their params.
 *
 * Each entry loads the stage's declaration on first use; the declarations themselves import
 * their heavy libraries only when they run.
 */
import type { BuiltinStage } from "../src/core/BuiltinStage.js"
import { definePipelineWith } from "../src/core/Pipeline.js"
import type { ConcatParams } from "./concat/params.js"

export const builtinStages: Readonly<Record<string, () => Promise<BuiltinStage>>> = {
  concat: () => import("./concat/index.js").then((m) => m.default)
}

/** Params type of each built-in stage, keyed by its `uses:` name. */
export interface BuiltinParams {
  readonly concat: ConcatParams
}

/**
 * A pipeline in TypeScript: a wrong stage name in `after:`, an unknown `uses:` or a `with:`
 * value of the wrong type is a compile error.
 */
export const definePipeline = definePipelineWith<BuiltinParams>()
export { param } from "../src/core/Pipeline.js"
