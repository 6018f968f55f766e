/**
 * Declared paths are workspace-relative, POSIX-style, normalised. Anything that would escape the
 * workspace (`../x`, `/abs`) is rejected: an out there could not be cached or cleaned safely.
 */
import * as path from "node:path"

export const normalizeDeclared = (p: string): { readonly ok: string } | { readonly error: string } => {
  if (path.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p)) return { error: "must be relative to the workspace, not absolute" }
  const n = path.posix.normalize(p.replaceAll("\\", "/")).replace(/\/+$/, "")
  if (n === ".." || n.startsWith("../")) return { error: "points outside the workspace" }
  if (n === "." || n === "") return { error: "must name a file or directory inside the workspace, not the workspace itself" }
  return { ok: n }
}

/** True when `inner` is `outer` or lies inside it. */
export const within = (inner: string, outer: string): boolean => inner === outer || inner.startsWith(outer + "/")
