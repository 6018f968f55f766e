/**
 * The pretrain stage's work: a small GPT-2 trained from scratch on a corpus of canonical
 * records, with a byte-level BPE tokenizer trained on the same corpus (or one given), written
 * as a model directory that the train and evaluate stages (and Hugging Face tools) load.
 */
import { stat } from "node:fs/promises"
import { readJsonl } from "../data/Jsonl.js"
import type { DataRecord } from "../data/DataRecord.js"
import { Gpt } from "../model/Gpt.js"
import { gptConfig } from "../model/GptConfig.js"
import type { BpeTokenizer } from "../tokenizer/BpeTokenizer.js"
import { DEFAULT_SPECIAL_TOKENS } from "../tokenizer/Tokenizer.js"
import { loadTokenizerJson } from "../tokenizer/TokenizerJson.js"
import { trainBpe } from "../tokenizer/TrainBpe.js"
import { tokenizeRecords, type ExampleFormat } from "./Examples.js"
import { describe, loadTokenizerDir, saveModelDir } from "./ModelDir.js"
import { removeScratch, scratchDir } from "./Scratch.js"
import type { TrainingStageOptions } from "./Settings.js"
import { openStageBackend } from "./StageBackend.js"
import type { StageHooks } from "./StageTask.js"
import { publishCurve, runTraining, writeTrainingMetrics } from "./Training.js"

export interface PretrainOptions extends TrainingStageOptions {
  readonly tokenizer: { readonly path?: string; readonly vocabSize: number; readonly minFrequency: number }
  readonly format: ExampleFormat
  readonly trainOnInputs: boolean
  readonly model: { readonly nEmbd: number; readonly nLayer: number; readonly nHead: number; readonly nPositions: number; readonly dropout: number }
}

/** The texts the tokenizer is trained on: prompts and completions as separate pieces. */
const corpusTexts = function*(records: ReadonlyArray<DataRecord>): Iterable<string> {
  for (const r of records) {
    if (r.prompt !== "") yield r.prompt
    if (r.completion !== "") yield r.completion
  }
}

const tokenizerFor = async (o: PretrainOptions, records: ReadonlyArray<DataRecord>, hooks: StageHooks): Promise<BpeTokenizer> => {
  const given = o.tokenizer.path
  if (given !== undefined) {
    const tokenizer = (await stat(given)).isDirectory()
      ? loadTokenizerDir(given)
      : loadTokenizerJson(given, { specialTokens: DEFAULT_SPECIAL_TOKENS })
    hooks.log(`tokenizer from ${given}: ${tokenizer.vocabSize} tokens`)
    return tokenizer
  }
  const tokenizer = trainBpe(corpusTexts(records), {
    vocabSize: o.tokenizer.vocabSize,
    minFrequency: o.tokenizer.minFrequency,
    specialTokens: DEFAULT_SPECIAL_TOKENS
  })
  hooks.log(`trained a byte-level BPE tokenizer: ${tokenizer.vocabSize} tokens (${tokenizer.merges.length} merges; asked for ${o.tokenizer.vocabSize})`)
  return tokenizer
}

export const pretrain = async (o: PretrainOptions, hooks: StageHooks): Promise<void> => {
  const backend = await openStageBackend(o, hooks)
  const train = await Promise.all(o.datasets.map(async (d) => ({ ...d, records: await readJsonl(d.path) })))
  const validation = o.validation === undefined ? [] : await readJsonl(o.validation)
  const tokenizer = await tokenizerFor(o, train.flatMap((d) => d.records), hooks)
  const s = o.settings
  const exampleOptions = {
    format: o.format,
    trainOnInputs: o.trainOnInputs,
    ...(s.packing ? {} : { maxLength: s.seqLen })
  }
  const datasets = train.map((d) => {
    const set = tokenizeRecords(d.records, tokenizer, exampleOptions)
    hooks.log(`${d.name}: ${d.records.length} record(s), ${set.targets.toLocaleString("en-US")} target tokens` + (set.truncated > 0 ? `, ${set.truncated} shortened to ${s.seqLen} tokens` : ""))
    return { name: d.name, examples: set.examples, ...(d.weight === undefined ? {} : { weight: d.weight }) }
  })
  const validationSet = tokenizeRecords(validation, tokenizer, { ...exampleOptions, maxLength: s.seqLen })
  const eos = tokenizer.specialTokens.eos
  const model = Gpt.create(gptConfig({
    vocabSize: tokenizer.vocabSize,
    nEmbd: o.model.nEmbd,
    nLayer: o.model.nLayer,
    nHead: o.model.nHead,
    nPositions: o.model.nPositions,
    embdPdrop: o.model.dropout,
    attnPdrop: o.model.dropout,
    residPdrop: o.model.dropout,
    bosTokenId: eos,
    eosTokenId: eos
  }), s.seed)
  hooks.log(`model: ${describe(model)}`)
  const inputs = [...o.datasets.map((d) => d.path), ...(o.validation === undefined ? [] : [o.validation]), ...(o.tokenizer.path === undefined ? [] : [o.tokenizer.path])]
  const scratch = await scratchDir(o.workspace, o.stage, { ...o.key, inputs })
  const result = await runTraining({
    model,
    datasets,
    validation: validationSet.examples,
    padId: tokenizer.specialTokens.pad,
    settings: s,
    scratch,
    hooks
  })
  await saveModelDir(model, tokenizer, o.out)
  await publishCurve(scratch, o.curve)
  await writeTrainingMetrics(o.metrics, result, {
    backend: backend.name,
    format: o.format,
    model: { nEmbd: model.config.nEmbd, nLayer: model.config.nLayer, nHead: model.config.nHead, nPositions: model.config.nPositions, vocabSize: model.config.vocabSize },
    tokenizer: { vocabSize: tokenizer.vocabSize, trained: o.tokenizer.path === undefined },
    examples: { train: datasets.reduce((n, d) => n + d.examples.length, 0), validation: validationSet.examples.length }
  })
  model.dispose()
  await removeScratch(scratch)
  hooks.log(`wrote ${o.out}`)
}
