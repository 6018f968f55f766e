/**
 * Branded identifiers. A stage name, a content hash and a stage key are all strings; branding
 * keeps one from being passed where another is expected.
 */
declare const brand: unique symbol
type Branded<A, B extends string> = A & { readonly [brand]: B }

/** A stage's name as written in the pipeline file. */
export type StageName = Branded<string, "StageName">
/** sha256 of a blob or a tree manifest, lowercase hex. */
export type ContentHash = Branded<string, "ContentHash">
/** sha256 of a stage's canonical pre-image: the cache address of its run record. */
export type StageKey = Branded<string, "StageKey">

export const StageName = (s: string): StageName => s as StageName
export const ContentHash = (s: string): ContentHash => s as ContentHash
export const StageKey = (s: string): StageKey => s as StageKey

/** A short form for humans: the first 10 hex digits. */
export const short = (h: string): string => h.slice(0, 10)
