/**
 * Layer norm over rows on the wasm heap, forward and backward, one pass per row each way.
 * Row statistics and the dγ/dβ column sums accumulate in float64 so the result does not
 * depend on row length the way a float32 running sum would.
 */
import { Heap, type TensorInfo } from "./wasmHeap.js"

export const layerNormForward = (
  heap: Heap, x: TensorInfo, gamma: TensorInfo, beta: TensorInfo, epsilon: number
): Array<TensorInfo> => {
  const [m, d] = x.shape as [number, number]
  const y = heap.output([m, d])
  const mean = heap.output([m])
  const rstd = heap.output([m])
  const xv = heap.f32(x)
  const yv = heap.f32(y)
  const g = heap.f32(gamma)
  const bt = heap.f32(beta)
  const mv = heap.f32(mean)
  const rv = heap.f32(rstd)
  for (let r = 0; r < m; r++) {
    const base = r * d
    let sum = 0
    for (let j = 0; j < d; j++) sum += xv[base + j]!
    const mu = sum / d
    let sq = 0
    for (let j = 0; j < d; j++) {
      const c = xv[base + j]! - mu
      sq += c * c
    }
    const rs = 1 / Math.sqrt(sq / d + epsilon)
    for (let j = 0; j < d; j++) yv[base + j] = (xv[base + j]! - mu) * rs * g[j]! + bt[j]!
    mv[r] = mu
    rv[r] = rs
  }
  return [y, mean, rstd]
}

export const layerNormBackward = (
  heap: Heap, dy: TensorInfo, x: TensorInfo, gamma: TensorInfo, mean: TensorInfo, rstd: TensorInfo
): Array<TensorInfo> => {
  const [m, d] = x.shape as [number, number]
  const dx = heap.output([m, d])
  const dgamma = heap.output([d])
  const dbeta = heap.output([d])
  const xv = heap.f32(x)
  const gv = heap.f32(dy)
  const g = heap.f32(gamma)
  const mv = heap.f32(mean)
  const rv = heap.f32(rstd)
  const dxv = heap.f32(dx)
  const accG = new Float64Array(d)
  const accB = new Float64Array(d)
  const xhat = new Float64Array(d)
  for (let r = 0; r < m; r++) {
    const base = r * d
    const mu = mv[r]!
    const rs = rv[r]!
    let s1 = 0
    let s2 = 0
    for (let j = 0; j < d; j++) {
      const xh = (xv[base + j]! - mu) * rs
      const dyj = gv[base + j]!
      const dxh = dyj * g[j]!
      xhat[j] = xh
      s1 += dxh
      s2 += dxh * xh
      accG[j]! += dyj * xh
      accB[j]! += dyj
    }
    s1 /= d
    s2 /= d
    for (let j = 0; j < d; j++) dxv[base + j] = rs * (gv[base + j]! * g[j]! - s1 - xhat[j]! * s2)
  }
  heap.f32(dgamma).set(accG)
  heap.f32(dbeta).set(accB)
  return [dx, dgamma, dbeta]
}
