/**
 * The GPT-2 model toolkit: configuration, weights in Hugging Face layout (safetensors +
 * config.json), LoRA adapters with PEFT export, and generation.
 */
export * from "./Generate.js"
export * from "./Gpt.js"
export * from "./GptConfig.js"
export * from "./Lora.js"
export * from "./Pretrained.js"
export * from "./Random.js"
export * from "./Safetensors.js"
