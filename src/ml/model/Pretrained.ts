/**
 * GPT-2 model directories in the Hugging Face layout: `config.json` + `model.safetensors`.
 *
 * Checkpoints differ in small ways that loading tolerates: `GPT2LMHeadModel` prefixes keys with
 * `transformer.` while `GPT2Model` (and the original openai-community/gpt2 file) does not; older
 * files carry the `attn.bias` / `attn.masked_bias` mask buffers, which are constants and are
 * skipped; a stored `lm_head.weight` must equal the token embedding, since cairn's head is tied.
 * Saving writes what `GPT2LMHeadModel.save_pretrained` writes: prefixed keys, no buffers, no
 * head, metadata `{"format": "pt"}`.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises"
import { join } from "node:path"
import { Gpt } from "./Gpt.js"
import { fromHfConfig, toHfConfig, type GptConfig } from "./GptConfig.js"
import { readSafetensors, writeSafetensors, type F32Tensor } from "./Safetensors.js"

const bufferSuffixes = [".attn.bias", ".attn.masked_bias"]

/** Map a checkpoint's tensors to cairn's (HF `GPT2LMHeadModel`) names. */
export const canonicalWeights = (
  config: GptConfig,
  tensors: ReadonlyMap<string, F32Tensor>
): Map<string, Float32Array> => {
  const out = new Map<string, Float32Array>()
  let head: F32Tensor | undefined
  for (const [rawName, tensor] of tensors) {
    if (rawName === "lm_head.weight") {
      head = tensor
      continue
    }
    const name = rawName.startsWith("transformer.") ? rawName : `transformer.${rawName}`
    if (bufferSuffixes.some((s) => name.endsWith(s))) continue
    out.set(name, tensor.data)
  }
  if (head !== undefined) {
    const wte = out.get("transformer.wte.weight")
    if (wte === undefined || wte.length !== head.data.length || wte.some((v, i) => v !== head!.data[i])) {
      throw new Error("checkpoint: lm_head.weight differs from the token embedding; only tied heads are supported")
    }
  }
  const extra = [...out.keys()].find((k) => Number(/\.h\.(\d+)\./.exec(k)?.[1] ?? -1) >= config.nLayer)
  if (extra !== undefined) throw new Error(`checkpoint: ${extra} is beyond n_layer ${config.nLayer}`)
  return out
}

export const readHfConfig = async (dir: string): Promise<GptConfig> =>
  fromHfConfig(JSON.parse(await readFile(join(dir, "config.json"), "utf8")) as Record<string, unknown>)

/** Load `dir/config.json` and `dir/model.safetensors` into a new model. */
export const loadGpt = async (dir: string): Promise<Gpt> => {
  const config = await readHfConfig(dir)
  const file = readSafetensors(new Uint8Array(await readFile(join(dir, "model.safetensors"))))
  return new Gpt(config, canonicalWeights(config, file.tensors))
}

/** The model's weights as safetensors bytes (HF names, Conv1D layout). */
export const gptSafetensors = (model: Gpt): Uint8Array => {
  const tensors = new Map<string, F32Tensor>()
  for (const [name, v] of model.weights) tensors.set(name, { shape: v.shape, data: v.dataSync() as Float32Array })
  return writeSafetensors(tensors, { format: "pt" })
}

/** Write `config.json` and `model.safetensors` into `dir` (created if missing). */
export const saveGpt = async (model: Gpt, dir: string, extraConfig: Readonly<Record<string, unknown>> = {}): Promise<void> => {
  await mkdir(dir, { recursive: true })
  await writeAtomic(join(dir, "model.safetensors"), gptSafetensors(model))
  await writeAtomic(join(dir, "config.json"), JSON.stringify({ ...toHfConfig(model.config), ...extraConfig }, null, 2) + "\n")
}

/** Write to a sibling temp file, then rename: readers never see a half-written file. */
export const writeAtomic = async (path: string, data: Uint8Array | string): Promise<void> => {
  const tmp = `${path}.tmp-${process.pid}`
  await writeFile(tmp, data)
  await rename(tmp, path)
}
