/**
 * The train stage's work: instruction fine-tuning of a model directory (from pretrain, or a
 * Hugging Face GPT-2 checkpoint), full or LoRA, on one or more datasets with mixing weights.
 *
 * The output is a full model directory, or with LoRA and `merge: false` a PEFT adapter
 * directory that names the base model (as the stage was given it) and carries the tokenizer.
 * With early stopping the trainer puts the best evaluated weights back, so those are what is
 * written.
 */
import { readJsonl } from "../data/Jsonl.js"
import { mergeLora, Lora, type LoraTarget } from "../model/Lora.js"
import { tokenizeRecords } from "./Examples.js"
import { describe, isAdapterDir, loadModelDir, saveAdapterDir, saveModelDir } from "./ModelDir.js"
import { removeScratch, scratchDir } from "./Scratch.js"
import type { TrainingStageOptions } from "./Settings.js"
import { openStageBackend } from "./StageBackend.js"
import type { StageHooks } from "./StageTask.js"
import { publishCurve, runTraining, writeTrainingMetrics } from "./Training.js"

export interface AdapterSettings {
  readonly type: "none" | "lora"
  readonly r: number
  readonly alpha: number
  readonly dropout: number
  readonly targetModules: ReadonlyArray<LoraTarget>
}

export interface FineTuneOptions extends TrainingStageOptions {
  /** Absolute path of the base model directory, and the path as the params give it. */
  readonly baseModel: string
  readonly baseModelName: string
  readonly trainOnInputs: boolean
  readonly adapter: AdapterSettings
  readonly merge: boolean
}

export const fineTune = async (o: FineTuneOptions, hooks: StageHooks): Promise<void> => {
  if (isAdapterDir(o.baseModel)) throw new Error(`${o.baseModelName} is an adapter directory; train from a full model (merge the adapter first)`)
  const backend = await openStageBackend(o, hooks)
  const loaded = await loadModelDir(o.baseModel)
  const { model, tokenizer } = loaded
  hooks.log(`base: ${loaded.description}`)
  const s = o.settings
  const exampleOptions = { format: "instruction" as const, trainOnInputs: o.trainOnInputs, ...(s.packing ? {} : { maxLength: s.seqLen }) }
  const datasets = await Promise.all(o.datasets.map(async (d) => {
    const records = await readJsonl(d.path)
    const set = tokenizeRecords(records, tokenizer, exampleOptions)
    hooks.log(`${d.name}: ${records.length} record(s), ${set.targets.toLocaleString("en-US")} target tokens` + (d.weight === undefined ? "" : `, weight ${d.weight}`) + (set.truncated > 0 ? `, ${set.truncated} shortened to ${s.seqLen} tokens` : ""))
    return { name: d.name, examples: set.examples, ...(d.weight === undefined ? {} : { weight: d.weight }) }
  }))
  const validation = o.validation === undefined ? [] : tokenizeRecords(await readJsonl(o.validation), tokenizer, { ...exampleOptions, maxLength: s.seqLen }).examples
  const lora = o.adapter.type === "lora"
    ? { r: o.adapter.r, alpha: o.adapter.alpha, dropout: o.adapter.dropout, targetModules: o.adapter.targetModules, seed: s.seed }
    : undefined
  const inputs = [o.baseModel, ...o.datasets.map((d) => d.path), ...(o.validation === undefined ? [] : [o.validation])]
  const scratch = await scratchDir(o.workspace, o.stage, { ...o.key, inputs })
  hooks.log(lora === undefined ? "full fine-tuning" : `LoRA r ${lora.r}, alpha ${lora.alpha}, dropout ${lora.dropout} on ${lora.targetModules.join(", ")}`)
  const result = await runTraining({
    model,
    ...(lora === undefined ? {} : { lora }),
    datasets,
    validation,
    padId: tokenizer.specialTokens.pad,
    settings: s,
    scratch,
    hooks
  })
  const adapter = model.adapter instanceof Lora ? model.adapter : undefined
  let output: "model" | "merged" | "adapter" = "model"
  if (adapter !== undefined && o.merge) {
    mergeLora(model, adapter)
    output = "merged"
    await saveModelDir(model, tokenizer, o.out)
  } else if (adapter !== undefined) {
    output = "adapter"
    await saveAdapterDir(adapter, tokenizer, o.out, o.baseModelName, model.config.nPositions)
  } else {
    await saveModelDir(model, tokenizer, o.out)
  }
  await publishCurve(scratch, o.curve)
  await writeTrainingMetrics(o.metrics, result, {
    backend: backend.name,
    method: lora === undefined ? "full" : "lora",
    output,
    baseModel: o.baseModelName,
    model: describe(model),
    examples: { train: datasets.reduce((n, d) => n + d.examples.length, 0), validation: validation.length }
  })
  if (output === "adapter") adapter!.dispose()
  model.dispose()
  await removeScratch(scratch)
  hooks.log(`wrote ${output === "adapter" ? "adapter" : "model"} ${o.out}`)
}
