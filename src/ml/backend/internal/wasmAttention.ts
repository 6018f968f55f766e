/**
 * Causal self-attention forward and backward on the wasm heap.
 *
 * Per (sequence, head) the kernel copies that head's q, k, v out of the fused qkv rows into
 * small contiguous blocks and runs each product as a 2-D XNNPACK GEMM: forward S = q·kᵀ and
 * O = P·v; backward dP = dO·vᵀ, dq = dS·k, dk = dSᵀ·q, dv = Pᵀ·dO. Transposes the GEMMs
 * need (kᵀ, vᵀ, dSᵀ, Pᵀ) are written while copying or while computing dS, so no separate
 * transpose pass exists. The softmax of all heads is one XNNPACK call over [B·H·T, T] rows
 * after the causal entries are set to -∞; the scale 1/√hd is folded into q on the way in.
 *
 * `probs` (softmax output before dropout, [B, H, T, T]) is the forward's saved state; the
 * optional dropout `mask` holds 0 or 1/(1-p) per probability, as the reference multiplies.
 */
import { Heap, type TensorInfo } from "./wasmHeap.js"

export interface AttentionAttrs {
  readonly batch: number
  readonly seqLen: number
  readonly heads: number
}

export const attentionForward = (
  heap: Heap, qkv: TensorInfo, attrs: AttentionAttrs, mask?: TensorInfo
): [TensorInfo, TensorInfo] => {
  const { batch: b, seqLen: t, heads: h } = attrs
  const d = qkv.shape[1]! / 3
  const hd = d / h
  const scale = 1 / Math.sqrt(hd)
  const out = heap.output([b * t, d])
  const probs = heap.output([b, h, t, t])
  const q = heap.alloc(t * hd)
  const kT = heap.alloc(hd * t)
  const vAll = heap.alloc(b * t * d)
  const o = heap.alloc(t * hd)
  const dropped = mask === undefined ? 0 : heap.alloc(t * t)
  const qkvAt = heap.offset(qkv)
  const probsAt = heap.offset(probs)
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const src = heap.f32At(qkvAt, b * t * 3 * d)
      const qv = heap.f32At(q, t * hd)
      const kv = heap.f32At(kT, hd * t)
      const vv = heap.f32At(vAll, b * t * d)
      const vBase = (bi * h + hi) * t * hd
      for (let i = 0; i < t; i++) {
        const row = (bi * t + i) * 3 * d + hi * hd
        for (let j = 0; j < hd; j++) {
          qv[i * hd + j] = src[row + j]! * scale
          kv[j * t + i] = src[row + d + j]!
          vv[vBase + i * hd + j] = src[row + 2 * d + j]!
        }
      }
      const slice = probsAt + 4 * (bi * h + hi) * t * t
      heap.gemm(q, kT, slice, t, hd, t)
      const s = heap.f32At(slice, t * t)
      for (let i = 0; i < t; i++) for (let j = i + 1; j < t; j++) s[i * t + j] = -Infinity
    }
  }
  heap.softmax(probsAt, probsAt, b * h * t, t)
  const outAt = heap.offset(out)
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const bh = bi * h + hi
      let p = probsAt + 4 * bh * t * t
      if (mask !== undefined) {
        const pv = heap.f32At(p, t * t)
        const mv = heap.f32At(heap.offset(mask) + 4 * bh * t * t, t * t)
        const dv = heap.f32At(dropped, t * t)
        for (let i = 0; i < t * t; i++) dv[i] = pv[i]! * mv[i]!
        p = dropped
      }
      heap.gemm(p, vAll + 4 * bh * t * hd, o, t, t, hd)
      const ov = heap.f32At(o, t * hd)
      const dst = heap.f32At(outAt, b * t * d)
      for (let i = 0; i < t; i++) {
        const row = (bi * t + i) * d + hi * hd
        for (let j = 0; j < hd; j++) dst[row + j] = ov[i * hd + j]!
      }
    }
  }
  for (const ptr of [q, kT, vAll, o]) heap.free(ptr)
  if (mask !== undefined) heap.free(dropped)
  return [out, probs]
}

export const attentionBackward = (
  heap: Heap, dy: TensorInfo, qkv: TensorInfo, probs: TensorInfo, attrs: AttentionAttrs, mask?: TensorInfo
): TensorInfo => {
  const { batch: b, seqLen: t, heads: h } = attrs
  const d = qkv.shape[1]! / 3
  const hd = d / h
  const scale = 1 / Math.sqrt(hd)
  const dqkv = heap.output([b * t, 3 * d])
  const dO = heap.alloc(t * hd)
  const vT = heap.alloc(hd * t)
  const k = heap.alloc(t * hd)
  const q = heap.alloc(t * hd)
  const dP = heap.alloc(t * t)
  const dS = heap.alloc(t * t)
  const dST = heap.alloc(t * t)
  const pT = heap.alloc(t * t)
  const tmp = heap.alloc(t * hd)
  // Entries above the diagonal of dS and below it of dSᵀ, Pᵀ are never written: zero them once.
  for (const ptr of [dS, dST, pT]) heap.f32At(ptr, t * t).fill(0)
  const qkvAt = heap.offset(qkv)
  const dyAt = heap.offset(dy)
  const probsAt = heap.offset(probs)
  const dqkvAt = heap.offset(dqkv)
  const scatter = (column: number, bi: number) => {
    const tv = heap.f32At(tmp, t * hd)
    const dst = heap.f32At(dqkvAt, b * t * 3 * d)
    for (let i = 0; i < t; i++) {
      const row = (bi * t + i) * 3 * d + column
      for (let j = 0; j < hd; j++) dst[row + j] = tv[i * hd + j]!
    }
  }
  for (let bi = 0; bi < b; bi++) {
    for (let hi = 0; hi < h; hi++) {
      const bh = bi * h + hi
      {
        const src = heap.f32At(qkvAt, b * t * 3 * d)
        const g = heap.f32At(dyAt, b * t * d)
        const dOv = heap.f32At(dO, t * hd)
        const vTv = heap.f32At(vT, hd * t)
        const kv = heap.f32At(k, t * hd)
        const qv = heap.f32At(q, t * hd)
        for (let i = 0; i < t; i++) {
          const row = (bi * t + i) * 3 * d + hi * hd
          const gRow = (bi * t + i) * d + hi * hd
          for (let j = 0; j < hd; j++) {
            dOv[i * hd + j] = g[gRow + j]!
            qv[i * hd + j] = src[row + j]!
            kv[i * hd + j] = src[row + d + j]!
            vTv[j * t + i] = src[row + 2 * d + j]!
          }
        }
      }
      heap.gemm(dO, vT, dP, t, hd, t)
      {
        const pv = heap.f32At(probsAt + 4 * bh * t * t, t * t)
        const mv = mask === undefined ? undefined : heap.f32At(heap.offset(mask) + 4 * bh * t * t, t * t)
        const dPv = heap.f32At(dP, t * t)
        const dSv = heap.f32At(dS, t * t)
        const dSTv = heap.f32At(dST, t * t)
        const pTv = heap.f32At(pT, t * t)
        for (let i = 0; i < t; i++) {
          const r = i * t
          if (mv !== undefined) for (let j = 0; j <= i; j++) dPv[r + j] = dPv[r + j]! * mv[r + j]!
          let dot = 0
          for (let j = 0; j <= i; j++) dot += dPv[r + j]! * pv[r + j]!
          for (let j = 0; j <= i; j++) {
            const p = pv[r + j]!
            const ds = p * (dPv[r + j]! - dot) * scale
            dSv[r + j] = ds
            dSTv[j * t + i] = ds
            pTv[j * t + i] = mv === undefined ? p : p * mv[r + j]!
          }
        }
      }
      heap.gemm(dS, k, tmp, t, t, hd)
      scatter(hi * hd, bi)
      heap.gemm(dST, q, tmp, t, t, hd)
      scatter(d + hi * hd, bi)
      heap.gemm(pT, dO, tmp, t, t, hd)
      scatter(2 * d + hi * hd, bi)
    }
  }
  for (const ptr of [dO, vT, k, q, dP, dS, dST, pT, tmp]) heap.free(ptr)
  return dqkv
}
