/**
 * LoRA adapters for the GPT-2 model: y = x·W + b + (α/r)·dropout(x)·A·B, with the base W, b
 * frozen and only A [in, r] and B [r, out] trained.
 *
 * Targets: `q`, `k`, `v` (column slices of GPT-2's fused `attn.c_attn` output: q is columns
 * 0..d, k d..2d, v 2d..3d), `c_attn` (the whole fused projection, as PEFT does), `o`
 * (`attn.c_proj`), `c_fc` and `c_proj` (the MLP's two projections). A is drawn like PEFT's
 * kaiming-uniform (U(±1/√in)) and B starts at zero, so a freshly adapted model computes exactly
 * what the base model does.
 *
 * Export uses PEFT's layout so `PeftModel.from_pretrained(base, dir)` loads it: one LoRA per
 * module, weights `lora_A.weight` [R, in] and `lora_B.weight` [out, R], `fan_in_fan_out: true`
 * for GPT-2's Conv1D. Several slices on one module (q and v on c_attn) become one LoRA of rank
 * R = slices·r whose B is block-structured (zeros outside each slice) with alpha scaled by the
 * same factor, which keeps α/r and makes the export exactly equal to the slices. The slice
 * layout is kept in the safetensors metadata so cairn loads it back as slices.
 */
import { mkdir, readFile } from "node:fs/promises"
import { join } from "node:path"
import * as tf from "@tensorflow/tfjs"
import type { ForwardOptions, Gpt, LinearAdapter } from "./Gpt.js"
import { product } from "./Linear.js"
import { writeAtomic } from "./Pretrained.js"
import { deriveSeed, dropoutMask, Rng, uniformArray } from "./Random.js"
import { readSafetensors, writeSafetensors, type F32Tensor } from "./Safetensors.js"

export type LoraTarget = "q" | "k" | "v" | "c_attn" | "o" | "c_fc" | "c_proj"

export interface LoraOptions {
  readonly r: number
  readonly alpha: number
  /** Dropout on the adapter input during training (PEFT `lora_dropout`). */
  readonly dropout?: number
  readonly targetModules: ReadonlyArray<LoraTarget>
  /** Seed of the A initialisation. */
  readonly seed?: number
}

/** One adapter: acts on output columns [outOffset, outOffset + outSize) of `module`. */
export interface LoraSlice {
  readonly module: string
  readonly target: LoraTarget
  /** Output width of the whole module (3d for c_attn). */
  readonly moduleOut: number
  readonly outOffset: number
  readonly outSize: number
  readonly a: tf.Variable
  readonly b: tf.Variable
}

const sliceOrder: ReadonlyArray<LoraTarget> = ["c_attn", "q", "k", "v", "o", "c_fc", "c_proj"]

/** The module suffix each target lives on, and the name PEFT's target_modules uses for it. */
const targetModule: Readonly<Record<LoraTarget, "attn.c_attn" | "attn.c_proj" | "mlp.c_fc" | "mlp.c_proj">> = {
  q: "attn.c_attn",
  k: "attn.c_attn",
  v: "attn.c_attn",
  c_attn: "attn.c_attn",
  o: "attn.c_proj",
  c_fc: "mlp.c_fc",
  c_proj: "mlp.c_proj"
}

let instances = 0

export class Lora implements LinearAdapter {
  readonly options: LoraOptions
  readonly modules: Set<string>
  /** Slices per module, in a fixed order (c_attn, q, k, v, o, c_fc, c_proj). */
  readonly slices: Map<string, Array<LoraSlice>>
  readonly scale: number
  private readonly frozenBefore: Map<string, boolean>

  constructor(options: LoraOptions, slices: ReadonlyArray<LoraSlice>, frozenBefore: Map<string, boolean>) {
    this.options = options
    this.scale = options.alpha / options.r
    this.slices = new Map()
    for (const slice of slices) {
      const list = this.slices.get(slice.module) ?? []
      list.push(slice)
      this.slices.set(slice.module, list)
    }
    for (const list of this.slices.values()) list.sort((x, y) => sliceOrder.indexOf(x.target) - sliceOrder.indexOf(y.target))
    this.modules = new Set(this.slices.keys())
    this.frozenBefore = frozenBefore
  }

  /** Trainable adapter variables, A before B, modules in layer order. */
  variables(): Array<tf.Variable> {
    return this.namedVariables().map(([, v]) => v)
  }

  /** Variables under stable names (`<module>.<target>.lora_A|lora_B`), for checkpoints. */
  namedVariables(): Array<[string, tf.Variable]> {
    return [...this.slices.values()].flatMap((list) =>
      list.flatMap((s): Array<[string, tf.Variable]> => [
        [`${s.module}.${s.target}.lora_A`, s.a],
        [`${s.module}.${s.target}.lora_B`, s.b]
      ])
    )
  }

  adapt(module: string, x: tf.Tensor2D, y: tf.Tensor2D, options: ForwardOptions): tf.Tensor2D {
    const list = this.slices.get(module)
    if (list === undefined) return y
    const rate = this.options.dropout ?? 0
    const input = options.training === true && rate > 0
      ? (tf.mul(x, tf.tensor(dropoutMask(x.size, rate, deriveSeed(options.seed ?? 0, 0x10a)), x.shape)) as tf.Tensor2D)
      : x
    const [a, b] = this.combined(list, y.shape[1])
    return tf.add(y, tf.mul(product(product(input, a), b), this.scale)) as tf.Tensor2D
  }

  /** The module's update as one pair: A = [A₁ … Aₛ] [in, s·r], B = rows of each Bᵢ placed at its columns [s·r, out]. */
  combined(list: ReadonlyArray<LoraSlice>, outWidth: number): [tf.Tensor2D, tf.Tensor2D] {
    if (list.length === 1 && list[0]!.outOffset === 0 && list[0]!.outSize === outWidth) {
      return [list[0]!.a as tf.Tensor as tf.Tensor2D, list[0]!.b as tf.Tensor as tf.Tensor2D]
    }
    const a = tf.concat(list.map((s) => s.a as tf.Tensor as tf.Tensor2D), 1)
    const b = tf.concat(
      list.map((s) => tf.pad(s.b as tf.Tensor as tf.Tensor2D, [[0, 0], [s.outOffset, outWidth - s.outOffset - s.outSize]])),
      0
    )
    return [a, b]
  }

  /** The base trainable flags from before `applyLora`, to restore after merging. */
  baseTrainable(): ReadonlyMap<string, boolean> {
    return this.frozenBefore
  }

  dispose(): void {
    for (const v of this.variables()) v.dispose()
  }
}

const moduleWidths = (model: Gpt, module: string): { in: number; out: number } => {
  const [inDim, outDim] = model.weight(`${module}.weight`).shape as [number, number]
  return { in: inDim, out: outDim }
}

const sliceRange = (target: LoraTarget, d: number, out: number): [number, number] => {
  switch (target) {
    case "q":
      return [0, d]
    case "k":
      return [d, d]
    case "v":
      return [2 * d, d]
    default:
      return [0, out]
  }
}

const validate = (options: LoraOptions): void => {
  if (!Number.isInteger(options.r) || options.r < 1) throw new Error(`LoRA: r must be a positive integer, got ${options.r}`)
  if (!(options.alpha > 0)) throw new Error(`LoRA: alpha must be positive, got ${options.alpha}`)
  const p = options.dropout ?? 0
  if (!(p >= 0 && p < 1)) throw new Error(`LoRA: dropout must be in [0, 1), got ${p}`)
  if (options.targetModules.length === 0) throw new Error("LoRA: targetModules is empty")
  const set = new Set(options.targetModules)
  for (const t of set) if (!(t in targetModule)) throw new Error(`LoRA: unknown target module ${t}`)
  if (set.has("c_attn") && (set.has("q") || set.has("k") || set.has("v"))) {
    throw new Error("LoRA: c_attn already covers q, k and v; list either c_attn or the slices")
  }
}

/**
 * Freeze every base weight and attach new adapters to the model (A random, B zero).
 * Returns the adapter; its `variables()` are what the optimiser trains.
 */
export const applyLora = (model: Gpt, options: LoraOptions): Lora => {
  validate(options)
  if (model.adapter !== undefined) throw new Error("LoRA: the model already has an adapter; merge or remove it first")
  const rng = Rng.seeded(options.seed ?? 0)
  const d = model.config.nEmbd
  const targets = sliceOrder.filter((t) => options.targetModules.includes(t))
  const values = new Map<string, { a: Float32Array; b: Float32Array }>()
  for (let i = 0; i < model.config.nLayer; i++) {
    for (const target of targets) {
      const module = `transformer.h.${i}.${targetModule[target]}`
      const widths = moduleWidths(model, module)
      const [, size] = sliceRange(target, d, widths.out)
      // PEFT: kaiming_uniform_(a=√5) on [r, in] is U(±1/√in).
      values.set(`${module}:${target}`, {
        a: uniformArray(rng, widths.in * options.r, 1 / Math.sqrt(widths.in)),
        b: new Float32Array(options.r * size)
      })
    }
  }
  return attach(model, options, values)
}

/** Build slices from values keyed `${module}:${target}` and attach them, freezing the base. */
const attach = (model: Gpt, options: LoraOptions, values: ReadonlyMap<string, { a: Float32Array; b: Float32Array }>): Lora => {
  const id = instances++
  const d = model.config.nEmbd
  const slices: Array<LoraSlice> = []
  for (const [key, v] of values) {
    const [module, target] = key.split(":") as [string, LoraTarget]
    const widths = moduleWidths(model, module)
    const [outOffset, outSize] = sliceRange(target, d, widths.out)
    const rank = v.a.length / widths.in
    slices.push({
      module,
      target,
      moduleOut: widths.out,
      outOffset,
      outSize,
      // tidy disposes the initial tensors; the variables keep their memory.
      a: tf.tidy(() => tf.variable(tf.tensor2d(v.a, [widths.in, rank]), true, `lora${id}/${module}.${target}.A`)),
      b: tf.tidy(() => tf.variable(tf.tensor2d(v.b, [rank, outSize]), true, `lora${id}/${module}.${target}.B`))
    })
  }
  const frozenBefore = new Map([...model.weights].map(([name, w]) => [name, w.trainable]))
  model.setTrainable(false)
  const lora = new Lora(options, slices, frozenBefore)
  model.adapter = lora
  return lora
}

/**
 * Fold the adapters into the base weights (W += (α/r)·A·B per module), detach them and restore
 * the base weights' trainable flags. The merged model computes what the adapted one did.
 */
export const mergeLora = (model: Gpt, lora: Lora): void => {
  for (const [module, list] of lora.slices) {
    const w = model.weight(`${module}.weight`)
    tf.tidy(() => {
      const [a, b] = lora.combined(list, w.shape[1]!)
      w.assign(tf.add(w, tf.mul(tf.matMul(a, b), lora.scale)))
    })
  }
  model.adapter = undefined
  for (const [name, trainable] of lora.baseTrainable()) model.weight(name).trainable = trainable
  lora.dispose()
}

/** Detach adapters without merging, restoring the base model. */
export const removeLora = (model: Gpt, lora: Lora): void => {
  model.adapter = undefined
  for (const [name, trainable] of lora.baseTrainable()) model.weight(name).trainable = trainable
  lora.dispose()
}

const pefPrefix = "base_model.model."
const sliceMetadataKey = "cairn.lora_slices"

interface SliceLayout {
  readonly target: LoraTarget
  readonly outOffset: number
  readonly outSize: number
}

/** PEFT tensors (name → [R, in] / [out, R]) and the slice layout for cairn. */
export const peftTensors = (lora: Lora): { tensors: Map<string, F32Tensor>; layout: Record<string, Array<SliceLayout>> } => {
  const tensors = new Map<string, F32Tensor>()
  const layout: Record<string, Array<SliceLayout>> = {}
  for (const [module, list] of lora.slices) {
    const inDim = list[0]!.a.shape[0]!
    const rank = list.reduce((sum, s) => sum + s.a.shape[1]!, 0)
    const width = list[0]!.moduleOut
    const a = new Float32Array(rank * inDim)
    const b = new Float32Array(width * rank)
    let first = 0 // first PEFT rank row of this slice
    for (const s of list) {
      const r = s.a.shape[1]!
      const av = s.a.dataSync() as Float32Array // [in, r]
      const bv = s.b.dataSync() as Float32Array // [r, size]
      for (let row = 0; row < inDim; row++) for (let c = 0; c < r; c++) a[(first + c) * inDim + row] = av[row * r + c]!
      for (let c = 0; c < r; c++) for (let col = 0; col < s.outSize; col++) b[(s.outOffset + col) * rank + first + c] = bv[c * s.outSize + col]!
      first += r
    }
    tensors.set(`${pefPrefix}${module}.lora_A.weight`, { shape: [rank, inDim], data: a })
    tensors.set(`${pefPrefix}${module}.lora_B.weight`, { shape: [width, rank], data: b })
    layout[module] = list.map((s) => ({ target: s.target, outOffset: s.outOffset, outSize: s.outSize }))
  }
  return { tensors, layout }
}

/** Write `adapter_config.json` + `adapter_model.safetensors` (PEFT layout) into `dir`. */
export const saveLoraAdapter = async (lora: Lora, dir: string, baseModel = ""): Promise<void> => {
  await mkdir(dir, { recursive: true })
  const { tensors, layout } = peftTensors(lora)
  const { r, alpha } = lora.options
  const rankPattern: Record<string, number> = {}
  const alphaPattern: Record<string, number> = {}
  const peftTargets = new Set<string>()
  for (const list of lora.slices.values()) {
    const name = targetModule[list[0]!.target]
    peftTargets.add(name)
    const rank = list.reduce((sum, s) => sum + s.a.shape[1]!, 0)
    if (rank !== r) {
      rankPattern[name] = rank
      alphaPattern[name] = rank * lora.scale
    }
  }
  const config = {
    alpha_pattern: alphaPattern,
    base_model_name_or_path: baseModel,
    bias: "none",
    fan_in_fan_out: true,
    inference_mode: true,
    init_lora_weights: true,
    layers_to_transform: null,
    lora_alpha: alpha,
    lora_dropout: lora.options.dropout ?? 0,
    modules_to_save: null,
    peft_type: "LORA",
    r,
    rank_pattern: rankPattern,
    revision: null,
    target_modules: [...peftTargets].sort(),
    task_type: "CAUSAL_LM",
    use_dora: false,
    use_rslora: false
  }
  await writeAtomic(join(dir, "adapter_model.safetensors"), writeSafetensors(tensors, { format: "pt", [sliceMetadataKey]: JSON.stringify(layout) }))
  await writeAtomic(join(dir, "adapter_config.json"), JSON.stringify(config, null, 2) + "\n")
}

/**
 * Load a PEFT LoRA adapter from `dir` onto `model` (freezing the base). Adapters written by
 * cairn come back as their slices; other PEFT adapters (GPT-2 targets c_attn, c_proj, c_fc)
 * load as whole-module adapters.
 */
export const loadLoraAdapter = async (model: Gpt, dir: string): Promise<Lora> => {
  const config = JSON.parse(await readFile(join(dir, "adapter_config.json"), "utf8")) as Record<string, unknown>
  if (config["peft_type"] !== "LORA") throw new Error(`adapter: peft_type ${String(config["peft_type"])} is not LORA`)
  if (config["fan_in_fan_out"] === false) throw new Error("adapter: fan_in_fan_out=false does not match GPT-2's Conv1D layers")
  if (config["use_dora"] === true || config["use_rslora"] === true) throw new Error("adapter: DoRA / rsLoRA are not supported")
  const file = readSafetensors(new Uint8Array(await readFile(join(dir, "adapter_model.safetensors"))))
  const layout = file.metadata[sliceMetadataKey] === undefined
    ? undefined
    : (JSON.parse(file.metadata[sliceMetadataKey]) as Record<string, Array<SliceLayout>>)
  const r = Number(config["r"])
  const alpha = Number(config["lora_alpha"])
  const rankPattern = (config["rank_pattern"] ?? {}) as Record<string, number>
  const alphaPattern = (config["alpha_pattern"] ?? {}) as Record<string, number>
  const values = new Map<string, { a: Float32Array; b: Float32Array }>()
  const targets = new Set<LoraTarget>()
  for (const [name, a] of file.tensors) {
    const match = /^(?:base_model\.model\.)?(?:transformer\.)?(h\.\d+\.(?:attn|mlp)\.c_\w+)\.lora_A(?:\.default)?\.weight$/.exec(name)
    if (match === null) continue
    const module = `transformer.${match[1]}`
    const b = file.tensors.get(name.replace("lora_A", "lora_B"))
    if (b === undefined) throw new Error(`adapter: ${name} has no matching lora_B`)
    const suffix = module.replace(/^transformer\.h\.\d+\./, "")
    const rank = a.shape[0]!
    const inDim = a.shape[1]!
    const width = b.shape[0]!
    // A module's own rank/alpha must give the same α/r as the adapter's; cairn keeps one scale.
    const moduleR = rankPattern[suffix] ?? r
    const moduleAlpha = alphaPattern[suffix] ?? alpha
    if (rank !== moduleR || Math.abs(moduleAlpha / moduleR - alpha / r) > 1e-12) {
      throw new Error(`adapter: ${module} has rank ${rank} and alpha ${moduleAlpha}; cairn needs alpha/r = ${alpha / r} on every module`)
    }
    const slices: Array<SliceLayout> = layout?.[module] ?? [{ target: defaultTarget(suffix), outOffset: 0, outSize: width }]
    const sliceRank = rank / slices.length
    slices.forEach((s, i) => {
      const av = new Float32Array(inDim * sliceRank)
      const bv = new Float32Array(sliceRank * s.outSize)
      for (let row = 0; row < inDim; row++) for (let c = 0; c < sliceRank; c++) av[row * sliceRank + c] = a.data[(i * sliceRank + c) * inDim + row]!
      for (let c = 0; c < sliceRank; c++) for (let col = 0; col < s.outSize; col++) bv[c * s.outSize + col] = b.data[(s.outOffset + col) * rank + i * sliceRank + c]!
      values.set(`${module}:${s.target}`, { a: av, b: bv })
      targets.add(s.target)
    })
  }
  if (values.size === 0) throw new Error(`adapter: no LoRA weights found in ${dir}`)
  return attach(model, {
    r,
    alpha,
    dropout: Number(config["lora_dropout"] ?? 0),
    targetModules: sliceOrder.filter((t) => targets.has(t))
  }, values)
}

const defaultTarget = (suffix: string): LoraTarget => {
  switch (suffix) {
    case "attn.c_attn":
      return "c_attn"
    case "attn.c_proj":
      return "o"
    case "mlp.c_fc":
      return "c_fc"
    default:
      return "c_proj"
  }
}
