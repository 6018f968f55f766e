/**
 * Where a training stage keeps what must outlive its process: checkpoints and the growing
 * `metrics.jsonl`, under `<workspace>/.cairn/checkpoints/<stage>/<key>/`.
 *
 * This is not an out: the engine removes outs before a run and discards partial ones, which is
 * exactly what a killed training must not lose. The key plays the part of the stage key: a hash
 * of the built-in's name and version, its params and the bytes of every input, so a rerun of
 * the same stage on the same inputs finds the checkpoints of the run that was killed, while
 * any change starts afresh in another directory. The directory is removed once the stage has
 * written its outs (the store keeps the result from then on).
 */
import { createHash, type Hash } from "node:crypto"
import { createReadStream } from "node:fs"
import { readdir, rm, stat } from "node:fs/promises"
import { join } from "node:path"

export interface ScratchKey {
  readonly builtin: string
  readonly version: number
  readonly params: unknown
  /** Absolute paths of the files and directories the stage reads. */
  readonly inputs: ReadonlyArray<string>
}

/** JSON with object keys sorted, so equal params hash equally whatever their key order. */
const canonical = (value: unknown): string => {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`
  }
  return JSON.stringify(value) ?? "null"
}

const hashFile = (hash: Hash, file: string): Promise<void> =>
  new Promise((resolve, reject) => {
    createReadStream(file)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve())
      .on("error", reject)
  })

const hashPath = async (hash: Hash, path: string, name: string): Promise<void> => {
  const info = await stat(path)
  if (info.isDirectory()) {
    hash.update(`dir ${name}\0`)
    for (const entry of (await readdir(path)).sort()) await hashPath(hash, join(path, entry), `${name}/${entry}`)
    return
  }
  hash.update(`file ${name} ${info.size}\0`)
  await hashFile(hash, path)
}

/** The run key's directory (not created here). */
export const scratchDir = async (workspace: string, stage: string, key: ScratchKey): Promise<string> => {
  const hash = createHash("sha256")
  hash.update(canonical({ builtin: key.builtin, version: key.version, params: key.params }))
  for (const [i, input] of key.inputs.entries()) await hashPath(hash, input, `input${i}`)
  const safeStage = stage.replace(/[^A-Za-z0-9._-]/g, "_")
  return join(workspace, ".cairn", "checkpoints", safeStage, hash.digest("hex").slice(0, 24))
}

export const removeScratch = (dir: string): Promise<void> => rm(dir, { recursive: true, force: true })
