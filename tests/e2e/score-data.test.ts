import * as fs from "node:fs"
import * as path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { repoRoot, Rig } from "./rig.js"

const reference = JSON.parse(fs.readFileSync(path.join(repoRoot, "..", "shared", "data", "metric-reference.json"), "utf8")) as {
  pairs: Array<{ hyp: string; ref: string; rouge1_f: number; rougeL_f: number; sent_bleu: number; chrf: number; squad_f1: number; squad_em: number }>
  corpus: { bleu: number; chrf: number; bleu_signature: string }
}

describe("cairn score", () => {
  let rig: Rig
  beforeEach(() => (rig = new Rig()))
  afterEach(() => rig.cleanup())

  it("--json agrees with rouge_score, sacrebleu and the SQuAD script", () => {
    // One text per line: pairs whose texts hold newlines cannot be written this way.
    const pairs = reference.pairs.filter((p) => !/[\r\n]/.test(p.hyp + p.ref))
    rig.write("hyp.txt", pairs.map((p) => p.hyp).join("\n") + "\n")
    rig.write("ref.txt", pairs.map((p) => p.ref).join("\n") + "\n")
    const r = rig.run(["score", "--hyp", "hyp.txt", "--ref", "ref.txt", "--json"])
    expect(r.code, r.stderr).toBe(0)
    const out = JSON.parse(r.stdout) as { corpus: Record<string, number>; sentences: Array<Record<string, number>>; signatures: Record<string, string> }
    expect(out.sentences).toHaveLength(pairs.length)
    pairs.forEach((p, i) => {
      const s = out.sentences[i]!
      expect(s.rouge1).toBeCloseTo(p.rouge1_f, 9)
      expect(s.rougeL).toBeCloseTo(p.rougeL_f, 9)
      expect(s.bleu).toBeCloseTo(p.sent_bleu, 9)
      expect(s.chrf).toBeCloseTo(p.chrf, 9)
      expect(s.squad_f1).toBeCloseTo(p.squad_f1, 9)
      expect(s.squad_em).toBe(p.squad_em)
    })
    expect(out.signatures.bleu).toBe(reference.corpus.bleu_signature)
    if (pairs.length === reference.pairs.length) expect(out.corpus.bleu).toBeCloseTo(reference.corpus.bleu, 9)
  })

  it("misaligned files are a usage error", () => {
    rig.write("hyp.txt", "a\nb\n")
    rig.write("ref.txt", "a\n")
    const r = rig.run(["score", "--hyp", "hyp.txt", "--ref", "ref.txt"])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain("--hyp has 2 line(s) but --ref has 1")
  })
})

describe("cairn data", () => {
  let rig: Rig
  beforeEach(() => (rig = new Rig()))
  afterEach(() => rig.cleanup())

  it("validate counts records per task; a bad record is file:line: field: reason, exit 2", () => {
    rig.write("good.jsonl", '{"prompt": "p1", "completion": "c1", "task": "t"}\n{"prompt": "p2", "completion": "c2", "task": "t"}\n')
    const ok = rig.run(["data", "validate", "good.jsonl"])
    expect(ok.code, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/t\s+2/)
    rig.write("bad.jsonl", '{"prompt": "p1", "completion": "c1"}\n{"prompt": "p2"}\n')
    const bad = rig.run(["data", "validate", "bad.jsonl"])
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/bad\.jsonl:2: completion: /)
  })

  it("convert writes canonical JSONL with stable ids", () => {
    rig.write("alpaca.json", JSON.stringify([{ instruction: "Add", input: "1+1", output: "2" }]))
    const a = rig.run(["data", "convert", "alpaca.json", "out.jsonl"])
    expect(a.code, a.stderr).toBe(0)
    const first = rig.read("out.jsonl")
    const rec = JSON.parse(first.trim())
    expect(rec).toMatchObject({ completion: "2" })
    expect(typeof rec.id).toBe("string")
    expect(rig.run(["data", "convert", "alpaca.json", "out.jsonl"]).code).toBe(0)
    expect(rig.read("out.jsonl")).toBe(first)
  })
})
