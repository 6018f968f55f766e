/**
 * A GPT-2 decoder in TensorFlow.js: token + learned position embeddings, pre-LN blocks
 * (attention and a 4d tanh-GELU MLP, each on a residual branch), a final layer norm and an LM
 * head tied to the token embedding.
 *
 * Weights are `tf.Variable`s keyed by their Hugging Face names (`transformer.h.0.attn.c_attn.weight`,
 * Conv1D layout [in, out]), so loading and saving a checkpoint is a rename-free copy. All
 * activations are kept 2-D ([B·T, d]) because the fast matmul path of the CPU backends is
 * 2-D; attention is the only place that looks at the sequence structure.
 *
 * Linear layers can be wrapped by a {@link LinearAdapter} (LoRA), which the model calls after
 * each base projection without knowing what it adds.
 */
import * as tf from "@tensorflow/tfjs"
import { causalMaskValues, causalSelfAttention } from "./Attention.js"
import { gelu } from "./Gelu.js"
import type { GptConfig } from "./GptConfig.js"
import { layerNorm } from "./LayerNorm.js"
import { linear, matMulTransposed } from "./Linear.js"
import { deriveSeed, dropoutMask, normalArray, Rng } from "./Random.js"

/** Per-call settings of a forward pass. */
export interface ForwardOptions {
  /** Enables dropout (embedding, attention, residual and adapter dropout). */
  readonly training?: boolean
  /** Seed of this pass's dropout masks; the same seed gives the same masks on every backend. */
  readonly seed?: number
}

/** Something that modifies the output of a named linear module (e.g. LoRA). */
export interface LinearAdapter {
  /** Module names this adapter acts on, e.g. `transformer.h.0.attn.c_attn`. */
  readonly modules: ReadonlySet<string>
  /** Given the module input x and the base output y, return the adapted output. */
  readonly adapt: (module: string, x: tf.Tensor2D, y: tf.Tensor2D, options: ForwardOptions) => tf.Tensor2D
}

/** Keys and values of past positions, per layer: [heads, positions, headDim]. */
export interface KvCache {
  readonly keys: Array<tf.Tensor3D | undefined>
  readonly values: Array<tf.Tensor3D | undefined>
  /** Number of positions already in the cache. */
  length: number
}

export const layerNames = (i: number) => {
  const p = `transformer.h.${i}`
  return {
    ln1: `${p}.ln_1`,
    attn: `${p}.attn.c_attn`,
    attnProj: `${p}.attn.c_proj`,
    ln2: `${p}.ln_2`,
    fc: `${p}.mlp.c_fc`,
    mlpProj: `${p}.mlp.c_proj`
  }
}

/** Every weight of a GPT-2 with this config, as [HF name, shape], in checkpoint order. */
export const weightShapes = (config: GptConfig): Array<[string, Array<number>]> => {
  const { nEmbd: d, nInner: inner, vocabSize: v, nPositions: p } = config
  const shapes: Array<[string, Array<number>]> = [
    ["transformer.wte.weight", [v, d]],
    ["transformer.wpe.weight", [p, d]]
  ]
  for (let i = 0; i < config.nLayer; i++) {
    const n = layerNames(i)
    shapes.push(
      [`${n.ln1}.weight`, [d]], [`${n.ln1}.bias`, [d]],
      [`${n.attn}.weight`, [d, 3 * d]], [`${n.attn}.bias`, [3 * d]],
      [`${n.attnProj}.weight`, [d, d]], [`${n.attnProj}.bias`, [d]],
      [`${n.ln2}.weight`, [d]], [`${n.ln2}.bias`, [d]],
      [`${n.fc}.weight`, [d, inner]], [`${n.fc}.bias`, [inner]],
      [`${n.mlpProj}.weight`, [inner, d]], [`${n.mlpProj}.bias`, [d]]
    )
  }
  shapes.push(["transformer.ln_f.weight", [d]], ["transformer.ln_f.bias", [d]])
  return shapes
}

/**
 * GPT-2's initialisation (transformers `GPT2PreTrainedModel._init_weights`): N(0, 0.02) for
 * matrices and embeddings, residual output projections scaled by 1/√(2·layers) so the
 * residual stream's variance does not grow with depth, zero biases, unit LN gains.
 */
export const initialWeights = (config: GptConfig, seed: number): Map<string, Float32Array> => {
  const rng = Rng.seeded(seed)
  const out = new Map<string, Float32Array>()
  const std = config.initializerRange
  for (const [name, shape] of weightShapes(config)) {
    const size = shape.reduce((a, b) => a * b, 1)
    if (name.endsWith(".bias")) out.set(name, new Float32Array(size))
    else if (/ln_\d\.weight$|ln_f\.weight$/.test(name)) out.set(name, new Float32Array(size).fill(1))
    else if (name.endsWith("c_proj.weight")) out.set(name, normalArray(rng, size, std / Math.sqrt(2 * config.nLayer)))
    else out.set(name, normalArray(rng, size, std))
  }
  return out
}

let instances = 0

const positionIds = (batch: number, seqLen: number): Int32Array => {
  const values = new Int32Array(batch * seqLen)
  for (let i = 0; i < values.length; i++) values[i] = i % seqLen
  return values
}

export class Gpt {
  readonly config: GptConfig
  /** HF name → variable. Trainability is the variable's `trainable` flag. */
  readonly weights: ReadonlyMap<string, tf.Variable>
  adapter: LinearAdapter | undefined
  /** The additive causal mask for the last sequence length seen (training keeps one length). */
  private mask: tf.Tensor2D | undefined
  private headTranspose: { readonly source: tf.Tensor; readonly value: tf.Tensor2D } | undefined

  constructor(config: GptConfig, values: ReadonlyMap<string, Float32Array>) {
    this.config = config
    const id = instances++
    const weights = new Map<string, tf.Variable>()
    for (const [name, shape] of weightShapes(config)) {
      const data = values.get(name)
      if (data === undefined) throw new Error(`GPT weights: missing ${name}`)
      const size = shape.reduce((a, b) => a * b, 1)
      if (data.length !== size) throw new Error(`GPT weights: ${name} has ${data.length} values, expected shape ${JSON.stringify(shape)}`)
      // tfjs variable names are global; the instance id keeps two models apart. tidy disposes
      // the initial tensor, the variable keeps its memory.
      weights.set(name, tf.tidy(() => tf.variable(tf.tensor(data, shape), true, `gpt${id}/${name}`)))
    }
    this.weights = weights
  }

  static create(config: GptConfig, seed = 0): Gpt {
    return new Gpt(config, initialWeights(config, seed))
  }

  weight(name: string): tf.Variable {
    const w = this.weights.get(name)
    if (w === undefined) throw new Error(`GPT: no weight ${name}`)
    return w
  }

  /** Variables that receive gradients (trainable flag set), in checkpoint order. */
  trainableVariables(): Array<tf.Variable> {
    return [...this.weights.values()].filter((v) => v.trainable)
  }

  /** Freeze (or unfreeze) every base weight; LoRA freezes them all. */
  setTrainable(trainable: boolean): void {
    for (const v of this.weights.values()) v.trainable = trainable
  }

  /** Weight values copied out of the backend, by HF name. */
  snapshot(): Map<string, Float32Array> {
    const out = new Map<string, Float32Array>()
    for (const [name, v] of this.weights) out.set(name, v.dataSync() as Float32Array)
    return out
  }

  /** Overwrite weights from values (e.g. restoring the best checkpoint). */
  load(values: ReadonlyMap<string, Float32Array>): void {
    for (const [name, data] of values) {
      const v = this.weight(name)
      const t = tf.tensor(data, v.shape)
      v.assign(t)
      t.dispose()
    }
  }

  /**
   * Final hidden states [B·T, d] (after ln_f) for token ids laid out row-major [B, T].
   * Must run inside `tf.tidy` or a gradient function; intermediates are not disposed here.
   */
  hidden(ids: Int32Array, batch: number, seqLen: number, options: ForwardOptions = {}): tf.Tensor2D {
    const c = this.config
    if (ids.length !== batch * seqLen) throw new Error(`GPT: ${ids.length} ids for batch ${batch} × ${seqLen}`)
    if (seqLen > c.nPositions) throw new Error(`GPT: sequence length ${seqLen} exceeds n_positions ${c.nPositions}`)
    const training = options.training === true
    const seed = options.seed ?? 0
    const idTensor = tf.tensor1d(ids, "int32")
    let x = tf.add(
      tf.gather(this.weight("transformer.wte.weight"), idTensor),
      tf.gather(this.weight("transformer.wpe.weight"), tf.tensor1d(positionIds(batch, seqLen), "int32"))
    ) as tf.Tensor2D
    x = this.dropout(x, c.embdPdrop, training, deriveSeed(seed, 0))
    const mask = this.causalMask(seqLen)
    const shape = { batch, seqLen, heads: c.nHead }
    for (let i = 0; i < c.nLayer; i++) {
      const n = layerNames(i)
      const site = (k: number) => deriveSeed(seed, i + 1, k)
      const h = this.norm(n.ln1, x)
      const qkv = this.project(n.attn, h, options, site(0))
      const dropout = training && c.attnPdrop > 0 ? { rate: c.attnPdrop, seed: site(1) } : undefined
      const att = causalSelfAttention(qkv, shape, mask, dropout)
      x = tf.add(x, this.dropout(this.project(n.attnProj, att, options, site(2)), c.residPdrop, training, site(3)))
      const m = gelu(this.project(n.fc, this.norm(n.ln2, x), options, site(4))) as tf.Tensor2D
      x = tf.add(x, this.dropout(this.project(n.mlpProj, m, options, site(5)), c.residPdrop, training, site(6)))
    }
    return this.norm("transformer.ln_f", x)
  }

  /** LM-head logits [N, V] for hidden rows [N, d] (tied to the token embedding). */
  logits(hidden: tf.Tensor2D): tf.Tensor2D {
    const wte = this.weight("transformer.wte.weight")
    const table = wte as tf.Tensor as tf.Tensor2D
    if (wte.trainable) return matMulTransposed(hidden, table)
    return matMulTransposed(hidden, table, this.frozenHeadTranspose(wte))
  }

  /** Logits [B·T, V] for ids [B, T]. */
  forward(ids: Int32Array, batch: number, seqLen: number, options: ForwardOptions = {}): tf.Tensor2D {
    return tf.tidy(() => this.logits(this.hidden(ids, batch, seqLen, options)))
  }

  newCache(): KvCache {
    return { keys: new Array(this.config.nLayer).fill(undefined), values: new Array(this.config.nLayer).fill(undefined), length: 0 }
  }

  /**
   * Logits [n, V] for `ids` (one sequence) following the positions already in `cache`, which
   * is extended with their keys and values. Inference only (no dropout, no gradients).
   */
  decode(ids: ReadonlyArray<number>, cache: KvCache): tf.Tensor2D {
    const c = this.config
    const n = ids.length
    const past = cache.length
    if (past + n > c.nPositions) throw new Error(`GPT: ${past + n} positions exceed n_positions ${c.nPositions}`)
    const heads = c.nHead
    const hd = c.nEmbd / heads
    const total = past + n
    const logits = tf.tidy(() => {
      const positions = Int32Array.from({ length: n }, (_, i) => past + i)
      let x = tf.add(
        tf.gather(this.weight("transformer.wte.weight"), tf.tensor1d(Int32Array.from(ids), "int32")),
        tf.gather(this.weight("transformer.wpe.weight"), tf.tensor1d(positions, "int32"))
      ) as tf.Tensor2D
      // Query i (absolute position past+i) sees keys 0..past+i.
      const maskValues = new Float32Array(n * total)
      for (let i = 0; i < n; i++) for (let j = past + i + 1; j < total; j++) maskValues[i * total + j] = -1e9
      const mask = tf.tensor2d(maskValues, [n, total])
      for (let i = 0; i < c.nLayer; i++) {
        const names = layerNames(i)
        const qkv = this.project(names.attn, this.norm(names.ln1, x), {}, 0)
        const [q, k, v] = tf.split(qkv, 3, 1).map((m) => tf.transpose(tf.reshape(m, [n, heads, hd]), [1, 0, 2])) as [
          tf.Tensor3D,
          tf.Tensor3D,
          tf.Tensor3D
        ]
        const oldK = cache.keys[i]
        const oldV = cache.values[i]
        const keys = oldK === undefined ? k : tf.concat([oldK, k], 1)
        const values = oldV === undefined ? v : tf.concat([oldV, v], 1)
        // An explicit transpose keeps the batched product un-flagged (the fast path on wasm).
        const scores = tf.matMul(q, tf.transpose(keys, [0, 2, 1]))
        const probs = tf.softmax(tf.add(tf.mul(scores, 1 / Math.sqrt(hd)), mask))
        const att = tf.reshape(tf.transpose(tf.matMul(probs, values), [1, 0, 2]), [n, c.nEmbd]) as tf.Tensor2D
        x = tf.add(x, this.project(names.attnProj, att, {}, 0))
        x = tf.add(x, this.project(names.mlpProj, gelu(this.project(names.fc, this.norm(names.ln2, x), {}, 0)) as tf.Tensor2D, {}, 0))
        tf.keep(keys)
        tf.keep(values)
        oldK?.dispose()
        oldV?.dispose()
        cache.keys[i] = keys
        cache.values[i] = values
      }
      return this.logits(this.norm("transformer.ln_f", x))
    })
    cache.length = total
    return logits
  }

  disposeCache(cache: KvCache): void {
    for (const t of [...cache.keys, ...cache.values]) t?.dispose()
    cache.keys.fill(undefined)
    cache.values.fill(undefined)
    cache.length = 0
  }

  dispose(): void {
    for (const v of this.weights.values()) v.dispose()
    this.mask?.dispose()
    this.headTranspose?.value.dispose()
    this.mask = undefined
    this.headTranspose = undefined
  }

  private norm(prefix: string, x: tf.Tensor2D): tf.Tensor2D {
    return layerNorm(x, this.weight(`${prefix}.weight`) as tf.Tensor1D, this.weight(`${prefix}.bias`) as tf.Tensor1D, this.config.layerNormEpsilon)
  }

  private project(module: string, x: tf.Tensor2D, options: ForwardOptions, seed: number): tf.Tensor2D {
    const y = linear(x, this.weight(`${module}.weight`) as tf.Tensor2D, this.weight(`${module}.bias`) as tf.Tensor1D)
    const adapter = this.adapter
    if (adapter === undefined || !adapter.modules.has(module)) return y
    return adapter.adapt(module, x, y, { training: options.training === true, seed })
  }

  private dropout(x: tf.Tensor2D, rate: number, training: boolean, seed: number): tf.Tensor2D {
    if (!training || rate <= 0) return x
    return tf.mul(x, tf.tensor(dropoutMask(x.size, rate, seed), x.shape)) as tf.Tensor2D
  }

  private causalMask(t: number): tf.Tensor2D {
    if (this.mask === undefined || this.mask.shape[0] !== t) {
      this.mask?.dispose()
      this.mask = tf.keep(tf.tensor2d(causalMaskValues(t), [t, t]))
    }
    return this.mask
  }

  private frozenHeadTranspose(wte: tf.Variable): tf.Tensor2D {
    // Cached per weight version: a variable's tensor changes identity when it is assigned.
    const source = (wte as unknown as { dataId: object }).dataId as unknown as tf.Tensor
    if (this.headTranspose?.source !== source) {
      this.headTranspose?.value.dispose()
      this.headTranspose = { source, value: tf.keep(tf.tidy(() => tf.transpose(wte))) as tf.Tensor2D }
    }
    return this.headTranspose.value
  }
}
