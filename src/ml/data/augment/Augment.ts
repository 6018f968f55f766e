/**
 * The augment stage's logic: seeded, reproducible variants of each record, originals kept.
 *
 * For every record and every operation, the number of variants is the op's `ratio` (its whole
 * part always, its fraction as a probability), drawn from a stream seeded by (seed, record id,
 * op); each variant is drawn from its own stream (seed, record id, op, copy, field). So the same
 * seed gives the same bytes whatever the record order or the other ops, and a different seed
 * different ones. A variant identical to its record or to an earlier variant is not emitted.
 *
 * Variants carry `meta.augmentedFrom` (the source id, so split keeps them with it) and
 * `meta.augmentOp`, and follow their source in the output. Word-level ops change the configured
 * `fields` (the prompt by default: noising the completion would teach the noise); template
 * expansion only ever rewrites the prompt. Paraphrase and back-translation call an
 * OpenAI-compatible endpoint when one is configured and are skipped with a note otherwise.
 */
import type { DataRecord, JsonValue } from "../DataRecord.js"
import { withId } from "../DataRecord.js"
import { DataConfigInvalid } from "../DataErrors.js"
import { type Random, seededRandom } from "../SeededRandom.js"
import { randomDeletion, randomInsertion, randomSwap, synonymReplacement } from "./Eda.js"
import { charNoise, type CharNoiseKind } from "./CharNoise.js"
import { expandPrompt } from "./Templates.js"
import { openWordNet, type SynonymSource } from "./WordNet.js"
import { readJsonl, writeJsonl } from "../Jsonl.js"
import { writeJsonFile } from "../JsonFile.js"
import { backTranslate, type ChatEndpointConfig, paraphrase } from "./ChatEndpoint.js"

export const AUGMENT_OPS = ["synonym", "insert", "swap", "delete", "charNoise", "template", "paraphrase", "backTranslation"] as const
export type AugmentOp = (typeof AUGMENT_OPS)[number]

type Field = "prompt" | "completion"

export interface AugmentOptions {
  readonly seed: number
  readonly fields: ReadonlyArray<Field>
  readonly synonym: { readonly ratio: number; readonly alpha: number }
  readonly insert: { readonly ratio: number; readonly alpha: number }
  readonly swap: { readonly ratio: number; readonly alpha: number }
  readonly delete: { readonly ratio: number; readonly p: number }
  readonly charNoise: { readonly ratio: number; readonly p: number; readonly kinds: ReadonlyArray<CharNoiseKind> }
  readonly template: { readonly ratio: number; readonly templates: ReadonlyArray<string> }
  readonly paraphrase: { readonly ratio: number }
  readonly backTranslation: { readonly ratio: number; readonly pivotLanguage: string }
  readonly endpoint: {
    readonly baseUrl?: string | undefined
    readonly model?: string | undefined
    /** Environment variable holding the API key, if the server needs one. */
    readonly apiKeyEnv?: string | undefined
    readonly temperature: number
    readonly timeoutMs: number
    readonly concurrency: number
    readonly onError: "fail" | "skip"
  }
  readonly reportExamples: number
}

export interface AugmentDeps {
  /** WordNet, opened lazily by the caller only when a lexical op is enabled. */
  readonly lexicon?: SynonymSource | undefined
  readonly env?: Readonly<Record<string, string | undefined>>
}

export interface OpReport {
  readonly ratio: number
  readonly produced: number
  /** Variants not emitted because they came out identical to the record or an earlier variant. */
  readonly unchanged: number
  readonly failed: number
}

export interface AugmentReport {
  readonly input: number
  readonly output: number
  readonly augmented: number
  readonly byOp: Readonly<Record<AugmentOp, OpReport>>
  /** Whether paraphrase/back-translation ran, and if not, why. */
  readonly endpoint: { readonly status: "used" | "not configured" | "not needed"; readonly note: string; readonly errors: ReadonlyArray<string> }
  readonly examples: Readonly<Partial<Record<AugmentOp, ReadonlyArray<{ readonly from: string; readonly prompt: string; readonly completion: string }>>>>
}

export interface AugmentResult {
  readonly records: ReadonlyArray<DataRecord>
  readonly report: AugmentReport
}

const ENDPOINT_OPS: ReadonlySet<AugmentOp> = new Set(["paraphrase", "backTranslation"])

/** Whether any op that needs WordNet has a non-zero ratio (so the caller can skip opening it). */
export const needsLexicon = (options: AugmentOptions): boolean => options.synonym.ratio > 0 || options.insert.ratio > 0

const copies = (ratio: number, rng: Random): number => Math.floor(ratio) + (rng.chance(ratio - Math.floor(ratio)) ? 1 : 0)

export const augmentRecords = async (input: ReadonlyArray<DataRecord>, options: AugmentOptions, deps: AugmentDeps = {}): Promise<AugmentResult> => {
  const env = deps.env ?? process.env
  const endpointWanted = options.paraphrase.ratio > 0 || options.backTranslation.ratio > 0
  const endpoint: ChatEndpointConfig | undefined = options.endpoint.baseUrl && options.endpoint.model
    ? {
      baseUrl: options.endpoint.baseUrl,
      model: options.endpoint.model,
      apiKey: options.endpoint.apiKeyEnv !== undefined ? env[options.endpoint.apiKeyEnv] : undefined,
      temperature: options.endpoint.temperature,
      seed: options.seed,
      timeoutMs: options.endpoint.timeoutMs
    }
    : undefined
  if (needsLexicon(options) && deps.lexicon === undefined) {
    throw new DataConfigInvalid({ field: "synonym/insert", reason: "these operations need a lexicon (openWordNet())" })
  }

  const stats = Object.fromEntries(AUGMENT_OPS.map((op) => [op, { produced: 0, unchanged: 0, failed: 0 }])) as Record<AugmentOp, { produced: number; unchanged: number; failed: number }>
  const examples: Partial<Record<AugmentOp, Array<{ from: string; prompt: string; completion: string }>>> = {}
  const errors: Array<string> = []

  // Plan every variant first; endpoint variants are fetched concurrently afterwards.
  interface Planned {
    readonly op: AugmentOp
    readonly copy: number
    value?: { prompt: string; completion: string } | undefined
    readonly fetch?: () => Promise<{ prompt: string; completion: string }>
  }
  const plans: Array<Array<Planned>> = input.map((record) => {
    const planned: Array<Planned> = []
    for (const op of AUGMENT_OPS) {
      const ratio = options[op].ratio
      if (ratio <= 0) continue
      if (ENDPOINT_OPS.has(op) && endpoint === undefined) continue
      const n = copies(ratio, seededRandom(options.seed, record.id, op))
      for (let copy = 0; copy < n; copy++) {
        if (ENDPOINT_OPS.has(op)) planned.push({ op, copy, fetch: () => viaEndpoint(op, record, endpoint!, options) })
        else planned.push({ op, copy, value: localVariant(op, record, copy, options, deps.lexicon) })
      }
    }
    return planned
  })

  const jobs = plans.flat().filter((p) => p.fetch !== undefined)
  await runPool(jobs, Math.max(1, options.endpoint.concurrency), async (job) => {
    try {
      job.value = await job.fetch!()
    } catch (error) {
      if (options.endpoint.onError === "fail") throw error
      stats[job.op].failed++
      if (errors.length < 5) errors.push((error as Error).message)
    }
  })

  const records: Array<DataRecord> = []
  input.forEach((record, i) => {
    records.push(record)
    const seen = new Set([`${record.prompt}\u0000${record.completion}`])
    for (const plan of plans[i]!) {
      if (plan.value === undefined) continue
      const key = `${plan.value.prompt}\u0000${plan.value.completion}`
      if (seen.has(key) || plan.value.prompt.trim() === "") {
        stats[plan.op].unchanged++
        continue
      }
      seen.add(key)
      stats[plan.op].produced++
      const list = (examples[plan.op] ??= [])
      if (list.length < options.reportExamples) list.push({ from: record.id, ...plan.value })
      const meta: Record<string, JsonValue> = { ...record.meta, augmentedFrom: record.id, augmentOp: plan.op }
      records.push(withId({ ...record, ...plan.value, meta }, `${record.id}+${plan.op}${plan.copy}`))
    }
  })

  const byOp = Object.fromEntries(AUGMENT_OPS.map((op) => [op, { ratio: options[op].ratio, ...stats[op] }])) as Record<AugmentOp, OpReport>
  return {
    records,
    report: {
      input: input.length,
      output: records.length,
      augmented: records.length - input.length,
      byOp,
      endpoint: !endpointWanted
        ? { status: "not needed", note: "paraphrase and backTranslation ratios are 0", errors }
        : endpoint === undefined
        ? { status: "not configured", note: "paraphrase/backTranslation skipped: set endpoint.baseUrl and endpoint.model to enable them", errors }
        : { status: "used", note: `variants from ${endpoint.model} at ${endpoint.baseUrl}; reproducible only as far as the server honours temperature and seed`, errors },
      examples
    }
  }
}

const localVariant = (
  op: AugmentOp,
  record: DataRecord,
  copy: number,
  options: AugmentOptions,
  lexicon: SynonymSource | undefined
): { prompt: string; completion: string } => {
  const fields: ReadonlyArray<Field> = op === "template" ? ["prompt"] : options.fields
  const out = { prompt: record.prompt, completion: record.completion }
  for (const field of fields) {
    const rng = seededRandom(options.seed, record.id, op, copy, field)
    const text = record[field]
    out[field] = op === "synonym"
      ? synonymReplacement(text, options.synonym.alpha, rng, lexicon!)
      : op === "insert"
      ? randomInsertion(text, options.insert.alpha, rng, lexicon!)
      : op === "swap"
      ? randomSwap(text, options.swap.alpha, rng)
      : op === "delete"
      ? randomDeletion(text, options.delete.p, rng)
      : op === "charNoise"
      ? charNoise(text, options.charNoise.p, options.charNoise.kinds, rng)
      : expandPrompt(text, options.template.templates, rng)
  }
  return out
}

const viaEndpoint = async (op: AugmentOp, record: DataRecord, endpoint: ChatEndpointConfig, options: AugmentOptions) => {
  const out = { prompt: record.prompt, completion: record.completion }
  for (const field of options.fields) {
    out[field] = op === "paraphrase"
      ? await paraphrase(endpoint, record[field])
      : await backTranslate(endpoint, record[field], options.backTranslation.pivotLanguage)
  }
  return out
}

/** Runs `work` over `items` with at most `limit` in flight; the first failure rejects. */
const runPool = async <T>(items: ReadonlyArray<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> => {
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!)
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
}

export interface AugmentFiles {
  readonly input: string
  readonly out: string
  readonly report: string
}

/** Reads `input`, augments it (opening WordNet only if needed), writes records and report. */
export const augmentFiles = async (files: AugmentFiles, options: AugmentOptions): Promise<AugmentReport> => {
  const lexicon = needsLexicon(options) ? openWordNet() : undefined
  try {
    const result = await augmentRecords(await readJsonl(files.input), options, { lexicon })
    await writeJsonl(files.out, result.records)
    await writeJsonFile(files.report, result.report)
    return result.report
  } finally {
    lexicon?.close()
  }
}
