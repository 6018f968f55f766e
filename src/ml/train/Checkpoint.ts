/**
 * Full training-state checkpoints, written so a crash at any instant leaves either the previous
 * checkpoint or the new one, never a half-written directory that resume would trust.
 *
 * Layout under the checkpoint directory:
 *   step-000120/trainable.safetensors   trainable parameters (exact float32)
 *   step-000120/optimizer.safetensors   AdamW moments, `m/<name>` and `v/<name>`
 *   step-000120/best.safetensors        best-so-far parameters (early stopping), if any
 *   step-000120/state.json              step, epoch position, seed, early-stopping state, ...
 *   latest                              name of the newest complete checkpoint
 * A checkpoint is assembled in `.tmp-step-000120-<pid>/`, each file fsynced, then renamed into
 * place (atomic on one filesystem); `latest` is replaced by rename after that. Randomness is
 * derived from (seed, step) and (seed, epoch) (see Trainer), so the seed and counters in
 * state.json are the complete RNG state.
 */
import { mkdir, open, readdir, readFile, rename, rm } from "node:fs/promises"
import { join } from "node:path"
import { readSafetensors, writeSafetensors, type F32Tensor } from "../model/Safetensors.js"
import type { AdamWState } from "./AdamW.js"
import type { EarlyStoppingState } from "./EarlyStopping.js"

export interface TrainState {
  readonly format: 1
  /** Optimiser updates completed. */
  readonly step: number
  /** Epoch and in-epoch step of the next update: the data position. */
  readonly epoch: number
  readonly stepInEpoch: number
  readonly seed: number
  /** Hash of the settings that must not change across a resume. */
  readonly fingerprint: string
  readonly early: EarlyStoppingState
  readonly lastLoss: number | null
  readonly lastEvalLoss: number | null
  readonly tokens: number
  readonly elapsedSeconds: number
}

export interface Checkpoint {
  readonly state: TrainState
  readonly weights: ReadonlyMap<string, Float32Array>
  readonly optimizer: AdamWState
  readonly best?: ReadonlyMap<string, Float32Array>
}

const stepDir = (step: number) => `step-${String(step).padStart(6, "0")}`

const writeSynced = async (path: string, data: Uint8Array | string): Promise<void> => {
  const handle = await open(path, "w")
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const syncDir = async (path: string): Promise<void> => {
  const handle = await open(path, "r")
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

const toTensors = (values: ReadonlyMap<string, Float32Array>, shapes: ReadonlyMap<string, ReadonlyArray<number>>, prefix = "") => {
  const out = new Map<string, F32Tensor>()
  for (const [name, data] of values) out.set(prefix + name, { shape: shapes.get(name) ?? [data.length], data })
  return out
}

/** Write a checkpoint atomically and keep only the newest `keep`; returns its directory. */
export const saveCheckpoint = async (
  dir: string,
  checkpoint: Checkpoint,
  shapes: ReadonlyMap<string, ReadonlyArray<number>>,
  keep: number
): Promise<string> => {
  await mkdir(dir, { recursive: true })
  const name = stepDir(checkpoint.state.step)
  const tmp = join(dir, `.tmp-${name}-${process.pid}`)
  await rm(tmp, { recursive: true, force: true })
  await mkdir(tmp)
  await writeSynced(join(tmp, "trainable.safetensors"), writeSafetensors(toTensors(checkpoint.weights, shapes)))
  const moments = new Map([...toTensors(checkpoint.optimizer.m, shapes, "m/"), ...toTensors(checkpoint.optimizer.v, shapes, "v/")])
  await writeSynced(join(tmp, "optimizer.safetensors"), writeSafetensors(moments, { step: String(checkpoint.optimizer.step) }))
  if (checkpoint.best !== undefined) await writeSynced(join(tmp, "best.safetensors"), writeSafetensors(toTensors(checkpoint.best, shapes)))
  await writeSynced(join(tmp, "state.json"), JSON.stringify(checkpoint.state, null, 2) + "\n")
  await syncDir(tmp)
  const final = join(dir, name)
  // Only when resuming from an older checkpoint can this step's directory already exist.
  await rm(final, { recursive: true, force: true })
  await rename(tmp, final)
  const latestTmp = join(dir, `.latest-${process.pid}`)
  await writeSynced(latestTmp, name + "\n")
  await rename(latestTmp, join(dir, "latest"))
  await syncDir(dir)
  await prune(dir, name, keep)
  return final
}

const prune = async (dir: string, newest: string, keep: number): Promise<void> => {
  const entries = await readdir(dir)
  const complete = entries.filter((e) => /^step-\d+$/.test(e)).sort()
  const stale = complete.filter((e) => e !== newest).slice(0, Math.max(0, complete.length - Math.max(1, keep)))
  // Leftovers of writers that died mid-checkpoint are never read; remove them too.
  const partial = entries.filter((e) => e.startsWith(".tmp-") && !e.endsWith(`-${process.pid}`))
  for (const e of [...stale, ...partial]) await rm(join(dir, e), { recursive: true, force: true })
}

const readTensors = async (path: string): Promise<Map<string, Float32Array>> => {
  const file = readSafetensors(new Uint8Array(await readFile(path)))
  return new Map([...file.tensors].map(([k, t]) => [k, t.data]))
}

/** The newest complete checkpoint in `dir`, or undefined when there is none. */
export const loadLatestCheckpoint = async (dir: string): Promise<Checkpoint | undefined> => {
  let names: Array<string>
  try {
    names = await readdir(dir)
  } catch {
    return undefined
  }
  const candidates = names.filter((e) => /^step-\d+$/.test(e)).sort().reverse()
  try {
    const latest = (await readFile(join(dir, "latest"), "utf8")).trim()
    if (candidates.includes(latest)) candidates.unshift(latest)
  } catch {
    // No pointer yet: fall back to the highest complete step directory.
  }
  for (const name of candidates) {
    const path = join(dir, name)
    let state: TrainState
    try {
      state = JSON.parse(await readFile(join(path, "state.json"), "utf8")) as TrainState
    } catch {
      continue
    }
    const weights = await readTensors(join(path, "trainable.safetensors"))
    const optimizerFile = readSafetensors(new Uint8Array(await readFile(join(path, "optimizer.safetensors"))))
    const m = new Map<string, Float32Array>()
    const v = new Map<string, Float32Array>()
    for (const [k, t] of optimizerFile.tensors) {
      if (k.startsWith("m/")) m.set(k.slice(2), t.data)
      else if (k.startsWith("v/")) v.set(k.slice(2), t.data)
    }
    let best: Map<string, Float32Array> | undefined
    try {
      best = await readTensors(join(path, "best.safetensors"))
    } catch {
      best = undefined
    }
    const optimizer: AdamWState = { step: Number(optimizerFile.metadata["step"] ?? state.step), m, v }
    return best === undefined ? { state, weights, optimizer } : { state, weights, optimizer, best }
  }
  return undefined
}
