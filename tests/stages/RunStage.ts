/**
 * Runs a built-in stage the way the engine does: `with:` validated against the stage schema
 * (defaults applied), then `run` with a context rooted at a workspace directory. Log lines are
 * collected and returned.
 */
import * as path from "node:path"
import { Effect } from "effect"
import type { BuiltinStage, StageRunContext } from "../../src/index.js"
import { validateStageParams } from "../../src/config/ParamsValidation.js"

export const resolvedParams = <P>(stage: BuiltinStage<P>, withValue: unknown): P => {
  const checked = validateStageParams<P>(stage.name, stage.paramsSchema, withValue)
  if (checked.errors.length > 0) throw new Error(checked.errors.map((e) => `${e.pointer}: ${e.reason}`).join("\n"))
  return checked.value
}

export const runStage = async <P>(stage: BuiltinStage<P>, workspace: string, withValue: unknown): Promise<Array<string>> => {
  const logs: Array<string> = []
  const ctx: StageRunContext<P> = {
    stage: `test-${stage.name}`,
    params: resolvedParams(stage, withValue),
    workspace,
    resolve: (relative) => path.resolve(workspace, relative),
    log: (line) => Effect.sync(() => void logs.push(line)),
    progress: () => Effect.void
  }
  await Effect.runPromise(stage.run(ctx))
  return logs
}
