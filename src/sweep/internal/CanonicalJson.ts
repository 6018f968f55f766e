/**
 * Canonical JSON (object keys sorted at every depth) and the content ids built from it.
 * Trial ids are hashes of their parameters, so the same trial gets the same id in every process,
 * every shard and every extension of a grid.
 */
import { createHash } from "node:crypto"

export const canonicalJson = (value: unknown): string => JSON.stringify(sortKeys(value))

const sortKeys = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(sortKeys)
  if (typeof value === "object" && value !== null) {
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k])
    return out
  }
  return value
}

/** `prefix` + the first 12 hex digits (48 bits) of sha256 over the canonical JSON of `value`. */
export const contentId = (prefix: string, value: unknown): string =>
  prefix + createHash("sha256").update(canonicalJson(value)).digest("hex").slice(0, 12)
