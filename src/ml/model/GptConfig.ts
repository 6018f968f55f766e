/**
 * GPT-2 hyper-parameters, and their mapping to and from a Hugging Face `config.json`.
 *
 * The field names inside cairn are descriptive; `toHfConfig` writes the names transformers'
 * `GPT2Config` reads, so an exported model directory loads with
 * `GPT2LMHeadModel.from_pretrained(dir)`. Options cairn's model does not implement
 * (another activation, untied head, per-layer attention scaling) are rejected on load rather
 * than silently ignored.
 */

export interface GptConfig {
  readonly vocabSize: number
  /** Context length: the number of learned positions. */
  readonly nPositions: number
  readonly nEmbd: number
  readonly nLayer: number
  readonly nHead: number
  /** MLP hidden width; GPT-2 uses 4 * nEmbd. */
  readonly nInner: number
  readonly layerNormEpsilon: number
  /** Dropout on embeddings, attention probabilities and residual branches (training only). */
  readonly embdPdrop: number
  readonly attnPdrop: number
  readonly residPdrop: number
  /** Standard deviation of the normal initialiser (GPT-2: 0.02). */
  readonly initializerRange: number
  readonly bosTokenId: number
  readonly eosTokenId: number
}

export const gptConfig = (
  fields: Pick<GptConfig, "vocabSize" | "nEmbd" | "nLayer" | "nHead"> & Partial<GptConfig>
): GptConfig => {
  const config: GptConfig = {
    nPositions: 1024,
    nInner: 4 * fields.nEmbd,
    layerNormEpsilon: 1e-5,
    embdPdrop: 0,
    attnPdrop: 0,
    residPdrop: 0,
    initializerRange: 0.02,
    bosTokenId: fields.vocabSize - 1,
    eosTokenId: fields.vocabSize - 1,
    ...fields
  }
  if (config.nEmbd % config.nHead !== 0) {
    throw new Error(`GPT config: n_embd ${config.nEmbd} is not divisible by n_head ${config.nHead}`)
  }
  return config
}

/** GELU variants that are the tanh approximation cairn implements. */
const tanhGelu = new Set(["gelu_new", "gelu_pytorch_tanh", "gelu_fast"])

export const fromHfConfig = (hf: Readonly<Record<string, unknown>>): GptConfig => {
  const num = (key: string, fallback?: number): number => {
    const value = hf[key]
    if (typeof value === "number") return value
    if (value === undefined || value === null) {
      if (fallback !== undefined) return fallback
      throw new Error(`config.json: missing ${key}`)
    }
    throw new Error(`config.json: ${key} must be a number`)
  }
  if (hf["model_type"] !== undefined && hf["model_type"] !== "gpt2") {
    throw new Error(`config.json: model_type ${String(hf["model_type"])} is not gpt2`)
  }
  const activation = hf["activation_function"] ?? "gelu_new"
  if (typeof activation !== "string" || !tanhGelu.has(activation)) {
    throw new Error(`config.json: activation_function ${String(activation)} is not supported (tanh GELU only)`)
  }
  for (const flag of ["scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn", "add_cross_attention"]) {
    if (hf[flag] === true) throw new Error(`config.json: ${flag}=true is not supported`)
  }
  if (hf["scale_attn_weights"] === false) throw new Error("config.json: scale_attn_weights=false is not supported")
  if (hf["tie_word_embeddings"] === false) throw new Error("config.json: untied LM head is not supported")
  const nEmbd = num("n_embd")
  const vocabSize = num("vocab_size")
  return gptConfig({
    vocabSize,
    nPositions: num("n_positions", 1024),
    nEmbd,
    nLayer: num("n_layer"),
    nHead: num("n_head"),
    nInner: num("n_inner", 4 * nEmbd),
    layerNormEpsilon: num("layer_norm_epsilon", 1e-5),
    embdPdrop: num("embd_pdrop", 0.1),
    attnPdrop: num("attn_pdrop", 0.1),
    residPdrop: num("resid_pdrop", 0.1),
    initializerRange: num("initializer_range", 0.02),
    bosTokenId: num("bos_token_id", vocabSize - 1),
    eosTokenId: num("eos_token_id", vocabSize - 1)
  })
}

export const toHfConfig = (config: GptConfig): Record<string, unknown> => ({
  activation_function: "gelu_new",
  architectures: ["GPT2LMHeadModel"],
  attn_pdrop: config.attnPdrop,
  bos_token_id: config.bosTokenId,
  embd_pdrop: config.embdPdrop,
  eos_token_id: config.eosTokenId,
  initializer_range: config.initializerRange,
  layer_norm_epsilon: config.layerNormEpsilon,
  model_type: "gpt2",
  n_ctx: config.nPositions,
  n_embd: config.nEmbd,
  n_head: config.nHead,
  n_inner: config.nInner,
  n_layer: config.nLayer,
  n_positions: config.nPositions,
  reorder_and_upcast_attn: false,
  resid_pdrop: config.residPdrop,
  scale_attn_by_inverse_layer_idx: false,
  scale_attn_weights: true,
  tie_word_embeddings: true,
  torch_dtype: "float32",
  use_cache: true,
  vocab_size: config.vocabSize
})
