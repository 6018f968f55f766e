/**
 * Is a stage fresh? The checklist's first half: hash inputs → build the key → compare with the
 * lock file and the store. Shared by `run` (which then restores or runs) and `status` (which
 * only reports).
 */
import * as path from "node:path"
import { Effect } from "effect"
import { type StageKey } from "../core/Ids.js"
import { FileHasher, type PathHash } from "../fingerprint/FileHasher.js"
import { diffPreImages, keyOf, makePreImage, type PreImage } from "../fingerprint/Fingerprint.js"
import type { StageNode } from "../graph/Graph.js"
import { ArtifactStore, type RunRecord } from "../store/ArtifactStore.js"
import type { LockEntry } from "../store/LockFile.js"

export type Assessment =
  /** Workspace outs match the current key's outputs. */
  | { readonly state: "fresh"; readonly key: StageKey; readonly preImage: PreImage; readonly outs: Readonly<Record<string, string>> }
  /** The store has a run for this key; outs can be restored from it. */
  | { readonly state: "restorable"; readonly key: StageKey; readonly preImage: PreImage; readonly record: RunRecord }
  | { readonly state: "stale"; readonly key: StageKey; readonly preImage: PreImage; readonly reason: string; readonly changes: ReadonlyArray<string> }
  /** No outs: never cached, always runs. */
  | { readonly state: "uncached"; readonly key: StageKey; readonly preImage: PreImage }

export const hashDeps = (stage: StageNode, workspace: string) =>
  Effect.gen(function*() {
    const hasher = yield* FileHasher
    const deps: Record<string, string> = {}
    for (const d of [...stage.deps].sort()) {
      const h = yield* hasher.hash(path.join(workspace, d))
      deps[d] = h.type === "missing" ? "missing" : h.hash
    }
    return deps
  })

export const hashOuts = (stage: StageNode, workspace: string) =>
  Effect.gen(function*() {
    const hasher = yield* FileHasher
    const outs = new Map<string, PathHash>()
    for (const o of [...stage.outs, ...stage.metrics]) outs.set(o, yield* hasher.hash(path.join(workspace, o)))
    return outs
  })

const outsMatch = (actual: ReadonlyMap<string, PathHash>, expected: Readonly<Record<string, string>>) =>
  [...actual].every(([p, h]) => h.type !== "missing" && expected[p] === h.hash)

export const assessStage = (
  stage: StageNode,
  workspace: string,
  lock: LockEntry | undefined,
  env: Readonly<Record<string, string | undefined>>
) =>
  Effect.gen(function*() {
    const deps = yield* hashDeps(stage, workspace)
    const preImage = makePreImage(stage, deps, env)
    return yield* judgeKey(stage, workspace, lock, keyOf(preImage), preImage)
  })

/** The checklist's second half, for a key already computed: compare with the lock file and the store. */
export const judgeKey = (
  stage: StageNode,
  workspace: string,
  lock: LockEntry | undefined,
  key: StageKey,
  preImage: PreImage
) =>
  Effect.gen(function*() {
    const store = yield* ArtifactStore
    if (stage.outs.length + stage.metrics.length === 0) return { state: "uncached", key, preImage } satisfies Assessment
    if (lock !== undefined && lock.key === key) {
      const actual = yield* hashOuts(stage, workspace)
      if (outsMatch(actual, lock.outs)) return { state: "fresh", key, preImage, outs: lock.outs } satisfies Assessment
    }
    const record = yield* store.readRecord(key)
    if (record !== undefined) {
      const expected = Object.fromEntries(Object.entries(record.outs).map(([p, o]) => [p, o.hash]))
      const actual = yield* hashOuts(stage, workspace)
      if (outsMatch(actual, expected)) return { state: "fresh", key, preImage, outs: expected } satisfies Assessment
      return { state: "restorable", key, preImage, record } satisfies Assessment
    }
    // Why it must run: compare with the last recorded run of this stage.
    const previous = lock !== undefined ? yield* store.readRecord(lock.key) : undefined
    const changes = previous !== undefined ? diffPreImages(previous.preImage, preImage) : []
    const reason = lock === undefined
      ? "no previous run"
      : changes.length > 0
      ? `changed: ${changes.map((c) => c.split(":")[0]).slice(0, 3).join(", ")}${changes.length > 3 ? ", …" : ""}`
      : "inputs changed"
    return { state: "stale", key, preImage, reason, changes } satisfies Assessment
  })
