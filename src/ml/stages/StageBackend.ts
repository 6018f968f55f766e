/**
 * The backend an ML stage computes on: selected by the stage's preference, recorded in its run
 * record through the hooks, and logged with the reason for the choice.
 */
import { selectBackend, type BackendPreference, type SelectedBackend } from "../backend/Backend.js"
import type { StageHooks } from "./StageTask.js"

export const openStageBackend = async (
  o: { readonly backend: BackendPreference; readonly threads: number },
  hooks: StageHooks
): Promise<SelectedBackend> => {
  const backend = await selectBackend(o.backend, { threads: o.threads })
  hooks.backend(backend.name)
  hooks.log(`backend: ${backend.detail}`)
  return backend
}
