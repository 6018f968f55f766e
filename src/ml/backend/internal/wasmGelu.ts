/**
 * tanh-GELU on the wasm heap. Uses the identity 0.5·x·(1 + tanh(u)) = x·σ(2u), which is the
 * same function (not the 1.702·x sigmoid approximation), because XNNPACK's vectorised sigmoid
 * is about 20x faster here than either the wasm Tanh kernel or JS Math.tanh.
 * The forward also returns s = σ(2u) for the backward: d/dx = s + x·s·(1-s)·2c·(1 + 3k·x²).
 */
import { Heap, type TensorInfo } from "./wasmHeap.js"

const twoC = 2 * Math.sqrt(2 / Math.PI)
const k = 0.044715

export const geluForward = (heap: Heap, x: TensorInfo): [TensorInfo, TensorInfo] => {
  const n = x.shape.reduce((a, b) => a * b, 1)
  const y = heap.output([...x.shape])
  const s = heap.output([...x.shape])
  {
    const xv = heap.f32(x)
    const sv = heap.f32(s)
    for (let i = 0; i < n; i++) {
      const v = xv[i]!
      sv[i] = twoC * (v + k * v * v * v)
    }
  }
  heap.sigmoid(heap.offset(s), heap.offset(s), n)
  const xv = heap.f32(x)
  const sv = heap.f32(s)
  const yv = heap.f32(y)
  for (let i = 0; i < n; i++) yv[i] = xv[i]! * sv[i]!
  return [y, s]
}

export const geluBackward = (heap: Heap, dy: TensorInfo, x: TensorInfo, s: TensorInfo): TensorInfo => {
  const n = x.shape.reduce((a, b) => a * b, 1)
  const dx = heap.output([...x.shape])
  const xv = heap.f32(x)
  const sv = heap.f32(s)
  const gv = heap.f32(dy)
  const dxv = heap.f32(dx)
  for (let i = 0; i < n; i++) {
    const v = xv[i]!
    const si = sv[i]!
    dxv[i] = gv[i]! * (si + v * si * (1 - si) * twoC * (1 + 3 * k * v * v))
  }
  return dx
}
