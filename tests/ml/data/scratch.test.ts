import { test } from "vitest"
import { augmentRecords } from "../../../src/ml/data/augment/Augment.js"
import { openWordNet } from "../../../src/ml/data/augment/WordNet.js"
import { readDataset } from "../../../src/ml/data/Dataset.js"
test("s", async () => {
  const d = await readDataset("pipelines/data/self-instruct/data/seed_tasks.jsonl")
  const t0 = performance.now()
  const r = await augmentRecords(d.records.slice(0, 4), { seed: 0, fields: ["prompt"], synonym: { ratio: 1, alpha: 0.1 }, insert: { ratio: 1, alpha: 0.1 }, swap: { ratio: 1, alpha: 0.1 }, delete: { ratio: 1, p: 0.1 }, charNoise: { ratio: 1, p: 0.03, kinds: ["neighbor", "omit", "transpose"] }, template: { ratio: 1, templates: ["Task:\n{prompt}"] }, paraphrase: { ratio: 0 }, backTranslation: { ratio: 0, pivotLanguage: "x" }, endpoint: { temperature: 0, timeoutMs: 1, concurrency: 1, onError: "fail" }, reportExamples: 1 }, { lexicon: openWordNet() })
  console.log(performance.now() - t0)
  for (const x of r.records) console.log(x.meta?.augmentOp ?? "ORIG", "|", x.prompt.split("\n")[0])
})
