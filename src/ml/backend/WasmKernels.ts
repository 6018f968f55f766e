/**
 * Kernels cairn adds to the TensorFlow.js wasm backend; registered before it initialises.
 *
 * - `UnsortedSegmentSum`: missing from wasm; it is the gradient of `gather` (embeddings).
 * - `BatchMatMul` for batched, un-transposed operands: the stock kernel sends anything that is
 *   not a single 2-D product to a naive loop (~1 GFLOP/s here); this one runs each batch entry
 *   as a 2-D product on cairn's GEMM (~10 GFLOP/s at attention sizes). With the relaxed-SIMD
 *   GEMM (`internal/wasmGemm.ts`) 2-D products and `_FusedMatMul` with a bias and no
 *   activation (the model's linear layers) run on it too, at 1.5-2× XNNPACK's speed. Other
 *   cases keep the stock path.
 * - `Identity` without a copy (shared, reference-counted memory, like the cpu backend).
 * - `GatherV2` of whole rows (axis 0): the stock kernel copies element by element through
 *   generic index arithmetic (7 ms for 1024 rows of 128 here); copying rows is ~50x faster.
 * - `Sum` over the leading axes (column sums, e.g. bias and layer-norm gradients): the stock
 *   kernel transposes the whole tensor first; summing rows in place is ~5-10x faster.
 * - The fused model kernels named in `FusedKernels.ts` (linear backward, attention): each
 *   replaces 5-30 stock kernels and their intermediate tensors with one pass over the wasm
 *   heap, calling XNNPACK for matrix products and softmax.
 *
 * The kernels read and write the backend's wasm heap directly (`internal/wasmHeap.ts`).
 */
import * as tf from "@tensorflow/tfjs"
import { FusedKernel } from "./FusedKernels.js"
import { attentionBackward, attentionForward, type AttentionAttrs } from "./internal/wasmAttention.js"
import { columnSums, gemmKernel, Heap, type TensorInfo, type WasmBackend } from "./internal/wasmHeap.js"
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

  /**
   * Replaces a stock wasm kernel by a faster one that declines (returns undefined) the cases it
   * does not cover, which the stock kernel then computes. The stock kernel binds its wasm
   * function in its setup; that is kept for the fallback path.
   */
  const override = (kernelName: string, fast: (heap: Heap, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>) => TensorInfo | undefined) => {
    const stock = tf.getKernel(kernelName, "wasm")
    if (stock === undefined) return
    register(kernelName, (heap, inputs, attrs) =>
      fast(heap, inputs, attrs) ?? (stock.kernelFunc({ inputs, attrs, backend: heapBackend(heap) } as never) as TensorInfo),
    stock.setupFunc)
  }
  override("BatchMatMul", batchMatMul)
  override("_FusedMatMul", fusedLinear)
  // Tensors are immutable, so a clone can share its input's memory, as the cpu backend does.
  // The stock kernel copies, and TensorFlow.js clones every tensor a custom gradient saves.
  override("Identity", (heap, inputs) => {
    const x = inputs["x"]!
    if (x.dtype === "string") return undefined
    heap.backendRef.incRef(x.dataId)
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }
  })
  override("Sum", sumLeading)
  override("GatherV2", gatherRows)

  register(FusedKernel.LinearGrad, (heap, { x, w, dy }, attrs) =>
    linearBackward(heap, x!, w!, dy!, attrs["weight"] === true, attrs["bias"] === true))
  register(FusedKernel.Attention, (heap, { qkv, mask }, attrs) => attentionForward(heap, qkv!, attentionAttrs(attrs), mask))
  register(FusedKernel.AttentionGrad, (heap, { dy, qkv, probs, mask }, attrs) =>
    attentionBackward(heap, dy!, qkv!, probs!, attentionAttrs(attrs), mask))
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
  if (ra === 2 && rb === 2 && gemmKernel() === "fma" && a!.shape[1] === b!.shape[0]) {
    const out = heap.output([a!.shape[0]!, b!.shape[1]!])
    heap.gemm(heap.offset(a!), heap.offset(b!), heap.offset(out), a!.shape[0]!, a!.shape[1]!, b!.shape[1]!)
    return out
  }
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

/** x [m,k] · w [k,n] + bias [n] on the relaxed-SIMD GEMM, or undefined for the stock kernel. */
const fusedLinear = (heap: Heap, { a, b, bias, preluActivationWeights }: Record<string, TensorInfo | undefined>, attrs: Record<string, unknown>): TensorInfo | undefined => {
  if (gemmKernel() !== "fma" || preluActivationWeights != null) return undefined
  if (attrs["transposeA"] === true || attrs["transposeB"] === true) return undefined
  if ((attrs["activation"] ?? "linear") !== "linear") return undefined
  if (a!.dtype !== "float32" || b!.dtype !== "float32") return undefined
  // tf.fused.matMul hands the kernel [1, m, k] and [1, k, n] for 2-D operands.
  const single = (shape: ReadonlyArray<number>) => shape.length === 2 || (shape.length === 3 && shape[0] === 1)
  if (!single(a!.shape) || !single(b!.shape) || a!.shape.length !== b!.shape.length) return undefined
  const [m, k] = a!.shape.slice(-2) as [number, number]
  const n = b!.shape[b!.shape.length - 1]!
  if (b!.shape[b!.shape.length - 2] !== k) return undefined
  if (bias != null && (bias.dtype !== "float32" || bias.shape.length !== 1 || bias.shape[0] !== n)) return undefined
  const out = heap.output(a!.shape.length === 3 ? [1, m, n] : [m, n])
  heap.gemm(heap.offset(a!), heap.offset(b!), heap.offset(out), m, k, n, bias == null ? 0 : heap.offset(bias))
  return out
}

/** Rows of x [R, ...] picked by int32 indices (axis 0, no batch dims), or undefined for other cases. */
const gatherRows = (heap: Heap, { x, indices }: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo | undefined => {
  if (Number(attrs["axis"] ?? 0) !== 0 || Number(attrs["batchDims"] ?? 0) !== 0) return undefined
  if (x!.dtype !== "float32" || indices!.dtype !== "int32" || x!.shape.length < 1) return undefined
  const rows = x!.shape[0]!
  const width = x!.shape.slice(1).reduce((p, q) => p * q, 1)
  const out = heap.output([...indices!.shape, ...x!.shape.slice(1)])
  const F = heap.all()
  const src = heap.offset(x!) >>> 2
  const dst = heap.offset(out) >>> 2
  const ids = heap.i32(indices!)
  for (let i = 0; i < ids.length; i++) {
    const r = ids[i]!
    // Out-of-range ids are an error in TensorFlow; tfjs's CPU kernels also throw.
    if (r < 0 || r >= rows) throw new Error(`gather: index ${r} is out of range [0, ${rows})`)
    F.copyWithin(dst + i * width, src + r * width, src + (r + 1) * width)
  }
  return out
}

/** Sum over the leading axes of a float32 tensor (keeping the trailing ones), or undefined. */
const sumLeading = (heap: Heap, { x }: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo | undefined => {
  const raw = attrs["axis"]
  if (raw === null || raw === undefined) return undefined // a full reduction
  const rank = x!.shape.length
  const axes = (Array.isArray(raw) ? raw : [raw]).map((a) => (Number(a) + rank) % rank).sort((p, q) => p - q)
  if (x!.dtype !== "float32" || axes.length === 0 || axes.length >= rank || axes.some((a, i) => a !== i)) return undefined
  const rows = x!.shape.slice(0, axes.length).reduce((p, q) => p * q, 1)
  const kept = x!.shape.slice(axes.length)
  const cols = kept.reduce((p, q) => p * q, 1)
  const keepDims = attrs["keepDims"] === true
  const out = heap.output(keepDims ? [...axes.map(() => 1), ...kept] : kept)
  heap.f32(out).set(columnSums(heap.f32(x!), rows, cols))
  return out
}
