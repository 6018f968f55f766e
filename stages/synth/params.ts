/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Generates a family of synthetic, deterministic instruction tasks on short random words, so that exact match is a meaningful score.
 */
export interface SynthParams {
  /**
   * Tasks of the family: reverse (abc→cba), sort (cab→abc), upper (abc→ABC), copy, shift (each letter +1: abc→bcd), double (ab→aabb), first (first letter), last (last letter), count (number of letters).
   *
   * @minItems 1
   */
  tasks: [
    "reverse" | "sort" | "upper" | "copy" | "shift" | "double" | "first" | "last" | "count",
    ...("reverse" | "sort" | "upper" | "copy" | "shift" | "double" | "first" | "last" | "count")[]
  ];
  /**
   * Examples per task (distinct words; fewer if the word space is smaller).
   */
  perTask?: number;
  /**
   * Shortest word.
   */
  minLength?: number;
  /**
   * Longest word.
   */
  maxLength?: number;
  /**
   * Letters words are drawn from.
   */
  alphabet?: string;
  /**
   * Seed of the word generator.
   */
  seed?: number;
  /**
   * Canonical JSONL to write ({id, task, prompt, completion, source}).
   */
  output: string;
}
