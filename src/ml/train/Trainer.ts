/**
 * The training loop: full fine-tuning or LoRA on a GPT model, from tokenised examples.
 *
 * One optimiser step reads `batchSize · gradAccumSteps` rows, split into micro-batches of
 * `batchSize`. The loss of the step is Σ token NLL / (target tokens in all its micro-batches),
 * so accumulation gives exactly the gradient of the whole batch's token mean. Gradients are
 * then clipped by global norm and AdamW updates JS-side float32 copies of the trainable
 * weights, which are written back into the model's variables.
 *
 * Everything random is a function of the seed and a counter, never of hidden state: dropout
 * masks of micro-batch j at step s use deriveSeed(seed, s, j); the rows of epoch e are
 * `epochRows(e)`. A checkpoint (weights, optimiser moments, step, epoch position, early
 * stopping state) therefore resumes to bit-identical weights.
 *
 * Validation runs every `evalEvery` steps (token-mean NLL over the validation rows). Early
 * stopping counts evaluations without an improvement of more than `threshold` below the best;
 * after `patience` of them training stops, and the best weights seen are put back in the model.
 *
 * `dataParallel: n` computes each micro-batch as n shards on n threads (DataParallel.ts);
 * TensorFlow.js otherwise keeps a Node process on one core for everything but large matrix
 * products.
 */
import { createHash } from "node:crypto"
import { join } from "node:path"
import * as tf from "@tensorflow/tfjs"
import type { Gpt } from "../model/Gpt.js"
import { applyLora, type Lora, type LoraOptions } from "../model/Lora.js"
import { deriveSeed } from "../model/Random.js"
import { AdamW, clipByGlobalNorm, type ParamSpec } from "./AdamW.js"
import { epochRowCount, epochRows, padRow, stackRows, validateExample, type Dataset, type Example, type Row } from "./Batches.js"
import { loadLatestCheckpoint, saveCheckpoint, type TrainState } from "./Checkpoint.js"
import { initialEarlyStopping, observeEvaluation, shouldStop, type EarlyStoppingState } from "./EarlyStopping.js"
import { causalLmLoss, countTargets, type TokenBatch } from "./Loss.js"
import { MetricsLog, writeSummary, type StepRecord } from "./Metrics.js"
import { learningRate, type ScheduleKind } from "./Schedule.js"
import { DataParallel } from "./DataParallel.js"
import { batchGradients, type Trainable } from "./Gradients.js"
import { suspendGemmHelpers } from "../backend/Backend.js"

export interface EarlyStoppingOptions {
  /** Evaluations without improvement before stopping. */
  readonly patience: number
  /** An evaluation improves only if it is below best - threshold. */
  readonly threshold?: number
}

export interface StepProgress {
  readonly step: number
  readonly totalSteps: number
  readonly epoch: number
  /** Token-mean loss of this step (null if the step had no target tokens). */
  readonly loss: number | null
  readonly lr: number
  readonly gradNorm: number | null
  /** Positions processed per second this step (rows · seqLen, padding included). */
  readonly tokensPerSec: number
  readonly tokens: number
  readonly evalLoss?: number
}

export interface TrainOptions {
  readonly model: Gpt
  /** Apply new LoRA adapters with these settings before training... */
  readonly lora?: LoraOptions
  /** ...or train adapters already attached (e.g. loaded with `loadLoraAdapter`). */
  readonly adapter?: Lora
  readonly datasets: ReadonlyArray<Dataset>
  readonly validation?: ReadonlyArray<Example>
  readonly seqLen: number
  /** Concatenate examples into full rows (default false: one padded example per row). */
  readonly packing?: boolean
  readonly padId: number
  /** Rows per micro-batch. */
  readonly batchSize: number
  /** Micro-batches per optimiser step (default 1). */
  readonly gradAccumSteps?: number
  /** Passes over the data (default 1 unless maxSteps is given). */
  readonly epochs?: number
  /** Stop after this many optimiser steps (whichever of epochs / maxSteps comes first). */
  readonly maxSteps?: number
  readonly lr: number
  readonly schedule?: ScheduleKind
  readonly warmupSteps?: number
  /** Final learning rate as a fraction of lr (default 0). */
  readonly minLrRatio?: number
  /** Decoupled weight decay on matrices (default 0.01); never on biases and layer norms. */
  readonly weightDecay?: number
  /** Also decay the token/position embeddings (default false). */
  readonly decayEmbeddings?: boolean
  readonly beta1?: number
  readonly beta2?: number
  readonly epsilon?: number
  /** Clip gradients to this global norm (default 1; 0 disables). */
  readonly maxGradNorm?: number
  readonly seed?: number
  /** Evaluate on `validation` every N steps (and after the last step). */
  readonly evalEvery?: number
  readonly evalBatchSize?: number
  readonly earlyStopping?: EarlyStoppingOptions
  /** Write a full-state checkpoint every N steps (and after the last step). */
  readonly checkpointEvery?: number
  /** Defaults to `<outputDir>/checkpoints` when checkpointEvery and outputDir are set. */
  readonly checkpointDir?: string
  /** Complete checkpoints to keep (default 2). */
  readonly keepCheckpoints?: number
  /** Continue from the newest checkpoint in checkpointDir, if there is one. */
  readonly resume?: boolean
  /** Where `metrics.jsonl` and `summary.json` go. */
  readonly outputDir?: string
  readonly onProgress?: (progress: StepProgress) => void
  /** Stop cleanly after the current step (a checkpoint is written first when configured). */
  readonly signal?: AbortSignal
  /**
   * Split every micro-batch into this many shards computed on as many threads (default 1).
   * The numbers depend on this setting, not on the machine: without worker threads the shards
   * run one after another with the same result. See DataParallel.ts.
   */
  readonly dataParallel?: number
}

export type StopReason = "completed" | "max_steps" | "early_stopping" | "aborted"

export interface TrainResult {
  readonly steps: number
  readonly totalSteps: number
  readonly epochs: number
  readonly tokens: number
  readonly finalLoss: number | null
  readonly lastEvalLoss: number | null
  readonly bestEvalLoss: number | null
  readonly bestStep: number | null
  /** Whether the model now holds the best-evaluated weights rather than the last ones. */
  readonly restoredBest: boolean
  readonly stopReason: StopReason
  /** Step the run resumed from (0 when it started fresh). */
  readonly resumedFrom: number
  readonly seconds: number
  readonly tokensPerSec: number
  readonly trainableParameters: number
  /** Data-parallel shards per micro-batch, and how many of them ran on worker threads. */
  readonly dataParallel: { readonly shards: number; readonly workers: number }
}

const isNoDecay = (key: string, decayEmbeddings: boolean): boolean =>
  key.endsWith(".bias") || /\.ln_\d\.weight$|\.ln_f\.weight$/.test(key) || (!decayEmbeddings && /\.(wte|wpe)\.weight$/.test(key))

export const train = async (options: TrainOptions): Promise<TrainResult> => {
  const started = performance.now()
  const { model } = options
  const seed = options.seed ?? 0
  const accum = options.gradAccumSteps ?? 1
  const rowsPerStep = options.batchSize * accum
  if (!(options.batchSize >= 1) || !(accum >= 1)) throw new Error("train: batchSize and gradAccumSteps must be ≥ 1")
  if (options.seqLen > model.config.nPositions) throw new Error(`train: seqLen ${options.seqLen} exceeds n_positions ${model.config.nPositions}`)
  options.datasets.forEach((d) => d.examples.forEach((e, i) => validateExample(e, `dataset ${d.name} example ${i}`)))
  options.validation?.forEach((e, i) => validateExample(e, `validation example ${i}`))

  const adapter = options.adapter ?? (options.lora === undefined ? undefined : applyLora(model, options.lora))
  const trainables: Array<Trainable> = (adapter !== undefined
    ? adapter.namedVariables()
    : [...model.weights].filter(([, v]) => v.trainable)
  ).map(([key, variable]) => ({ key, variable }))
  if (trainables.length === 0) throw new Error("train: nothing to train (no trainable variables)")
  const shapes = new Map(trainables.map((t) => [t.key, t.variable.shape]))
  const master = new Map(trainables.map((t) => [t.key, Float32Array.from(t.variable.dataSync() as Float32Array)]))
  const specs: Array<ParamSpec> = trainables.map((t) => ({
    name: t.key,
    size: t.variable.size,
    decay: !isNoDecay(t.key, options.decayEmbeddings === true)
  }))
  const optimizer = new AdamW(specs, {
    beta1: options.beta1 ?? 0.9,
    beta2: options.beta2 ?? 0.999,
    epsilon: options.epsilon ?? 1e-8,
    weightDecay: options.weightDecay ?? 0.01
  })

  const rowOptions = { seqLen: options.seqLen, packing: options.packing === true, padId: options.padId, seed }
  const stepsPerEpoch = new Map<number, number>()
  const stepsIn = (epoch: number): number => {
    let n = stepsPerEpoch.get(epoch)
    if (n === undefined) {
      n = Math.ceil(epochRowCount(options.datasets, epoch, rowOptions) / rowsPerStep)
      stepsPerEpoch.set(epoch, n)
    }
    return n
  }
  const epochs = options.epochs ?? (options.maxSteps === undefined ? 1 : Infinity)
  let epochSteps = Infinity
  if (Number.isFinite(epochs)) {
    epochSteps = 0
    for (let e = 0; e < epochs; e++) epochSteps += stepsIn(e)
  }
  const totalSteps = Math.min(options.maxSteps ?? Infinity, epochSteps)
  if (!Number.isFinite(totalSteps)) throw new Error("train: give epochs or maxSteps")
  if (stepsIn(0) === 0) throw new Error("train: the datasets are empty")
  const schedule = {
    lr: options.lr,
    kind: options.schedule ?? "cosine",
    warmupSteps: options.warmupSteps ?? 0,
    totalSteps,
    minLrRatio: options.minLrRatio ?? 0
  }

  const fingerprint = runFingerprint(options, trainables, totalSteps)
  const checkpointDir = options.checkpointDir ??
    (options.outputDir === undefined || options.checkpointEvery === undefined ? undefined : join(options.outputDir, "checkpoints"))
  let state: TrainState = {
    format: 1,
    step: 0,
    epoch: 0,
    stepInEpoch: 0,
    seed,
    fingerprint,
    early: initialEarlyStopping,
    lastLoss: null,
    lastEvalLoss: null,
    tokens: 0,
    elapsedSeconds: 0
  }
  let best: Map<string, Float32Array> | undefined
  if (options.resume === true && checkpointDir !== undefined) {
    const checkpoint = await loadLatestCheckpoint(checkpointDir)
    if (checkpoint !== undefined) {
      if (checkpoint.state.fingerprint !== fingerprint) {
        throw new Error(`train: the checkpoint in ${checkpointDir} was written with different settings or data; refusing to resume`)
      }
      for (const [key, values] of checkpoint.weights) master.get(key)?.set(values)
      optimizer.load(checkpoint.optimizer)
      best = checkpoint.best === undefined ? undefined : new Map(checkpoint.best)
      state = checkpoint.state
      writeBack(trainables, master)
    }
  }
  const resumedFrom = state.step
  const metrics = MetricsLog.open(options.outputDir === undefined ? undefined : join(options.outputDir, "metrics.jsonl"), resumedFrom)
  const validationRows = (options.validation ?? []).map((e) => padRow(e, options))

  let rows: Array<Row> = epochRows(options.datasets, state.epoch, rowOptions)
  let epoch = state.epoch
  let stepInEpoch = state.stepInEpoch
  let step = state.step
  let tokens = state.tokens
  let early: EarlyStoppingState = state.early
  let lastEvalLoss = state.lastEvalLoss
  let finalLoss = state.lastLoss
  let aborted = false
  const elapsedBefore = state.elapsedSeconds
  const loopStart = performance.now()
  const checkpointNow = async () => {
    if (checkpointDir === undefined) return
    state = {
      format: 1, step, epoch, stepInEpoch, seed, fingerprint, early, lastLoss: finalLoss, lastEvalLoss, tokens,
      elapsedSeconds: elapsedBefore + (performance.now() - loopStart) / 1000
    }
    const checkpoint = { state, weights: master, optimizer: optimizer.state() }
    await saveCheckpoint(checkpointDir, best === undefined ? checkpoint : { ...checkpoint, best }, shapes, options.keepCheckpoints ?? 2)
  }
  const stoppedEarly = () => options.earlyStopping !== undefined && shouldStop(early, options.earlyStopping.patience)

  const shards = Math.max(1, Math.floor(options.dataParallel ?? 1))
  const parallel = shards > 1 ? await DataParallel.start(shards, model, adapter, trainables) : undefined
  // Replicas already use the other cores; GEMM helper threads would only compete with them.
  const resumeHelpers = parallel !== undefined && parallel.workers > 0 ? suspendGemmHelpers() : undefined
  let replicasStale = false
  try {
    while (step < totalSteps && !stoppedEarly()) {
      if (stepInEpoch >= stepsIn(epoch)) {
        epoch++
        stepInEpoch = 0
        rows = epochRows(options.datasets, epoch, rowOptions)
        continue
      }
      const t0 = performance.now()
      const stepRows = rows.slice(stepInEpoch * rowsPerStep, (stepInEpoch + 1) * rowsPerStep)
      const micro: Array<TokenBatch> = []
      for (let i = 0; i < stepRows.length; i += options.batchSize) micro.push(stackRows(stepRows.slice(i, i + options.batchSize), options.seqLen))
      const targets = micro.reduce((n, b) => n + countTargets(b), 0)
      let loss: number | null = null
      let gradNorm: number | null = null
      const lr = learningRate(schedule, step)
      if (targets > 0) {
        const { loss: lossSum, grads } = parallel === undefined
          ? batchGradients(model, trainables, micro, (j) => deriveSeed(seed, 3, step, j))
          : await parallel.gradients(micro, deriveSeed(seed, 3, step), replicasStale ? master : undefined)
        replicasStale = false
        gradNorm = clipByGlobalNorm(grads, options.maxGradNorm ?? 1)
        optimizer.update(master, grads, lr)
        writeBack(trainables, master)
        replicasStale = true
        loss = lossSum
        finalLoss = loss
      }
      step++
      stepInEpoch++
      const stepTokens = stepRows.length * options.seqLen
      tokens += stepTokens
      const seconds = (performance.now() - t0) / 1000
      let evalLoss: number | undefined
      const evaluateNow = options.evalEvery !== undefined && validationRows.length > 0 && (step % options.evalEvery === 0 || step === totalSteps)
      if (evaluateNow) {
        evalLoss = evaluate(model, validationRows, options.evalBatchSize ?? options.batchSize, options.seqLen)
        lastEvalLoss = evalLoss
        const observed = observeEvaluation(early, evalLoss, step, options.earlyStopping?.threshold ?? 0)
        early = observed.state
        if (observed.improved && options.earlyStopping !== undefined) {
          best = new Map([...master].map(([k, v]) => [k, Float32Array.from(v)]))
        }
      }
      const record: StepRecord = {
        step,
        epoch,
        loss,
        lr,
        gradNorm,
        tokens,
        tokensPerSec: stepTokens / Math.max(seconds, 1e-9),
        ...(evalLoss === undefined ? {} : { evalLoss })
      }
      metrics.append(record)
      options.onProgress?.({ ...record, totalSteps })
      aborted = options.signal?.aborted === true
      if (
        (options.checkpointEvery !== undefined && step % options.checkpointEvery === 0) ||
        step === totalSteps ||
        stoppedEarly() ||
        aborted
      ) {
        await checkpointNow()
      }
      if (aborted) break
    }
  } finally {
    parallel?.close()
    resumeHelpers?.()
  }
  const stopReason: StopReason = aborted
    ? "aborted"
    : stoppedEarly()
      ? "early_stopping"
      : step >= totalSteps && totalSteps < epochSteps
        ? "max_steps"
        : "completed"

  const restoredBest = options.earlyStopping !== undefined && best !== undefined
  if (restoredBest) {
    for (const [key, values] of best!) master.get(key)?.set(values)
    writeBack(trainables, master)
  }
  const seconds = (performance.now() - started) / 1000
  const loopSeconds = elapsedBefore + (performance.now() - loopStart) / 1000
  const result: TrainResult = {
    steps: step,
    totalSteps,
    epochs: epoch + stepInEpoch / Math.max(1, stepsIn(epoch)),
    tokens,
    finalLoss,
    lastEvalLoss,
    bestEvalLoss: early.best,
    bestStep: early.bestStep,
    restoredBest,
    stopReason,
    resumedFrom,
    seconds,
    tokensPerSec: tokens / Math.max(loopSeconds, 1e-9),
    trainableParameters: specs.reduce((n, p) => n + p.size, 0),
    dataParallel: { shards, workers: parallel?.workers ?? 0 }
  }
  if (options.outputDir !== undefined) writeSummary(join(options.outputDir, "summary.json"), { ...result })
  return result
}

const writeBack = (trainables: ReadonlyArray<Trainable>, master: ReadonlyMap<string, Float32Array>): void => {
  for (const t of trainables) {
    const value = tf.tensor(master.get(t.key)!, t.variable.shape)
    t.variable.assign(value)
    value.dispose()
  }
}

/**
 * Token-mean NLL (no dropout) of the model on tokenised examples, each padded or truncated to
 * seqLen, with the number of target tokens it averages over. exp(loss) is the perplexity.
 */
export const evaluateExamples = (
  model: Gpt,
  examples: ReadonlyArray<Example>,
  options: { readonly seqLen: number; readonly padId: number; readonly batchSize: number }
): { readonly loss: number; readonly tokens: number } => {
  const rows = examples.map((e) => padRow(e, options))
  const tokens = rows.reduce((n, r) => n + countTargets({ ids: r.ids, mask: r.mask, batch: 1, seqLen: options.seqLen }), 0)
  return { loss: evaluate(model, rows, options.batchSize, options.seqLen), tokens }
}

/** Token-mean NLL of the model over rows (no dropout). */
export const evaluate = (model: Gpt, rows: ReadonlyArray<Row>, batchSize: number, seqLen: number): number => {
  let nll = 0
  let count = 0
  for (let i = 0; i < rows.length; i += batchSize) {
    const batch = stackRows(rows.slice(i, i + batchSize), seqLen)
    const n = countTargets(batch)
    if (n === 0) continue
    const total = tf.tidy(() => causalLmLoss(model, batch, 1, { training: false })!)
    nll += total.dataSync()[0]!
    total.dispose()
    count += n
  }
  return count === 0 ? Number.NaN : nll / count
}

/**
 * What must be unchanged for a checkpoint to be resumable bit-exactly: model shape, trainable
 * set, data (hashed), batching, optimiser and schedule settings, seed. Output paths, callbacks
 * and the checkpoint cadence are left out; they do not change the weights.
 */
const runFingerprint = (options: TrainOptions, trainables: ReadonlyArray<Trainable>, totalSteps: number): string => {
  const hash = createHash("sha256")
  const data = (examples: ReadonlyArray<Example>) => {
    for (const e of examples) {
      hash.update(new Uint8Array(Int32Array.from(e.ids).buffer))
      hash.update(Uint8Array.from(e.labelsMask.map((m) => (m ? 1 : 0))))
      hash.update("|")
    }
  }
  for (const d of options.datasets) {
    hash.update(`dataset:${d.name}:${d.weight ?? ""}:${d.examples.length};`)
    data(d.examples)
  }
  hash.update("validation;")
  data(options.validation ?? [])
  const settings = {
    config: options.model.config,
    trainable: trainables.map((t) => [t.key, t.variable.shape]),
    lora: options.lora ?? options.adapter?.options ?? null,
    seqLen: options.seqLen,
    packing: options.packing === true,
    padId: options.padId,
    batchSize: options.batchSize,
    gradAccumSteps: options.gradAccumSteps ?? 1,
    totalSteps,
    lr: options.lr,
    schedule: options.schedule ?? "cosine",
    warmupSteps: options.warmupSteps ?? 0,
    minLrRatio: options.minLrRatio ?? 0,
    weightDecay: options.weightDecay ?? 0.01,
    decayEmbeddings: options.decayEmbeddings === true,
    betas: [options.beta1 ?? 0.9, options.beta2 ?? 0.999],
    epsilon: options.epsilon ?? 1e-8,
    maxGradNorm: options.maxGradNorm ?? 1,
    seed: options.seed ?? 0,
    evalEvery: options.evalEvery ?? null,
    earlyStopping: options.earlyStopping ?? null,
    dataParallel: Math.max(1, Math.floor(options.dataParallel ?? 1))
  }
  hash.update(JSON.stringify(settings))
  return hash.digest("hex")
}
