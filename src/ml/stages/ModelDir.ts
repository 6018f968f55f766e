/**
 * Model directories as the ML stages read and write them.
 *
 * A full model is the Hugging Face layout (`config.json`, `model.safetensors`) plus its
 * tokenizer (`tokenizer.json` and `tokenizer_config.json`, or GPT-2's `vocab.json` +
 * `merges.txt` in a checkpoint that came from elsewhere). An adapter directory is PEFT's layout
 * (`adapter_config.json`, `adapter_model.safetensors`) plus the tokenizer it was trained with;
 * it is loaded on top of the base model it names.
 *
 * Fine-tuning needs the instruction template's markers, which GPT-2's vocabulary lacks: the
 * tokenizer gains them as new ids and the token embedding grows to match, as with HF's
 * `resize_token_embeddings`. The new rows are a deterministic function of the base weights
 * (their mean plus seeded noise), so an adapter trained on a grown base loads again exactly
 * from the base model alone.
 */
import { existsSync } from "node:fs"
import { mkdir, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Gpt } from "../model/Gpt.js"
import { loadLoraAdapter, saveLoraAdapter, type Lora } from "../model/Lora.js"
import { loadGpt, saveGpt } from "../model/Pretrained.js"
import { deriveSeed, normalArray, Rng } from "../model/Random.js"
import { BpeTokenizer } from "../tokenizer/BpeTokenizer.js"
import { loadGpt2Tokenizer } from "../tokenizer/Gpt2.js"
import { DEFAULT_SPECIAL_TOKENS } from "../tokenizer/Tokenizer.js"
import { loadTokenizerJson, saveTokenizerJson, tokenizerConfigJson } from "../tokenizer/TokenizerJson.js"

export interface LoadedModel {
  readonly model: Gpt
  readonly tokenizer: BpeTokenizer
  /** Present when the directory was an adapter, attached (not merged) to its base. */
  readonly adapter?: Lora
  /** One line for the log: what was loaded and from where. */
  readonly description: string
}

export const isAdapterDir = (dir: string): boolean => existsSync(join(dir, "adapter_config.json"))

/**
 * The tokenizer stored with a model: `tokenizer.json`, else GPT-2's `vocab.json` + `merges.txt`.
 * The template markers are added when missing.
 */
export const loadTokenizerDir = (dir: string): BpeTokenizer => {
  const json = join(dir, "tokenizer.json")
  if (existsSync(json)) return loadTokenizerJson(json, { specialTokens: DEFAULT_SPECIAL_TOKENS })
  if (existsSync(join(dir, "vocab.json")) && existsSync(join(dir, "merges.txt"))) {
    return loadGpt2Tokenizer(dir, { specialTokens: DEFAULT_SPECIAL_TOKENS })
  }
  throw new Error(`${dir}: no tokenizer (tokenizer.json, or vocab.json + merges.txt)`)
}

/** Seed of the rows a grown embedding gets; fixed so that growth is reproducible. */
const GROWTH_SEED = 0x7e5e

/**
 * The model with its token embedding grown to `vocabSize` rows (the model itself when it is
 * large enough). Disposes `model` when it returns a new one.
 */
export const fitVocabulary = (model: Gpt, vocabSize: number): Gpt => {
  const { config } = model
  if (vocabSize <= config.vocabSize) return model
  const values = model.snapshot()
  const old = values.get("transformer.wte.weight")!
  const d = config.nEmbd
  const mean = new Float64Array(d)
  for (let i = 0; i < config.vocabSize; i++) for (let j = 0; j < d; j++) mean[j]! += old[i * d + j]! / config.vocabSize
  const grown = new Float32Array(vocabSize * d)
  grown.set(old)
  for (let i = config.vocabSize; i < vocabSize; i++) {
    const noise = normalArray(Rng.seeded(deriveSeed(GROWTH_SEED, i)), d, config.initializerRange)
    for (let j = 0; j < d; j++) grown[i * d + j] = mean[j]! + noise[j]!
  }
  values.set("transformer.wte.weight", grown)
  const bigger = new Gpt({ ...config, vocabSize }, values)
  model.dispose()
  return bigger
}

const loadFull = async (dir: string, tokenizer: BpeTokenizer): Promise<Gpt> => {
  if (!existsSync(join(dir, "config.json")) || !existsSync(join(dir, "model.safetensors"))) {
    throw new Error(`${dir}: not a model directory (config.json + model.safetensors)`)
  }
  return fitVocabulary(await loadGpt(dir), tokenizer.vocabSize)
}

/**
 * Load a model directory, or an adapter directory on top of `base` (a full model directory).
 * An adapter's own tokenizer wins over the base's, since it is the one it was trained with.
 */
export const loadModelDir = async (dir: string, base?: string): Promise<LoadedModel> => {
  if (!existsSync(dir)) throw new Error(`${dir}: no such model directory`)
  if (!isAdapterDir(dir)) {
    const tokenizer = loadTokenizerDir(dir)
    const model = await loadFull(dir, tokenizer)
    return { model, tokenizer, description: `model ${dir} (${describe(model)})` }
  }
  if (base === undefined) throw new Error(`${dir} is a LoRA adapter: name the model it adapts (base)`)
  const tokenizer = existsSync(join(dir, "tokenizer.json")) ? loadTokenizerDir(dir) : loadTokenizerDir(base)
  const model = await loadFull(base, tokenizer)
  const adapter = await loadLoraAdapter(model, dir)
  return {
    model,
    tokenizer,
    adapter,
    description: `LoRA adapter ${dir} (r ${adapter.options.r}, alpha ${adapter.options.alpha}, ${adapter.options.targetModules.join("+")}) on ${base} (${describe(model)})`
  }
}

export const describe = (model: Gpt): string => {
  const c = model.config
  let parameters = 0
  for (const v of model.weights.values()) parameters += v.size
  return `d ${c.nEmbd}, ${c.nLayer} layer(s), ${c.nHead} head(s), vocab ${c.vocabSize}, context ${c.nPositions}, ${parameters.toLocaleString("en-US")} parameters`
}

const writeTokenizer = async (tokenizer: BpeTokenizer, dir: string, contextSize: number): Promise<void> => {
  saveTokenizerJson(tokenizer, join(dir, "tokenizer.json"))
  await writeFile(join(dir, "tokenizer_config.json"), JSON.stringify(tokenizerConfigJson(tokenizer, contextSize), null, 2) + "\n")
}

/** A full model directory: config.json, model.safetensors, tokenizer.json, tokenizer_config.json. */
export const saveModelDir = async (model: Gpt, tokenizer: BpeTokenizer, dir: string): Promise<void> => {
  await saveGpt(model, dir)
  await writeTokenizer(tokenizer, dir, model.config.nPositions)
}

/**
 * An adapter directory (PEFT layout) naming `baseModel` (as given to the stage, workspace-
 * relative), with the tokenizer it was trained with.
 */
export const saveAdapterDir = async (adapter: Lora, tokenizer: BpeTokenizer, dir: string, baseModel: string, contextSize: number): Promise<void> => {
  await mkdir(dir, { recursive: true })
  await saveLoraAdapter(adapter, dir, baseModel)
  await writeTokenizer(tokenizer, dir, contextSize)
}
