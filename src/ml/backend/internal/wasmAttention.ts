/**
 * Causal self-attention forward and backward on the wasm heap.
 *
 * Every product runs as a 2-D GEMM per (sequence, head): forward S = q·kᵀ and O = P·v;
 * backward dP = dO·vᵀ, dq = dS·k, dk = dSᵀ·q, dv = Pᵀ·dO. The softmax of all heads is one
 * XNNPACK call over [B·H·T, T] rows after the causal entries are set to -∞. dSᵀ and Pᵀ are
 * written while dS is computed, so there is no separate transpose pass.
 *
 * With the relaxed-SIMD GEMM (`wasmGemm.ts`), which takes strided and transposed operands,
 * each head's q, k and v are read in place from the fused qkv rows, outputs are written
 * straight into their columns of `out` / `dqkv`, and the scale 1/√hd is applied by the GEMM.
 * XNNPACK needs contiguous operands, so without it the heads are first gathered into
 * [B, H, T, hd] blocks (k transposed and scaled, v transposed for the backward) and scattered
 * back afterwards.
 *
 * `probs` (softmax output before dropout, [B, H, T, T]) is the forward's saved state; the
 * optional dropout `mask` holds 0 or 1/(1-p) per probability, as the reference multiplies.
 * Runs of hd values move with `copyWithin` on one view of the heap (no per-run allocation).
 */
import { gemmKernel, Heap, type TensorInfo } from "./wasmHeap.js"

export interface AttentionAttrs {
  readonly batch: number
  readonly seqLen: number
  readonly heads: number
}

/** Float index of a byte offset. */
const at = (byteOffset: number) => byteOffset >>> 2

/**
 * Gather head blocks out of fused rows: for each row of `src` (width `width` floats) and head,
 * copy the hd values at `column + head·hd` to [B, H, T, hd] (or, transposed, [B, H, hd, T],
 * multiplied by `scale`).
 */
const gatherHeads = (
  heap: Heap, src: number, width: number, column: number, dst: number,
  b: number, t: number, h: number, hd: number, transposed: boolean, scale = 1
): void => {
  const F = heap.all()
  const s0 = at(src)
  const d0 = at(dst)
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const block = d0 + (bi * h + hi) * t * hd
      for (let i = 0; i < t; i++) {
        const from = s0 + (bi * t + i) * width + column + hi * hd
        if (!transposed) F.copyWithin(block + i * hd, from, from + hd)
        else for (let j = 0; j < hd; j++) F[block + j * t + i] = F[from + j]! * scale
      }
    }
  }
}

/** The inverse of gatherHeads (untransposed): [B, H, T, hd] blocks back into fused rows. */
const scatterHeads = (heap: Heap, src: number, dst: number, width: number, column: number, b: number, t: number, h: number, hd: number): void => {
  const F = heap.all()
  const s0 = at(src)
  const d0 = at(dst)
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const block = s0 + (bi * h + hi) * t * hd
      for (let i = 0; i < t; i++) F.copyWithin(d0 + (bi * t + i) * width + column + hi * hd, block + i * hd, block + (i + 1) * hd)
    }
  }
}

/** Sets the entries above the diagonal of a [t, t] block at `at` (bytes) to -∞. */
const maskCausal = (heap: Heap, at: number, t: number): void => {
  const F = heap.all()
  const s = at >>> 2
  for (let i = 0; i < t; i++) F.fill(-Infinity, s + i * t + i + 1, s + (i + 1) * t)
}

/** probs·mask of block bh into `dst` (dropout), returning dst. */
const dropBlock = (heap: Heap, probsAt: number, mask: TensorInfo, bh: number, t: number, dst: number): number => {
  const F = heap.all()
  const pi = at(probsAt) + bh * t * t
  const mi = at(heap.offset(mask)) + bh * t * t
  const di = at(dst)
  for (let i = 0; i < t * t; i++) F[di + i] = F[pi + i]! * F[mi + i]!
  return dst
}

const stridedForward = (heap: Heap, qkv: TensorInfo, attrs: AttentionAttrs, mask?: TensorInfo): [TensorInfo, TensorInfo] => {
  const { batch: b, seqLen: t, heads: h } = attrs
  const d = qkv.shape[1]! / 3
  const hd = d / h
  const out = heap.output([b * t, d])
  const probs = heap.output([b, h, t, t])
  const dropped = mask === undefined ? 0 : heap.alloc(t * t)
  const qkvAt = heap.offset(qkv)
  const probsAt = heap.offset(probs)
  const outAt = heap.offset(out)
  const row = 12 * d // bytes per qkv row
  // Head hi of sequence bi: q, k, v start at these byte offsets, rows `row` bytes apart.
  const head = (bi: number, hi: number, part: number) => qkvAt + row * bi * t + 4 * (part * d + hi * hd)
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const slice = probsAt + 4 * (bi * h + hi) * t * t
      heap.gemmStrided({ at: head(bi, hi, 0), row, step: 4 }, { at: head(bi, hi, 1), row, transposed: true }, { at: slice, row: 4 * t }, t, hd, t, 1 / Math.sqrt(hd))
      maskCausal(heap, slice, t)
    }
  }
  heap.softmax(probsAt, probsAt, b * h * t, t)
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const bh = bi * h + hi
      const p = mask === undefined ? probsAt + 4 * bh * t * t : dropBlock(heap, probsAt, mask, bh, t, dropped)
      heap.gemmStrided({ at: p, row: 4 * t, step: 4 }, { at: head(bi, hi, 2), row, transposed: false }, { at: outAt + 4 * (bi * t * d + hi * hd), row: 4 * d }, t, t, hd)
    }
  }
  if (mask !== undefined) heap.free(dropped)
  return [out, probs]
}

export const attentionForward = (
  heap: Heap, qkv: TensorInfo, attrs: AttentionAttrs, mask?: TensorInfo
): [TensorInfo, TensorInfo] => {
  if (gemmKernel() === "fma") return stridedForward(heap, qkv, attrs, mask)
  const { batch: b, seqLen: t, heads: h } = attrs
  const d = qkv.shape[1]! / 3
  const hd = d / h
  const out = heap.output([b * t, d])
  const probs = heap.output([b, h, t, t])
  const q = heap.alloc(b * t * d)
  const kT = heap.alloc(b * t * d)
  const v = heap.alloc(b * t * d)
  const o = heap.alloc(b * t * d)
  const dropped = mask === undefined ? 0 : heap.alloc(t * t)
  const qkvAt = heap.offset(qkv)
  const probsAt = heap.offset(probs)
  gatherHeads(heap, qkvAt, 3 * d, 0, q, b, t, h, hd, false)
  gatherHeads(heap, qkvAt, 3 * d, d, kT, b, t, h, hd, true, 1 / Math.sqrt(hd))
  gatherHeads(heap, qkvAt, 3 * d, 2 * d, v, b, t, h, hd, false)
  for (let bh = 0; bh < b * h; bh++) {
    const slice = probsAt + 4 * bh * t * t
    heap.gemm(q + 4 * bh * t * hd, kT + 4 * bh * t * hd, slice, t, hd, t)
    maskCausal(heap, slice, t)
  }
  heap.softmax(probsAt, probsAt, b * h * t, t)
  for (let bh = 0; bh < b * h; bh++) {
    const p = mask === undefined ? probsAt + 4 * bh * t * t : dropBlock(heap, probsAt, mask, bh, t, dropped)
    heap.gemm(p, v + 4 * bh * t * hd, o + 4 * bh * t * hd, t, t, hd)
  }
  scatterHeads(heap, o, heap.offset(out), d, 0, b, t, h, hd)
  for (const ptr of [q, kT, v, o]) heap.free(ptr)
  if (mask !== undefined) heap.free(dropped)
  return [out, probs]
}

/**
 * From dP (block bh), write dS = P∘(dP - rowsum(dP∘P))·scale and its transpose dSᵀ, and Pᵀ
 * (after dropout), on and below the diagonal only (the rest stays zero).
 */
const softmaxBackward = (
  heap: Heap, dP: number, probsAt: number, mask: TensorInfo | undefined, bh: number, t: number,
  scale: number, dS: number, dST: number, pT: number
): void => {
  const F = heap.all()
  const pi = at(probsAt) + bh * t * t
  const mi = mask === undefined ? -1 : at(heap.offset(mask)) + bh * t * t
  const dPi = at(dP)
  const dSi = at(dS)
  const dSTi = at(dST)
  const pTi = at(pT)
  for (let i = 0; i < t; i++) {
    const r = i * t
    if (mi >= 0) for (let j = 0; j <= i; j++) F[dPi + r + j] = F[dPi + r + j]! * F[mi + r + j]!
    let dot = 0
    for (let j = 0; j <= i; j++) dot += F[dPi + r + j]! * F[pi + r + j]!
    for (let j = 0; j <= i; j++) {
      const p = F[pi + r + j]!
      const ds = p * (F[dPi + r + j]! - dot) * scale
      F[dSi + r + j] = ds
      F[dSTi + j * t + i] = ds
      F[pTi + j * t + i] = mi >= 0 ? p * F[mi + r + j]! : p
    }
  }
}

/** Shapes, the output and the per-head [T, T] scratch both backward paths use. */
const backwardSetup = (heap: Heap, qkv: TensorInfo, attrs: AttentionAttrs) => {
  const { batch: b, seqLen: t, heads: h } = attrs
  const d = qkv.shape[1]! / 3
  const hd = d / h
  const dqkv = heap.output([b * t, 3 * d])
  const [dP, dS, dST, pT] = [heap.alloc(t * t), heap.alloc(t * t), heap.alloc(t * t), heap.alloc(t * t)]
  // Entries above the diagonal of dS and below it of dSᵀ, Pᵀ are never written: zero them once.
  for (const ptr of [dS, dST, pT]) heap.f32At(ptr, t * t).fill(0)
  return { b, t, h, d, hd, scale: 1 / Math.sqrt(hd), dqkv, dP, dS, dST, pT }
}

const stridedBackward = (
  heap: Heap, dy: TensorInfo, qkv: TensorInfo, probs: TensorInfo, attrs: AttentionAttrs, mask?: TensorInfo
): TensorInfo => {
  const { b, t, h, d, hd, scale, dqkv, dP, dS, dST, pT } = backwardSetup(heap, qkv, attrs)
  const qkvAt = heap.offset(qkv)
  const dqkvAt = heap.offset(dqkv)
  const probsAt = heap.offset(probs)
  const dyAt = heap.offset(dy)
  const row = 12 * d
  const head = (base: number, bi: number, hi: number, part: number) => base + row * bi * t + 4 * (part * d + hi * hd)
  const square = { row: 4 * t, step: 4 }
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const bh = bi * h + hi
      const dO = dyAt + 4 * (bi * t * d + hi * hd)
      heap.gemmStrided({ at: dO, row: 4 * d, step: 4 }, { at: head(qkvAt, bi, hi, 2), row, transposed: true }, { at: dP, row: 4 * t }, t, hd, t)
      softmaxBackward(heap, dP, probsAt, mask, bh, t, scale, dS, dST, pT)
      heap.gemmStrided({ at: dS, ...square }, { at: head(qkvAt, bi, hi, 1), row, transposed: false }, { at: head(dqkvAt, bi, hi, 0), row }, t, t, hd)
      heap.gemmStrided({ at: dST, ...square }, { at: head(qkvAt, bi, hi, 0), row, transposed: false }, { at: head(dqkvAt, bi, hi, 1), row }, t, t, hd)
      heap.gemmStrided({ at: pT, ...square }, { at: dO, row: 4 * d, transposed: false }, { at: head(dqkvAt, bi, hi, 2), row }, t, t, hd)
    }
  }
  for (const ptr of [dP, dS, dST, pT]) heap.free(ptr)
  return dqkv
}

export const attentionBackward = (
  heap: Heap, dy: TensorInfo, qkv: TensorInfo, probs: TensorInfo, attrs: AttentionAttrs, mask?: TensorInfo
): TensorInfo => {
  if (gemmKernel() === "fma") return stridedBackward(heap, dy, qkv, probs, attrs, mask)
  const { b, t, h, d, hd, scale, dqkv, dP, dS, dST, pT } = backwardSetup(heap, qkv, attrs)
  const dO = heap.alloc(b * t * d)
  const q = heap.alloc(b * t * d)
  const k = heap.alloc(b * t * d)
  const vT = heap.alloc(b * t * d)
  const grads = heap.alloc(3 * b * t * d) // dq | dk | dv, each [B, H, T, hd]
  const qkvAt = heap.offset(qkv)
  const probsAt = heap.offset(probs)
  gatherHeads(heap, heap.offset(dy), d, 0, dO, b, t, h, hd, false)
  gatherHeads(heap, qkvAt, 3 * d, 0, q, b, t, h, hd, false)
  gatherHeads(heap, qkvAt, 3 * d, d, k, b, t, h, hd, false)
  gatherHeads(heap, qkvAt, 3 * d, 2 * d, vT, b, t, h, hd, true)
  const block = 4 * t * hd
  for (let bh = 0; bh < b * h; bh++) {
    heap.gemm(dO + bh * block, vT + bh * block, dP, t, hd, t)
    softmaxBackward(heap, dP, probsAt, mask, bh, t, scale, dS, dST, pT)
    heap.gemm(dS, k + bh * block, grads + bh * block, t, t, hd)
    heap.gemm(dST, q + bh * block, grads + (b * h + bh) * block, t, t, hd)
    heap.gemm(pT, dO + bh * block, grads + (2 * b * h + bh) * block, t, t, hd)
  }
  const dqkvAt = heap.offset(dqkv)
  for (let part = 0; part < 3; part++) scatterHeads(heap, grads + part * b * h * block, dqkvAt, 3 * d, part * d, b, t, h, hd)
  for (const ptr of [dO, q, k, vT, grads, dP, dS, dST, pT]) heap.free(ptr)
  return dqkv
}
