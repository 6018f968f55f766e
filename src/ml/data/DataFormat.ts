/**
 * The input formats cairn reads, and how `auto` picks one.
 *
 * Detection looks at the path first (a directory holding `qna.yaml` files or a `*.yaml` file is an
 * InstructLab taxonomy, `*.csv`/`*.tsv` is CSV) and then at the keys of the first JSON record:
 * `messages` → chat, `instruction` + `instances` → self-instruct, `instruction` + `output` →
 * alpaca, `prompt` + `completion` → prompt/completion JSONL.
 */
export const DATA_FORMATS = ["jsonl", "alpaca", "chat", "self-instruct", "csv", "taxonomy"] as const
export type DataFormat = (typeof DATA_FORMATS)[number]
export type FormatOption = DataFormat | "auto"

export const isFormatOption = (value: string): value is FormatOption =>
  value === "auto" || (DATA_FORMATS as ReadonlyArray<string>).includes(value)

/** The format a file's name alone settles, if any. */
export const formatFromPath = (file: string): DataFormat | undefined => {
  const lower = file.toLowerCase()
  if (lower.endsWith(".yaml") || lower.endsWith(".yml")) return "taxonomy"
  if (lower.endsWith(".csv") || lower.endsWith(".tsv")) return "csv"
  return undefined
}

/** The JSON format whose keys the first record has, if any. */
export const formatFromRecord = (value: unknown): DataFormat | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const has = (key: string) => key in value
  if (has("messages")) return "chat"
  if (has("instruction") && has("instances")) return "self-instruct"
  if (has("instruction") && has("output")) return "alpaca"
  if (has("prompt") && has("completion")) return "jsonl"
  return undefined
}

/**
 * The format a record most likely meant when it has only some of a format's keys (a prompt with
 * no completion), so validation can say which field is missing instead of failing detection.
 */
export const formatFromPartialRecord = (value: unknown): DataFormat | undefined => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
  const has = (key: string) => key in value
  if (has("instances")) return "self-instruct"
  if (has("instruction") || has("output")) return "alpaca"
  if (has("prompt") || has("completion")) return "jsonl"
  return undefined
}

/** File extensions a dataset directory is scanned for (besides taxonomy trees). */
export const DATA_FILE_EXTENSIONS = [".jsonl", ".json", ".csv", ".tsv"] as const
