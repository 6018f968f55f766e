/**
 * Data-stage benchmark: 100k generated records (with exact and near duplicates, PII and messy
 * whitespace) through clean (near-dedupe on) and split, file to file as the stages run them.
 *
 * Reports wall time of clean + split (generation is not timed) and the process's peak RSS.
 * Targets on the reference 2-core machine: ≤ 20 s and < 1 GiB.
 *
 *   npm run build && node dist/bench/data.js
 */
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import type { DataRecord } from "../src/ml/data/DataRecord.js"
import { writeJsonl } from "../src/ml/data/Jsonl.js"
import { cleanFiles, type CleanReport } from "../src/ml/data/Clean.js"
import { splitFiles } from "../src/ml/data/Split.js"
import { seededRandom } from "../src/ml/data/SeededRandom.js"

export interface DataBenchResult {
  readonly records: number
  readonly seconds: number
  readonly peakRssMiB: number
}

const RECORDS = 100_000

/** Records over a 20k-word vocabulary; ~5% exact repeats (case/space changed), ~10% near-duplicates. */
export const generateRecords = (n: number, seed = 1): Array<DataRecord> => {
  const rng = seededRandom(seed, "bench")
  const syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qui", "dor", "fen", "gal", "hus"]
  const vocab = Array.from({ length: 20_000 }, () => Array.from({ length: 2 + rng.int(3) }, () => rng.pick(syllables)).join(""))
  const sentence = (words: number) => Array.from({ length: words }, () => rng.pick(vocab)).join(" ")
  const out: Array<DataRecord> = []
  for (let i = 0; i < n; i++) {
    const task = `task${rng.int(20)}`
    const roll = rng.next()
    if (out.length > 100 && roll < 0.05) {
      const src = rng.pick(out)
      out.push({ ...src, id: `b${i}`, prompt: src.prompt.toUpperCase().replace(/ /g, "  ") })
    } else if (out.length > 100 && roll < 0.15) {
      const src = rng.pick(out)
      const words = src.completion.split(" ")
      words[rng.int(words.length)] = rng.pick(vocab)
      out.push({ ...src, id: `b${i}`, completion: words.join(" ") })
    } else {
      let prompt = sentence(8 + rng.int(30))
      if (rng.chance(0.02)) prompt += ` mail me at user${i}@example.com`
      if (rng.chance(0.02)) prompt += ` or call 555-${String(100 + rng.int(900))}-${String(1000 + rng.int(9000))}`
      if (rng.chance(0.05)) prompt = `  ${prompt}\u00a0\r\n`
      out.push({ id: `b${i}`, task, prompt, completion: sentence(20 + rng.int(60)), source: "bench" })
    }
  }
  return out
}

export async function benchData(): Promise<DataBenchResult & { readonly report: CleanReport }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cairn-bench-data-"))
  try {
    const input = path.join(dir, "input.jsonl")
    await writeJsonl(input, generateRecords(RECORDS))
    const started = performance.now()
    const report = await cleanFiles(
      { input, out: path.join(dir, "clean.jsonl"), report: path.join(dir, "clean-report.json") },
      {
        normalize: true,
        length: { minTokens: 3, tokenPattern: "\\S+" },
        dedupe: { exact: true },
        nearDedupe: { enabled: true, shingleSize: 3, threshold: 0.8, numPerm: 128, bands: 16, seed: 0, action: "drop" },
        pii: { enabled: true, kinds: ["email", "ipv6", "ipv4", "credit_card", "phone"] },
        blocklist: { words: ["forbidden"], patterns: [] },
        reportExamples: 3
      }
    )
    await splitFiles(
      {
        input: path.join(dir, "clean.jsonl"),
        train: path.join(dir, "train.jsonl"),
        validation: path.join(dir, "validation.jsonl"),
        test: path.join(dir, "test.jsonl"),
        report: path.join(dir, "split-report.json")
      },
      { seed: 0, ratios: { train: 0.8, validation: 0.1, test: 0.1 }, stratify: true }
    )
    const seconds = (performance.now() - started) / 1000
    // maxRSS is in KiB on Linux and macOS
    const peakRssMiB = process.resourceUsage().maxRSS / 1024
    return { records: RECORDS, seconds: Math.round(seconds * 100) / 100, peakRssMiB: Math.round(peakRssMiB), report }
  } finally {
    await fs.rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  benchData().then(
    ({ records, seconds, peakRssMiB, report }) => {
      console.log(JSON.stringify({ records, seconds, peakRssMiB, kept: report.kept, dropped: report.dropped }, null, 2))
    },
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    }
  )
}
