/**
 * Kernels cairn adds to the TensorFlow.js wasm backend; registered before it initialises.
 *
 * - `UnsortedSegmentSum`: missing from wasm; it is the gradient of `gather` (embeddings).
 * - `BatchMatMul` for batched, un-transposed operands: the stock kernel sends anything that is
 *   not a single 2-D product to a naive loop (~1 GFLOP/s here); this one runs each batch entry
 *   as a 2-D product on XNNPACK (~10 GFLOP/s at attention sizes). Other cases keep the stock path.
 * - The fused model kernels named in `FusedKernels.ts` (linear backward, attention, layer
 *   norm, GELU): each replaces 5-30 stock kernels and their intermediate tensors with one pass
 *   over the wasm heap, calling XNNPACK for matrix products, softmax and sigmoid.
 *
 * The kernels read and write the backend's wasm heap directly (`internal/wasmHeap.ts`).
 */
import * as tf from "@tensorflow/tfjs"
import { FusedKernel } from "./FusedKernels.js"
import { attentionBackward, attentionForward, type AttentionAttrs } from "./internal/wasmAttention.js"
import { geluBackward, geluForward } from "./internal/wasmGelu.js"
import { Heap, type TensorInfo, type WasmBackend } from "./internal/wasmHeap.js"
import { layerNormBackward, layerNormForward } from "./internal/wasmLayerNorm.js"
import { linearBackward } from "./internal/wasmLinear.js"

interface KernelArgs {
  readonly inputs: Record<string, TensorInfo | undefined>
  readonly backend: unknown
  readonly attrs?: Record<string, unknown>
}
type Kernel = (heap: Heap, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) => TensorInfo | Array<TensorInfo>

let registered: Array<string> | undefined

/** Register cairn's wasm kernels (once per process); returns their names for the backend report. */
export const registerWasmKernels = (): Array<string> => {
  if (registered !== undefined) return registered
  const added: Array<string> = []
  const register = (kernelName: string, kernel: Kernel, setupFunc?: tf.KernelSetupFunc) => {
    const kernelFunc = (args: KernelArgs) =>
      kernel(Heap.of(args.backend as WasmBackend), args.inputs as Record<string, TensorInfo>, args.attrs ?? {})
    if (tf.getKernel(kernelName, "wasm") !== undefined) tf.unregisterKernel(kernelName, "wasm")
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc, setupFunc })
    added.push(kernelName)
  }

  // A future tfjs may ship its own; keep it then.
  if (tf.getKernel("UnsortedSegmentSum", "wasm") === undefined) register("UnsortedSegmentSum", unsortedSegmentSum)

  const stock = tf.getKernel("BatchMatMul", "wasm")
  if (stock !== undefined) {
    register("BatchMatMul", (heap, inputs, attrs) =>
      batchMatMul(heap, inputs, attrs) ?? (stock.kernelFunc({ inputs, attrs, backend: heapBackend(heap) } as never) as TensorInfo),
    // The stock kernel binds its wasm function in its setup; keep that for the fallback path.
    stock.setupFunc)
  }

  register(FusedKernel.LinearGrad, (heap, { x, w, dy }, attrs) =>
    linearBackward(heap, x!, w!, dy!, attrs["weight"] === true, attrs["bias"] === true))
  register(FusedKernel.Attention, (heap, { qkv, mask }, attrs) => attentionForward(heap, qkv!, attentionAttrs(attrs), mask))
  register(FusedKernel.AttentionGrad, (heap, { dy, qkv, probs, mask }, attrs) =>
    attentionBackward(heap, dy!, qkv!, probs!, attentionAttrs(attrs), mask))
  register(FusedKernel.LayerNorm, (heap, { x, gamma, beta }, attrs) =>
    layerNormForward(heap, x!, gamma!, beta!, Number(attrs["epsilon"])))
  register(FusedKernel.LayerNormGrad, (heap, { dy, x, gamma, mean, rstd }) =>
    layerNormBackward(heap, dy!, x!, gamma!, mean!, rstd!))
  register(FusedKernel.Gelu, (heap, { x }) => geluForward(heap, x!))
  register(FusedKernel.GeluGrad, (heap, { dy, x, s }) => geluBackward(heap, dy!, x!, s!))
  registered = added
  return added
}

const heapBackend = (heap: Heap): WasmBackend => heap.backendRef

const attentionAttrs = (attrs: Record<string, unknown>): AttentionAttrs => ({
  batch: Number(attrs["batch"]),
  seqLen: Number(attrs["seqLen"]),
  heads: Number(attrs["heads"])
})

const unsortedSegmentSum: Kernel = (heap, { x, segmentIds }, attrs) => {
  const numSegments = Number(attrs["numSegments"])
  const out = heap.output([numSegments, ...x!.shape.slice(segmentIds!.shape.length)], x!.dtype)
  const o = heap.f32(out)
  const xv = heap.f32(x!)
  const ids = heap.i32(segmentIds!)
  const n = ids.length
  const inner = n === 0 ? 0 : xv.length / n
  o.fill(0) // heap memory is not zeroed
  for (let i = 0; i < n; i++) {
    const s = ids[i]!
    if (s < 0 || s >= numSegments) continue
    const ob = s * inner
    const xb = i * inner
    for (let j = 0; j < inner; j++) o[ob + j]! += xv[xb + j]!
  }
  return out
}

/** The batched fast path, or undefined when the stock kernel should handle the call. */
const batchMatMul = (heap: Heap, { a, b }: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo | undefined => {
  if (attrs["transposeA"] === true || attrs["transposeB"] === true) return undefined
  if (a!.dtype !== "float32" || b!.dtype !== "float32") return undefined
  const ra = a!.shape.length
  const rb = b!.shape.length
  if (ra !== rb || ra < 3 || a!.shape.slice(0, -2).some((v, i) => v !== b!.shape[i])) return undefined
  const batch = a!.shape.slice(0, -2).reduce((p, q) => p * q, 1)
  const m = a!.shape[ra - 2]!
  const k = a!.shape[ra - 1]!
  const n = b!.shape[rb - 1]!
  const out = heap.output([...a!.shape.slice(0, -2), m, n])
  const ao = heap.offset(a!)
  const bo = heap.offset(b!)
  const oo = heap.offset(out)
  for (let i = 0; i < batch; i++) heap.gemm(ao + 4 * i * m * k, bo + 4 * i * k * n, oo + 4 * i * m * n, m, k, n)
  return out
}
