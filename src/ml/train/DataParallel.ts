/**
 * Data-parallel gradients on several cores: every micro-batch is split into S shards of
 * consecutive rows; shard 0 runs on this thread and shard s on worker s, each worker holding
 * a replica of the model on its own TensorFlow.js backend (TensorFlow.js in Node uses one core
 * per process otherwise). Workers return gradient sums which are added in shard order.
 *
 * The numbers depend on S (shard shapes and dropout seeds), never on whether workers exist: if
 * they cannot start (e.g. running from TypeScript sources, where the compiled worker script is
 * absent) the shards run one after another here with identical results. Replicas receive the
 * trainable weights after every optimiser update, so they never drift from the master copy.
 */
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { Worker } from "node:worker_threads"
import * as tf from "@tensorflow/tfjs"
import { gemmKernel } from "../backend/internal/wasmHeap.js"
import { deriveSeed } from "../model/Random.js"
import type { Gpt } from "../model/Gpt.js"
import type { Lora } from "../model/Lora.js"
import { addJobGradients, addSum, emptySum, type GradientJob, type GradientSum, type Trainable } from "./Gradients.js"
import { countTargets, type TokenBatch } from "./Loss.js"
import type { ShardReply, ShardRequest, ShardSetup } from "./internal/shardProtocol.js"

/** Rows [start, end) of a batch as their own batch. */
const rowsOf = (b: TokenBatch, start: number, end: number): TokenBatch => ({
  ids: b.ids.subarray(start * b.seqLen, end * b.seqLen),
  mask: b.mask.subarray(start * b.seqLen, end * b.seqLen),
  batch: end - start,
  seqLen: b.seqLen
})

/** Split a micro-batch into `shards` runs of consecutive rows (sizes differ by at most one; some may be empty). */
export const shardBatch = (b: TokenBatch, shards: number): Array<TokenBatch> =>
  Array.from({ length: shards }, (_, s) => rowsOf(b, Math.floor((s * b.batch) / shards), Math.floor(((s + 1) * b.batch) / shards)))

interface Replica {
  readonly worker: Worker
  pending: Map<number, { resolve: (sum: GradientSum) => void; reject: (error: Error) => void }>
}

const workerScript = new URL("./internal/shardWorker.js", import.meta.url)

export class DataParallel {
  private nextJob = 0
  private constructor(
    readonly shards: number,
    private readonly replicas: ReadonlyArray<Replica>,
    private readonly model: Gpt,
    private readonly trainables: ReadonlyArray<Trainable>
  ) {}

  /** Workers actually running (shards - 1 when they started, else 0). */
  get workers(): number {
    return this.replicas.length
  }

  /**
   * Start shards - 1 replicas of `model` (with its adapter and trainable set). Resolves with a
   * worker-less instance when workers are unavailable.
   */
  static async start(shards: number, model: Gpt, adapter: Lora | undefined, trainables: ReadonlyArray<Trainable>): Promise<DataParallel> {
    // Replicas rebuild adapters from their options, which only describe uniform-rank ones
    // (an imported adapter with a PEFT rank_pattern stays on this thread).
    const uniform = adapter === undefined ||
      [...adapter.slices.values()].flat().every((s) => s.a.shape[1] === adapter.options.r)
    if (shards < 2 || !uniform || !existsSync(fileURLToPath(workerScript))) return new DataParallel(Math.max(1, shards), [], model, trainables)
    const setup: ShardSetup = {
      backend: tf.getBackend(),
      gemm: gemmKernel(),
      config: model.config,
      weights: [...model.weights].map(([name, v]) => [name, v.dataSync() as Float32Array]),
      trainable: [...model.weights].filter(([, v]) => v.trainable).map(([name]) => name),
      lora: adapter === undefined
        ? undefined
        : { options: adapter.options, values: adapter.namedVariables().map(([key, v]) => [key, v.dataSync() as Float32Array]) }
    }
    try {
      const replicas = await Promise.all(Array.from({ length: shards - 1 }, () => startReplica(setup)))
      return new DataParallel(shards, replicas, model, trainables)
    } catch {
      return new DataParallel(shards, [], model, trainables)
    }
  }

  /**
   * Loss and gradients of one step. Micro-batch j's shard s is seeded deriveSeed(seed, j, s);
   * `weights`, when given, are the updated trainable values the replicas must adopt first.
   */
  async gradients(
    micro: ReadonlyArray<TokenBatch>,
    seed: number,
    weights: ReadonlyMap<string, Float32Array> | undefined
  ): Promise<GradientSum> {
    const normaliser = micro.reduce((n, b) => n + countTargets(b), 0)
    const total = emptySum()
    let update = weights
    for (let j = 0; j < micro.length; j++) {
      const jobs: Array<GradientJob> = shardBatch(micro[j]!, this.shards).map((batch, s) => ({ batch, seed: deriveSeed(seed, j, s) }))
      const remote = this.replicas.map((replica, r) => this.post(replica, jobs[r + 1]!, normaliser, update))
      update = undefined
      addJobGradients(this.model, this.trainables, jobs[0]!, normaliser, total)
      if (this.replicas.length === 0) {
        for (const job of jobs.slice(1)) addJobGradients(this.model, this.trainables, job, normaliser, total)
      } else {
        for (const sum of await Promise.all(remote)) addSum(total, sum)
      }
    }
    return total
  }

  close(): void {
    for (const r of this.replicas) void r.worker.terminate()
  }

  private post(replica: Replica, job: GradientJob, normaliser: number, weights: ReadonlyMap<string, Float32Array> | undefined): Promise<GradientSum> {
    const id = this.nextJob++
    const request: ShardRequest = {
      id,
      ids: job.batch.ids.slice(),
      mask: job.batch.mask.slice(),
      batch: job.batch.batch,
      seqLen: job.batch.seqLen,
      seed: job.seed,
      normaliser,
      weights: weights === undefined ? undefined : [...weights].map(([k, v]) => [k, Float32Array.from(v)])
    }
    return new Promise((resolve, reject) => {
      replica.pending.set(id, { resolve, reject })
      // Keep the process alive while a reply is due (the worker is unreferenced when idle).
      replica.worker.ref()
      replica.worker.postMessage(request, [
        request.ids.buffer,
        request.mask.buffer,
        ...(request.weights ?? []).map(([, v]) => v.buffer)
      ] as Array<ArrayBuffer>)
    })
  }
}

const startReplica = (setup: ShardSetup): Promise<Replica> =>
  new Promise((resolve, reject) => {
    const worker = new Worker(workerScript, { workerData: setup })
    const replica: Replica = { worker, pending: new Map() }
    const fail = (error: Error) => {
      for (const p of replica.pending.values()) p.reject(error)
      replica.pending.clear()
      reject(error)
    }
    worker.on("error", fail)
    worker.on("exit", (code) => fail(new Error(`data-parallel worker exited with code ${code}`)))
    worker.on("message", (reply: ShardReply) => {
      if (reply.type === "ready") {
        // Replicas must not keep a finished process alive.
        worker.unref()
        resolve(replica)
      } else if (reply.type === "error") {
        fail(new Error(`data-parallel worker: ${reply.message}`))
      } else {
        const p = replica.pending.get(reply.id)
        replica.pending.delete(reply.id)
        if (replica.pending.size === 0) worker.unref()
        p?.resolve({ loss: reply.loss, grads: new Map(reply.grads) })
      }
    })
  })
