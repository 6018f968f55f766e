/**
 * cairn's public surface: what built-in stages and TypeScript pipelines import.
 */
export * from "./core/BuiltinStage.js"
