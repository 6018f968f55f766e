/**
 * `npm run bench`: the engine, data and watch benchmarks, each in its own process so one's
 * memory and caches do not colour another's figures. Training throughput is separate
 * (`npm run bench:train`): it takes minutes and needs PyTorch for its comparison.
 */
import { spawnSync } from "node:child_process"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const here = path.dirname(fileURLToPath(import.meta.url))
const sections: ReadonlyArray<readonly [string, string]> = [
  ["engine: 200-stage DAG vs GNU make and Snakemake", "engine.js"],
  ["data: clean (with near-dedupe) + split of 100k records", "data.js"],
  ["watch: latency from a write to the affected stage's start", "watch.js"]
]

let failed = false
for (const [title, file] of sections) {
  process.stdout.write(`\n## ${title}\n\n`)
  const r = spawnSync(process.execPath, [path.join(here, file), ...process.argv.slice(2)], { stdio: "inherit" })
  if (r.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
