/**
 * Kernels cairn adds to the TensorFlow.js wasm backend; registered before it initialises.
 *
 * - `UnsortedSegmentSum`: missing from wasm; it is the gradient of `gather` (embeddings).
 * - `BatchMatMul` for batched, un-transposed operands: the stock kernel sends anything that is
 *   not a single 2-D product to a naive loop (~1 GFLOP/s here); this one runs each batch entry
 *   as a 2-D product on XNNPACK (~10 GFLOP/s at attention sizes). Other cases keep the stock path.
 * - The fused model kernels named in `FusedKernels.ts` (linear backward, attention, layer
 *   norm, GELU): each replaces 5-30 stock kernels and their intermediate tensors with one pass
 *   over the wasm heap, calling XNNPACK for the matrix products.
 *
 * Every kernel reads and writes the backend's wasm heap directly. Any allocation (an output,
 * scratch space, XNNPACK packing its weights) may grow the heap and detach typed-array views,
 * so views are taken after the allocations they depend on, never held across them.
 */
import * as tf from "@tensorflow/tfjs"
import { FusedKernel } from "./FusedKernels.js"
import { attentionBackward, attentionForward } from "./internal/wasmAttention.js"
import { geluBackward, geluForward, layerNormBackward, layerNormForward } from "./internal/wasmElementwise.js"
import { Heap, type TensorInfo, type WasmBackend } from "./internal/wasmHeap.js"
import { linearBackward } from "./internal/wasmLinear.js"

type KernelArgs = { inputs: Record<string, TensorInfo>; backend: unknown; attrs?: Record<string, unknown> }

/** Register cairn's wasm kernels (idempotent); returns their names for the backend report. */
export const registerWasmKernels = (): Array<string> => {
  const added: Array<string> = []
  const register = (kernelName: string, kernelFunc: (args: KernelArgs) => TensorInfo | Array<TensorInfo>) => {
    if (tf.getKernel(kernelName, "wasm") !== undefined) {
      if (!replaced.has(kernelName)) {
        added.push(kernelName)
        return
      }
      tf.unregisterKernel(kernelName, "wasm")
    }
    tf.registerKernel({ kernelName, backendName: "wasm", kernelFunc: kernelFunc as unknown as tf.KernelFunc })
    added.push(kernelName)
  }
  const heap = (args: KernelArgs) => Heap.of(args.backend as WasmBackend)

  register("UnsortedSegmentSum", (args) => unsortedSegmentSum(heap(args), args))

  const stock = stockBatchMatMul ?? tf.getKernel("BatchMatMul", "wasm")
  if (stock !== undefined) {
    stockBatchMatMul = stock
    replaced.add("BatchMatMul")
    register("BatchMatMul", (args) => batchMatMul(heap(args), args, stock))
  }

  register(FusedKernel.LinearGrad, (args) => {
    const { x, w, dy } = args.inputs as { x: TensorInfo; w: TensorInfo; dy: TensorInfo }
    return linearBackward(heap(args), x, w, dy, args.attrs?.["weight"] === true, args.attrs?.["bias"] === true)
  })
  register(FusedKernel.Attention, (args) => attentionForward(heap(args), args.inputs["qkv"]!, attentionAttrs(args)))
  register(FusedKernel.AttentionGrad, (args) => {
    const { dy, qkv, probs } = args.inputs as { dy: TensorInfo; qkv: TensorInfo; probs: TensorInfo }
    return [attentionBackward(heap(args), dy, qkv, probs, attentionAttrs(args))]
  })
  register(FusedKernel.LayerNorm, (args) => {
    const { x, gamma, beta } = args.inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo }
    return layerNormForward(heap(args), x, gamma, beta, Number(args.attrs?.["epsilon"]))
  })
  register(FusedKernel.LayerNormGrad, (args) => {
    const { dy, x, gamma, mean, rstd } = args.inputs as Record<"dy" | "x" | "gamma" | "mean" | "rstd", TensorInfo>
    return layerNormBackward(heap(args), dy, x, gamma, mean, rstd)
  })
  register(FusedKernel.Gelu, (args) => [geluForward(heap(args), args.inputs["x"]!)])
  register(FusedKernel.GeluGrad, (args) => [geluBackward(heap(args), args.inputs["dy"]!, args.inputs["x"]!)])
  return added
}

/** Kernels cairn overrides rather than adds; re-registering them is expected. */
const replaced = new Set<string>([
  "UnsortedSegmentSum",
  ...Object.values(FusedKernel)
])

let stockBatchMatMul: tf.KernelConfig | undefined

const attentionAttrs = (args: KernelArgs) => {
  const a = args.attrs ?? {}
  return {
    batch: Number(a["batch"]),
    seqLen: Number(a["seqLen"]),
    heads: Number(a["heads"]),
    dropout: Number(a["dropout"] ?? 0),
    seed: Number(a["seed"] ?? 0)
  }
}

const unsortedSegmentSum = (heap: Heap, args: KernelArgs): TensorInfo => {
  const { x, segmentIds } = args.inputs as { x: TensorInfo; segmentIds: TensorInfo }
  const numSegments = Number(args.attrs?.["numSegments"])
  const out = heap.output([numSegments, ...x.shape.slice(segmentIds.shape.length)], x.dtype)
  const o = heap.f32(out)
  const xv = heap.f32(x)
  const ids = heap.i32(segmentIds)
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

const batchMatMul = (heap: Heap, args: KernelArgs, stock: tf.KernelConfig): TensorInfo => {
  const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo }
  const transposed = args.attrs?.["transposeA"] === true || args.attrs?.["transposeB"] === true
  const ra = a.shape.length
  const rb = b.shape.length
  const batchA = a.shape.slice(0, -2).reduce((p, q) => p * q, 1)
  const batchB = b.shape.slice(0, -2).reduce((p, q) => p * q, 1)
  const sameBatch = ra === rb && a.shape.slice(0, -2).every((v, i) => v === b.shape[i])
  if (transposed || batchA <= 1 || !sameBatch || a.dtype !== "float32" || b.dtype !== "float32" || batchA !== batchB) {
    return stock.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]) as TensorInfo
  }
  const m = a.shape[ra - 2]!
  const k = a.shape[ra - 1]!
  const n = b.shape[rb - 1]!
  const out = heap.output([...a.shape.slice(0, -2), m, n], "float32")
  const ao = heap.offset(a)
  const bo = heap.offset(b)
  const oo = heap.offset(out)
  for (let i = 0; i < batchA; i++) heap.gemm(ao + 4 * i * m * k, bo + 4 * i * k * n, oo + 4 * i * m * n, m, k, n)
  return out
}
