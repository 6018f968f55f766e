/**
 * AdamW (Loshchilov & Hutter) on JS-side float32 copies of the trainable parameters, with
 * gradient clipping by global norm.
 *
 * The optimiser state (m, v, step) lives in plain Float32Arrays rather than tensors: it is
 * then backend-independent, bit-exactly serialisable for checkpoints, and cannot leak tensors.
 * The update matches `torch.optim.AdamW`: decoupled decay p ← p·(1 − lr·wd) first, then
 * p ← p − lr·m̂/(√v̂ + ε) with bias-corrected moments; arithmetic in float64, stored float32.
 *
 * The moments are views into the memory of a small WebAssembly kernel (internal/adamwKernel.ts)
 * that updates two parameters per instruction with the same float64 operations; weights and
 * gradients are copied through it. Where it cannot compile, the same loop runs in JS.
 */
import { adamwKernel, type AdamWKernel } from "./internal/adamwKernel.js"

export interface AdamWOptions {
  readonly beta1: number
  readonly beta2: number
  readonly epsilon: number
  readonly weightDecay: number
}

export interface ParamSpec {
  readonly name: string
  readonly size: number
  /** Whether weight decay applies (matrices yes; biases, layer norms, embeddings no by default). */
  readonly decay: boolean
}

export interface AdamWState {
  readonly step: number
  readonly m: ReadonlyMap<string, Float32Array>
  readonly v: ReadonlyMap<string, Float32Array>
}

export class AdamW {
  readonly options: AdamWOptions
  private readonly params: ReadonlyArray<ParamSpec>
  private m: Map<string, Float32Array>
  private v: Map<string, Float32Array>
  private t = 0

  /** The kernel and its scratch for one parameter's weights and gradient (float offsets). */
  private readonly kernel: { readonly update: AdamWKernel; readonly heap: Float32Array; readonly w: number; readonly g: number } | undefined
  private readonly offsets = new Map<string, { readonly m: number; readonly v: number }>()

  constructor(params: ReadonlyArray<ParamSpec>, options: AdamWOptions) {
    this.params = params
    this.options = options
    // Layout: m and v of every parameter, then room for the largest parameter's w and g; each
    // block an even number of floats so pairs stay 8-byte aligned.
    const even = (n: number) => n + (n & 1)
    let at = 0
    for (const p of params) {
      this.offsets.set(p.name, { m: at, v: at + even(p.size) })
      at += 2 * even(p.size)
    }
    const largest = even(params.reduce((n, p) => Math.max(n, p.size), 0))
    const compiled = adamwKernel(4 * (at + 2 * largest))
    if (compiled === undefined) {
      this.kernel = undefined
      this.m = new Map(params.map((p) => [p.name, new Float32Array(p.size)]))
      this.v = new Map(params.map((p) => [p.name, new Float32Array(p.size)]))
    } else {
      const heap = new Float32Array(compiled.buffer)
      this.kernel = { update: compiled.update, heap, w: at, g: at + largest }
      const view = (from: number, size: number) => heap.subarray(from, from + size)
      this.m = new Map(params.map((p) => [p.name, view(this.offsets.get(p.name)!.m, p.size)]))
      this.v = new Map(params.map((p) => [p.name, view(this.offsets.get(p.name)!.v, p.size)]))
    }
  }

  get step(): number {
    return this.t
  }

  /** Apply one update in place to `weights` given `grads` (both keyed by parameter name). */
  update(weights: ReadonlyMap<string, Float32Array>, grads: ReadonlyMap<string, Float32Array>, lr: number): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options
    this.t++
    const stepSize = lr / (1 - beta1 ** this.t)
    const c2 = 1 - beta2 ** this.t
    const a1 = 1 - beta1
    const a2 = 1 - beta2
    for (const p of this.params) {
      const w = weights.get(p.name)!
      const g = grads.get(p.name)
      if (g === undefined) continue // no gradient reached it this step (e.g. an unused position)
      const m = this.m.get(p.name)!
      const v = this.v.get(p.name)!
      const shrink = p.decay ? 1 - lr * weightDecay : 1
      let from = 0
      const k = this.kernel
      if (k !== undefined) {
        const { m: mAt, v: vAt } = this.offsets.get(p.name)!
        const pairs = w.length >> 1
        k.heap.set(w, k.w)
        k.heap.set(g, k.g)
        k.update(4 * k.w, 4 * k.g, 4 * mAt, 4 * vAt, pairs, shrink, stepSize, c2, beta1, beta2, a1, a2, epsilon)
        w.set(k.heap.subarray(k.w, k.w + 2 * pairs))
        from = 2 * pairs
      }
      // The elements the kernel did not take (all of them without it): the same arithmetic.
      for (let i = from; i < w.length; i++) {
        const gi = g[i]!
        const mi = beta1 * m[i]! + a1 * gi
        const vi = beta2 * v[i]! + a2 * gi * gi
        m[i] = mi
        v[i] = vi
        w[i] = w[i]! * shrink - (stepSize * mi) / (Math.sqrt(vi / c2) + epsilon)
      }
    }
  }

  state(): AdamWState {
    return { step: this.t, m: this.m, v: this.v }
  }

  load(state: AdamWState): void {
    for (const p of this.params) {
      const m = state.m.get(p.name)
      const v = state.v.get(p.name)
      if (m === undefined || v === undefined || m.length !== p.size || v.length !== p.size) {
        throw new Error(`AdamW: saved state has no moments of the right size for ${p.name}`)
      }
      // Into the existing arrays: they may be views the kernel updates in place.
      this.m.get(p.name)!.set(m)
      this.v.get(p.name)!.set(v)
    }
    this.t = state.step
  }
}

/** √(Σ g²) over every gradient, accumulated in float64 (four partial sums, to overlap the adds). */
export const globalNorm = (grads: Iterable<Float32Array>): number => {
  let s0 = 0
  let s1 = 0
  let s2 = 0
  let s3 = 0
  for (const g of grads) {
    let i = 0
    for (; i + 4 <= g.length; i += 4) {
      s0 += g[i]! * g[i]!
      s1 += g[i + 1]! * g[i + 1]!
      s2 += g[i + 2]! * g[i + 2]!
      s3 += g[i + 3]! * g[i + 3]!
    }
    for (; i < g.length; i++) s0 += g[i]! * g[i]!
  }
  return Math.sqrt(s0 + s1 + s2 + s3)
}

/**
 * Scale gradients in place so their global norm is at most maxNorm (as torch's
 * `clip_grad_norm_`: factor maxNorm / (norm + 1e-6), only when it is below 1). Returns the
 * norm before clipping.
 */
export const clipByGlobalNorm = (grads: ReadonlyMap<string, Float32Array>, maxNorm: number): number => {
  const norm = globalNorm(grads.values())
  const factor = maxNorm / (norm + 1e-6)
  if (maxNorm > 0 && factor < 1) {
    for (const g of grads.values()) for (let i = 0; i < g.length; i++) g[i] = g[i]! * factor
  }
  return norm
}
