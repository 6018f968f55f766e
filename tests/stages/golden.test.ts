/**
 * Golden outputs: each data stage's output bytes on a fixed input, pinned together with the
 * stage's version. If a change alters a stage's output, this fails until the stage's `version`
 * is bumped (so cached results of the old behaviour are not reused) and the hash updated here.
 */
import { describe, expect, it } from "vitest"
import { createHash } from "node:crypto"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import ingest from "../../stages/ingest/index.js"
import clean from "../../stages/clean/index.js"
import augment from "../../stages/augment/index.js"
import split from "../../stages/split/index.js"
import { runStage } from "./RunStage.js"

/** `version` and sha256 over the listed output files (in order) for each stage. */
const GOLDEN = {
  ingest: { version: 1, sha256: "f956e07715be536cb70eb432f8c7592d0fff725e38dbe60021b614b0baad4f30" },
  clean: { version: 2, sha256: "2de4eae201ac8bfc96dec05a4106e006ba918c1056b63d28ee260a4441c3705b" },
  augment: { version: 1, sha256: "808a0004ff0fe84e8b97b4734f4db8ff20f60ed96ed495015e2e0c29c34470af" },
  split: { version: 2, sha256: "b86080229d44149cc5dd55b0befd4d01ebdac3aa89d2c267e4905d5080310525" }
}

const digest = async (ws: string, files: ReadonlyArray<string>): Promise<string> => {
  const hash = createHash("sha256")
  for (const f of files) hash.update(f).update("\u0000").update(await fs.readFile(path.join(ws, f)))
  return hash.digest("hex")
}

describe("golden outputs", () => {
  it("match the pinned hashes for the pinned stage versions", async () => {
    const ws = await fs.mkdtemp(path.join(os.tmpdir(), "cairn-golden-"))
    await fs.cp("tests/ml/data/fixtures", path.join(ws, "fixtures"), { recursive: true })
    await runStage(ingest, ws, {
      sources: [{ path: "fixtures/taxonomy" }, { path: "fixtures/pc.jsonl" }, { path: "fixtures/alpaca.jsonl" }, { path: "fixtures/data.csv" }],
      out: "out/ingested.jsonl",
      report: "out/ingest.json",
      onInvalid: "skip"
    })
    await runStage(clean, ws, { input: "out/ingested.jsonl", out: "out/clean.jsonl", report: "out/clean.json", rejects: "out/rejects.jsonl", nearDedupe: { threshold: 0.6, action: "group" } })
    await runStage(augment, ws, { input: "out/clean.jsonl", out: "out/augmented.jsonl", report: "out/augment.json", seed: 11 })
    await runStage(split, ws, { input: "out/augmented.jsonl", outDir: "out/split", seed: 5, replay: { datasets: [{ path: "fixtures/alpaca.jsonl", sampling_size: 1.5 }] } })
    const actual = {
      ingest: { version: ingest.version, sha256: await digest(ws, ["out/ingested.jsonl", "out/ingest.json"]) },
      clean: { version: clean.version, sha256: await digest(ws, ["out/clean.jsonl", "out/clean.json", "out/rejects.jsonl"]) },
      augment: { version: augment.version, sha256: await digest(ws, ["out/augmented.jsonl", "out/augment.json"]) },
      split: {
        version: split.version,
        sha256: await digest(ws, ["out/split/train.jsonl", "out/split/validation.jsonl", "out/split/test.jsonl", "out/split/split-report.json", "out/split/train-mixed.jsonl", "out/split/replay-manifest.json"])
      }
    }
    await fs.rm(ws, { recursive: true, force: true })
    expect(actual).toEqual(GOLDEN)
  })
})
