/**
 * The composition root: the only place that picks concrete layers. Everything else depends on
 * service tags, and tests swap in their own layers.
 */
import { Layer } from "effect"
import { layerShippedStages } from "../cli/StageRegistry.js"
import { FileHasher } from "../fingerprint/FileHasher.js"
import { Reporter } from "../report/Reporter.js"
import { ArtifactStore } from "../store/ArtifactStore.js"
import type { WorkspacePaths } from "../engine/Workspace.js"

export const engineLayer = (paths: WorkspacePaths, options: { readonly json: boolean }) =>
  Layer.mergeAll(
    FileHasher.layerFile(paths.statCache),
    ArtifactStore.layerFileSystem(paths.cacheDir),
    Reporter.layerAuto(options.json),
    layerShippedStages
  )
