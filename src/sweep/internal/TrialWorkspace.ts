/**
 * A trial's own workspace, `.cairn/sweeps/<sweep>/trials/<id>/`.
 *
 * The trial sees the main workspace at the same relative paths through relative symlinks, except
 * for the paths stages write (outs and metrics files), which belong to the trial alone: upstream
 * outs are restored there from the store, the trial's own stages write there. So trials running
 * side by side never write over each other or over the main workspace. Directories that contain
 * an out are real directories whose other entries are linked one by one. Hidden from trials: the
 * store (when it lies in the workspace), the main lock file and every sweep's `trials/`.
 */
import * as fs from "node:fs"
import * as path from "node:path"
import type { WorkspacePaths } from "../../engine/Workspace.js"
import { within } from "../../graph/WorkspacePath.js"
import { sweepDirectory } from "../SweepDirectory.js"

export const trialDir = (root: string, sweep: string, id: string): string => path.join(sweepDirectory(root, sweep), "trials", id)

/**
 * The trial's paths: the main pipeline file, params file and store; its own root and lock file,
 * so the main `cairn.lock` is never written by a trial.
 */
export const trialPaths = (main: WorkspacePaths, dir: string): WorkspacePaths => ({
  ...main,
  root: dir,
  lockFile: path.join(dir, "cairn.lock")
})

const rel = (root: string, abs: string): string | undefined => {
  const r = path.relative(root, abs).split(path.sep).join("/")
  return r === "" || r.startsWith("..") || path.isAbsolute(r) ? undefined : r
}

/** Workspace-relative paths no trial may see. */
export const hiddenPaths = (main: WorkspacePaths): ReadonlyArray<string> => {
  const hidden = [rel(main.root, main.cacheDir), rel(main.root, main.lockFile)].filter((p): p is string => p !== undefined)
  const sweeps = path.join(main.root, ".cairn", "sweeps")
  const names = fs.existsSync(sweeps) ? fs.readdirSync(sweeps) : []
  return [...hidden, ...names.map((n) => `.cairn/sweeps/${n}/trials`)]
}

const lstat = (p: string): fs.Stats | undefined => fs.lstatSync(p, { throwIfNoEntry: false })

/**
 * Brings `dir` in line with the main workspace: links what is missing, repoints links that point
 * elsewhere (a moved workspace), and removes links standing where a trial must have its own path.
 * The trial's own files are never touched, so resuming a trial keeps its outs.
 */
export const mirrorWorkspace = (
  mainRoot: string,
  dir: string,
  own: ReadonlyArray<string>,
  hidden: ReadonlyArray<string>
): void => {
  const blocked = [...own, ...hidden]
  const walk = (relDir: string) => {
    const src = relDir === "" ? mainRoot : path.join(mainRoot, relDir)
    const dest = relDir === "" ? dir : path.join(dir, relDir)
    fs.mkdirSync(dest, { recursive: true })
    for (const name of fs.readdirSync(src)) {
      const r = relDir === "" ? name : `${relDir}/${name}`
      const target = path.join(src, name)
      const at = path.join(dest, name)
      const existing = lstat(at)
      if (blocked.some((b) => within(r, b))) {
        // A link left from an older pipeline where this was not an out would let the trial write
        // through into the main workspace.
        if (existing?.isSymbolicLink()) fs.unlinkSync(at)
        continue
      }
      if (blocked.some((b) => within(b, r))) {
        if (!fs.statSync(target).isDirectory()) continue
        if (existing?.isSymbolicLink()) fs.unlinkSync(at)
        walk(r)
        continue
      }
      const link = path.relative(dest, target)
      if (existing?.isSymbolicLink()) {
        if (fs.readlinkSync(at) === link) continue
        fs.unlinkSync(at)
      } else if (existing !== undefined) continue
      fs.symlinkSync(link, at)
    }
  }
  walk("")
}
