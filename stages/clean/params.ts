/* This file is generated from params.schema.json by `npm run gen:types`; do not edit it. */

/**
 * Normalises text, scrubs PII, filters by blocklist and length, and removes exact and near duplicates (MinHash + LSH).
 */
export interface CleanParams {
  /**
   * Canonical JSONL to clean.
   */
  input: string;
  /**
   * Kept records, canonical JSONL.
   */
  out: string;
  /**
   * Metrics file: counts kept and dropped per reason, with examples, PII replacements, near-duplicate groups.
   */
  report: string;
  /**
   * Optional JSONL of dropped records with meta.dropReason (and meta.group for near-duplicates).
   */
  rejects?: string;
  /**
   * Unicode NFC; CR/CRLF to LF; strip control and invisible format characters; exotic spaces to plain spaces; collapse inner space runs and extra blank lines; trim.
   */
  normalize?: boolean;
  length?: CleanLengthFilter;
  dedupe?: CleanExactDedupe;
  nearDedupe?: CleanNearDedupe;
  pii?: CleanPii;
  blocklist?: CleanBlocklist;
  /**
   * Examples listed per drop reason in the report.
   */
  reportExamples?: number;
}
/**
 * Length limits on prompt + completion together; a limit left out is not applied.
 */
export interface CleanLengthFilter {
  /**
   * Drop records with fewer characters.
   */
  minChars?: number;
  /**
   * Drop records with more characters.
   */
  maxChars?: number;
  /**
   * Drop records with fewer tokens (matches of tokenPattern).
   */
  minTokens?: number;
  /**
   * Drop records with more tokens (matches of tokenPattern).
   */
  maxTokens?: number;
  /**
   * Regular expression one token matches; the default counts whitespace-separated words (BPE tokenizers give roughly 1.3 tokens per English word).
   */
  tokenPattern?: string;
}
export interface CleanExactDedupe {
  /**
   * Drop records whose normalised, lower-cased, space-collapsed prompt and completion equal an earlier record's.
   */
  exact?: boolean;
}
/**
 * Near-duplicate detection with MinHash over word shingles and LSH banding.
 */
export interface CleanNearDedupe {
  enabled?: boolean;
  /**
   * Words per shingle.
   */
  shingleSize?: number;
  /**
   * Estimated Jaccard similarity at or above which a record is a near-duplicate of an earlier kept one.
   */
  threshold?: number;
  /**
   * MinHash permutations (signature length); must be a multiple of bands.
   */
  numPerm?: number;
  /**
   * LSH bands; more bands find pairs of lower similarity as candidates (and cost more comparisons).
   */
  bands?: number;
  /**
   * Seed of the MinHash permutations.
   */
  seed?: number;
  /**
   * drop: remove near-duplicates (meta.group in rejects names the kept record). group: keep them, tagged with meta.group, so split keeps each group on one side. Records sharing a long context (grounded skills, knowledge) can be near-duplicates while asking different questions; group keeps them and still prevents that context from leaking across splits.
   */
  action?: "drop" | "group";
}
/**
 * Replaces personal data with typed placeholders ([EMAIL], [IPV4], [IPV6], [CREDIT_CARD], [PHONE]).
 */
export interface CleanPii {
  enabled?: boolean;
  kinds?: ("email" | "ipv6" | "ipv4" | "credit_card" | "phone")[];
}
/**
 * Records containing any of these are dropped.
 */
export interface CleanBlocklist {
  /**
   * Words or phrases, matched case-insensitively as whole words.
   */
  words?: string[];
  /**
   * Regular expressions, case-insensitive; write /body/flags to choose flags.
   */
  patterns?: string[];
  /**
   * Workspace-relative file with one word or phrase per line; '#' comments; 're:' prefixes a regular expression.
   */
  file?: string;
}
