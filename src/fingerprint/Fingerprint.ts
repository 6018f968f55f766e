/**
 * The stage key: sha256 of a canonical JSON pre-image. Two runs with equal pre-images produce
 * the same outputs, so a run record stored under the key can stand in for running the stage.
 * The pre-image is kept in the run record so `status --explain` can say which field changed.
 */
import type { StageNode } from "../graph/Graph.js"
import { StageKey } from "../core/Ids.js"
import { sha256 } from "./FileHasher.js"

/** Bumped when the meaning of any field below changes, invalidating every key at once. */
export const FINGERPRINT_VERSION = 1

export interface PreImage {
  /** Format version: a new pre-image layout must never collide with an old key. */
  readonly v: number
  /**
   * What runs: the command exactly as written (params enter below, not through the interpolated
   * text, so the diff names the param), or `builtin:<name>@<version>`; a built-in bumps its
   * version when its output for the same inputs changes.
   */
  readonly impl: string
  /** Param values the stage reads (declared and `${...}`-referenced), and a built-in's `with:`. */
  readonly params: Readonly<Record<string, unknown>>
  /**
   * Content hash of every dep. Content, not mtime or the upstream key: an upstream that reruns
   * and writes identical bytes leaves this stage fresh (early cutoff).
   */
  readonly deps: Readonly<Record<string, string>>
  /** Values of the env vars the stage declares; null when unset. */
  readonly env: Readonly<Record<string, string | null>>
  /** Declared outs: renaming an out changes what the run record must restore. */
  readonly outs: ReadonlyArray<string>
}

/** JSON with object keys sorted at every level, so equal values always give equal bytes. */
export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    typeof v === "object" && v !== null && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
      : v)

export const implOf = (stage: StageNode): string =>
  stage.kind === "cmd"
    ? (typeof stage.cmd === "string" ? stage.cmd : JSON.stringify(stage.cmd))
    : `builtin:${stage.builtin!.name}@${stage.builtin!.version}`

export const makePreImage = (
  stage: StageNode,
  deps: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>
): PreImage => ({
  v: FINGERPRINT_VERSION,
  impl: implOf(stage),
  params: stage.kind === "builtin" ? { ...stage.params, with: stage.with } : stage.params,
  deps,
  env: Object.fromEntries(stage.env.map((name) => [name, env[name] ?? null])),
  outs: [...stage.outs, ...stage.metrics].sort()
})

export const keyOf = (pre: PreImage): StageKey => StageKey(sha256(canonicalJson(pre)))

/** Field-by-field differences between two pre-images, for `status --explain`. */
export const diffPreImages = (before: PreImage, after: PreImage): Array<string> => {
  const out: Array<string> = []
  const show = (v: unknown) => v === undefined ? "(absent)" : typeof v === "string" && /^[0-9a-f]{64}$/.test(v) ? v.slice(0, 10) + "…" : canonicalJson(v)
  if (before.v !== after.v) out.push(`fingerprint format: ${before.v} → ${after.v}`)
  if (before.impl !== after.impl) out.push(`impl: ${before.impl} → ${after.impl}`)
  for (const field of ["params", "deps", "env"] as const) {
    const a = before[field] as Record<string, unknown>
    const b = after[field] as Record<string, unknown>
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (canonicalJson(a[k]) !== canonicalJson(b[k])) out.push(`${field}.${k}: ${show(a[k])} → ${show(b[k])}`)
    }
  }
  if (canonicalJson(before.outs) !== canonicalJson(after.outs)) out.push(`outs: ${before.outs.join(", ")} → ${after.outs.join(", ")}`)
  return out
}
