/** Messages between DataParallel and its shard workers. */
import type { GemmKernel } from "../../backend/internal/wasmHeap.js"
import type { GptConfig } from "../../model/GptConfig.js"
import type { LoraOptions } from "../../model/Lora.js"

/** workerData: everything a replica needs to equal the main model. */
export interface ShardSetup {
  /** TensorFlow.js backend name of the main thread (wasm, cpu, tensorflow). */
  readonly backend: string
  /** The main thread's wasm GEMM kernel: shards must compute what the main thread would. */
  readonly gemm: GemmKernel
  readonly config: GptConfig
  readonly weights: ReadonlyArray<readonly [string, Float32Array]>
  /** Base weights that are trainable (full fine-tuning); empty with LoRA. */
  readonly trainable: ReadonlyArray<string>
  readonly lora?: {
    readonly options: LoraOptions
    readonly values: ReadonlyArray<readonly [string, Float32Array]>
  }
}

export interface ShardRequest {
  readonly id: number
  readonly ids: Int32Array
  readonly mask: Uint8Array
  readonly batch: number
  readonly seqLen: number
  readonly seed: number
  readonly normaliser: number
  /** Trainable values to adopt before computing (after an optimiser update). */
  readonly weights?: ReadonlyArray<readonly [string, Float32Array]>
}

export type ShardReply =
  | { readonly type: "ready" }
  | { readonly type: "error"; readonly message: string }
  | {
      readonly type: "gradients"
      readonly id: number
      readonly loss: number
      readonly grads: ReadonlyArray<readonly [string, Float32Array]>
    }
