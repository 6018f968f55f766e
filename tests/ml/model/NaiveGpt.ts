/**
 * An independent, loop-by-loop GPT-2 forward pass in float64 for checking the TensorFlow.js
 * model against (HF semantics: Conv1D weights [in, out], pre-LN, tanh GELU, tied head).
 */
import type { GptConfig } from "../../../src/ml/model/GptConfig.js"

export const naiveLogits = (config: GptConfig, w: ReadonlyMap<string, Float32Array>, ids: ReadonlyArray<number>): Array<Array<number>> => {
  const d = config.nEmbd
  const t = ids.length
  const get = (name: string) => {
    const v = w.get(name)
    if (v === undefined) throw new Error(`missing ${name}`)
    return v
  }
  const wte = get("transformer.wte.weight")
  const wpe = get("transformer.wpe.weight")
  let x = ids.map((id, p) => Array.from({ length: d }, (_, j) => wte[id * d + j]! + wpe[p * d + j]!))
  const ln = (rows: Array<Array<number>>, prefix: string) => {
    const g = get(`${prefix}.weight`)
    const b = get(`${prefix}.bias`)
    return rows.map((r) => {
      const mean = r.reduce((a, c) => a + c, 0) / r.length
      const variance = r.reduce((a, c) => a + (c - mean) ** 2, 0) / r.length
      return r.map((c, j) => ((c - mean) / Math.sqrt(variance + config.layerNormEpsilon)) * g[j]! + b[j]!)
    })
  }
  const lin = (rows: Array<Array<number>>, prefix: string) => {
    const W = get(`${prefix}.weight`)
    const b = get(`${prefix}.bias`)
    const out = b.length
    const inDim = rows[0]!.length
    return rows.map((r) => Array.from({ length: out }, (_, o) => {
      let s = b[o]!
      for (let i = 0; i < inDim; i++) s += r[i]! * W[i * out + o]!
      return s
    }))
  }
  const gelu = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)))
  const h = config.nHead
  const hd = d / h
  for (let l = 0; l < config.nLayer; l++) {
    const p = `transformer.h.${l}`
    const qkv = lin(ln(x, `${p}.ln_1`), `${p}.attn.c_attn`)
    const att = x.map(() => new Array<number>(d).fill(0))
    for (let head = 0; head < h; head++) {
      for (let i = 0; i < t; i++) {
        const scores: Array<number> = []
        for (let j = 0; j <= i; j++) {
          let s = 0
          for (let k = 0; k < hd; k++) s += qkv[i]![head * hd + k]! * qkv[j]![d + head * hd + k]!
          scores.push(s / Math.sqrt(hd))
        }
        const m = Math.max(...scores)
        const e = scores.map((s) => Math.exp(s - m))
        const z = e.reduce((a, c) => a + c, 0)
        for (let k = 0; k < hd; k++) {
          let s = 0
          for (let j = 0; j <= i; j++) s += (e[j]! / z) * qkv[j]![2 * d + head * hd + k]!
          att[i]![head * hd + k] = s
        }
      }
    }
    const a = lin(att, `${p}.attn.c_proj`)
    x = x.map((r, i) => r.map((c, j) => c + a[i]![j]!))
    const f = lin(lin(ln(x, `${p}.ln_2`), `${p}.mlp.c_fc`).map((r) => r.map(gelu)), `${p}.mlp.c_proj`)
    x = x.map((r, i) => r.map((c, j) => c + f[i]![j]!))
  }
  const final = ln(x, "transformer.ln_f")
  return final.map((r) => Array.from({ length: config.vocabSize }, (_, v) => {
    let s = 0
    for (let j = 0; j < d; j++) s += r[j]! * wte[v * d + j]!
    return s
  }))
}
