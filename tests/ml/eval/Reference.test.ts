/**
 * Every value in shared/data/metric-reference.json (rouge_score, sacrebleu
 * 2.6.0, SQuAD v1.1 on 30 hypothesis/reference pairs) reproduced to 1e-9.
 */
import { readFileSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"
import { assert, describe, it } from "vitest"
import * as Bleu from "../../../src/ml/eval/Bleu.js"
import * as Chrf from "../../../src/ml/eval/Chrf.js"
import * as Rouge from "../../../src/ml/eval/Rouge.js"
import { scoreTexts } from "../../../src/ml/eval/Score.js"
import * as Squad from "../../../src/ml/eval/Squad.js"

// CI clones the repo with shared/ beside it, so resolve from the repo root.
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..")
const referencePath = path.resolve(repoRoot, "../shared/data/metric-reference.json")

type Triple = [number, number, number]
interface Pair {
  id: number
  kind: string
  hyp: string
  ref: string
  rouge_prf: Record<Rouge.RougeType, Triple>
  rouge_prf_stem: Record<Rouge.RougeType, Triple>
  sent_bleu: number
  sent_bleu_detail: {
    score: number
    counts: Array<number>
    totals: Array<number>
    precisions: Array<number>
    bp: number
    sys_len: number
    ref_len: number
  }
  chrf: number
  squad_f1: number
  squad_em: number
  squad_norm_hyp: string
  squad_norm_ref: string
  [key: string]: unknown
}
interface Reference {
  pairs: Array<Pair>
  corpus: {
    bleu: number
    bleu_signature: string
    bleu_detail: Pair["sent_bleu_detail"]
    chrf: number
    chrf_signature: string
    sent_bleu_signature: string
    sent_chrf_signature: string
    squad: { exact_match: number; f1: number }
    rouge_mean_f: Record<string, number>
  }
}

const reference = JSON.parse(readFileSync(referencePath, "utf8")) as Reference
const TOL = 1e-9

const close = (actual: number, expected: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= TOL, `${what}: got ${actual}, expected ${expected}`)

const closeAll = (actual: ReadonlyArray<number>, expected: ReadonlyArray<number>, what: string) => {
  assert.strictEqual(actual.length, expected.length, `${what}: length`)
  actual.forEach((a, i) => close(a, expected[i]!, `${what}[${i}]`))
}

describe("metric-reference.json", () => {
  it("has the 30 pairs the notes describe", () => {
    assert.strictEqual(reference.pairs.length, 30)
  })

  for (const pair of reference.pairs) {
    describe(`pair ${pair.id} (${pair.kind})`, () => {
      it("ROUGE P/R/F without and with stemming", () => {
        for (const stem of [false, true]) {
          const scores = Rouge.rougeScore(pair.hyp, pair.ref, { stem })
          const prf = stem ? pair.rouge_prf_stem : pair.rouge_prf
          for (const type of Rouge.ROUGE_TYPES) {
            const s = scores[type]
            const label = `${type}${stem ? " stem" : ""}`
            closeAll([s.precision, s.recall, s.fmeasure], prf[type], label)
            close(s.fmeasure, pair[`${type}_f${stem ? "_stem" : ""}`] as number, `${label} _f`)
          }
        }
      })

      it("sentence BLEU and its statistics", () => {
        const s = Bleu.sentenceBleu(pair.hyp, [pair.ref])
        const d = pair.sent_bleu_detail
        close(s.score, pair.sent_bleu, "score")
        closeAll(s.counts, d.counts, "counts")
        closeAll(s.totals, d.totals, "totals")
        closeAll(s.precisions, d.precisions, "precisions")
        close(s.bp, d.bp, "bp")
        assert.strictEqual(s.sysLen, d.sys_len)
        assert.strictEqual(s.refLen, d.ref_len)
      })

      it("sentence chrF", () => {
        close(Chrf.sentenceChrf(pair.hyp, [pair.ref]), pair.chrf, "chrf")
      })

      it("SQuAD normalisation, EM and F1", () => {
        assert.strictEqual(Squad.normalizeAnswer(pair.hyp), pair.squad_norm_hyp)
        assert.strictEqual(Squad.normalizeAnswer(pair.ref), pair.squad_norm_ref)
        const s = Squad.squadScore(pair.hyp, [pair.ref])
        assert.strictEqual(s.exactMatch, pair.squad_em)
        close(s.f1, pair.squad_f1, "f1")
      })
    })
  }

  describe("corpus", () => {
    const hyps = reference.pairs.map((p) => p.hyp)
    const refs = reference.pairs.map((p) => [p.ref])

    it("BLEU 55.88834507889853 with sacrebleu's statistics", () => {
      const s = Bleu.corpusBleu(hyps, refs)
      const d = reference.corpus.bleu_detail
      close(s.score, 55.88834507889853, "score")
      close(s.score, reference.corpus.bleu, "score (json)")
      closeAll(s.counts, d.counts, "counts")
      closeAll(s.totals, d.totals, "totals")
      closeAll(s.precisions, d.precisions, "precisions")
      close(s.bp, d.bp, "bp")
      assert.strictEqual(s.sysLen, d.sys_len)
      assert.strictEqual(s.refLen, d.ref_len)
    })

    it("chrF 70.7157598781361", () => {
      close(Chrf.corpusChrf(hyps, refs), 70.7157598781361, "chrf")
      close(Chrf.corpusChrf(hyps, refs), reference.corpus.chrf, "chrf (json)")
    })

    it("signatures", () => {
      assert.strictEqual(Bleu.bleuSignature(1, false), reference.corpus.bleu_signature)
      assert.strictEqual(Bleu.bleuSignature(1, true), reference.corpus.sent_bleu_signature)
      assert.strictEqual(Chrf.chrfSignature(1), reference.corpus.chrf_signature)
      assert.strictEqual(Chrf.chrfSignature(1), reference.corpus.sent_chrf_signature)
    })

    it("scoreTexts reproduces every corpus value and every sentence value", () => {
      for (const stem of [false, true]) {
        const result = scoreTexts(hyps, refs, { metrics: ["rouge", "bleu", "chrf", "squad", "exact"], stem })
        const suffix = stem ? "_stem" : ""
        for (const type of Rouge.ROUGE_TYPES) {
          close(result.corpus[type]!, reference.corpus.rouge_mean_f[`${type}_f${suffix}`]!, `${type}${suffix}`)
        }
        close(result.corpus.bleu!, reference.corpus.bleu, "bleu")
        close(result.corpus.chrf!, reference.corpus.chrf, "chrf")
        close(result.corpus.squad_em! * 100, reference.corpus.squad.exact_match, "squad_em")
        close(result.corpus.squad_f1! * 100, reference.corpus.squad.f1, "squad_f1")
        assert.strictEqual(result.signatures.bleu, reference.corpus.bleu_signature)
        assert.strictEqual(result.signatures.bleu_sentence, reference.corpus.sent_bleu_signature)
        assert.strictEqual(result.signatures.chrf, reference.corpus.chrf_signature)
        result.sentences.forEach((s, i) => {
          const pair = reference.pairs[i]!
          for (const type of Rouge.ROUGE_TYPES) close(s[type]!, pair[`${type}_f${suffix}`] as number, `${pair.id} ${type}`)
          close(s.bleu!, pair.sent_bleu, `${pair.id} bleu`)
          close(s.chrf!, pair.chrf, `${pair.id} chrf`)
          close(s.squad_f1!, pair.squad_f1, `${pair.id} squad_f1`)
          assert.strictEqual(s.squad_em, pair.squad_em)
          assert.strictEqual(s.exact, pair.hyp === pair.ref ? 1 : 0)
        })
      }
    })
  })
})
