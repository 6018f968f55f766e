/**
 * A data-parallel replica (see DataParallel.ts): builds the model from workerData on its own
 * TensorFlow.js backend and answers gradient requests for its shard of each micro-batch.
 */
import { parentPort, workerData } from "node:worker_threads"
import * as tf from "@tensorflow/tfjs"
import { selectBackend, type BackendPreference } from "../../backend/Backend.js"
import { setGemmKernel } from "../../backend/internal/wasmHeap.js"
import { Gpt } from "../../model/Gpt.js"
import { applyLora } from "../../model/Lora.js"
import { addJobGradients, emptySum, type Trainable } from "../Gradients.js"
import type { ShardReply, ShardRequest, ShardSetup } from "./shardProtocol.js"

const preferences: Readonly<Record<string, BackendPreference>> = { wasm: "wasm", cpu: "cpu", tensorflow: "node" }

const setup = workerData as ShardSetup
const port = parentPort!
const reply = (message: ShardReply, transfer: Array<ArrayBuffer> = []) => port.postMessage(message, transfer)

const main = async () => {
  // One thread per replica: the cores are already shared among replicas.
  setGemmKernel(setup.gemm)
  await selectBackend(preferences[setup.backend] ?? "cpu", { threads: 1 })
  const model = new Gpt(setup.config, new Map(setup.weights))
  for (const [name, v] of model.weights) v.trainable = setup.trainable.includes(name)
  let trainables: Array<Trainable>
  if (setup.lora !== undefined) {
    const lora = applyLora(model, setup.lora.options)
    const values = new Map(setup.lora.values)
    trainables = lora.namedVariables().map(([key, variable]) => ({ key, variable }))
    assign(trainables, values)
  } else {
    trainables = [...model.weights].filter(([, v]) => v.trainable).map(([key, variable]) => ({ key, variable }))
  }
  port.on("message", (request: ShardRequest) => {
    try {
      if (request.weights !== undefined) assign(trainables, new Map(request.weights))
      const sum = emptySum()
      const batch = { ids: request.ids, mask: request.mask, batch: request.batch, seqLen: request.seqLen }
      addJobGradients(model, trainables, { batch, seed: request.seed }, request.normaliser, sum)
      const grads = [...sum.grads]
      reply({ type: "gradients", id: request.id, loss: sum.loss, grads }, grads.map(([, g]) => g.buffer as ArrayBuffer))
    } catch (error) {
      reply({ type: "error", message: error instanceof Error ? error.message : String(error) })
    }
  })
  reply({ type: "ready" })
}

const assign = (trainables: ReadonlyArray<Trainable>, values: ReadonlyMap<string, Float32Array>) => {
  for (const t of trainables) {
    const v = values.get(t.key)
    if (v === undefined) continue
    const tensor = tf.tensor(v, t.variable.shape)
    t.variable.assign(tensor)
    tensor.dispose()
  }
}

main().catch((error: unknown) => reply({ type: "error", message: error instanceof Error ? error.message : String(error) }))
