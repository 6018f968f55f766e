/**
 * Corners the reference pairs do not reach: empty sides, one word, several
 * references, non-ASCII text, and Python-vs-JavaScript string differences.
 */
import { assert, describe, it } from "vitest"
import * as Bleu from "../../../src/ml/eval/Bleu.js"
import * as Chrf from "../../../src/ml/eval/Chrf.js"
import { tokenize13a } from "../../../src/ml/eval/internal/Tokenizer13a.js"
import * as Rouge from "../../../src/ml/eval/Rouge.js"
import { ScoreInputError, scoreTexts } from "../../../src/ml/eval/Score.js"
import * as Squad from "../../../src/ml/eval/Squad.js"

const near = (actual: number, expected: number, what = "") =>
  assert.ok(Math.abs(actual - expected) <= 1e-9, `${what} got ${actual}, expected ${expected}`)

describe("empty hypothesis", () => {
  it("scores 0 everywhere except where both sides are empty", () => {
    const r = scoreTexts([""], ["The cat sat."], { metrics: ["rouge", "bleu", "chrf", "squad", "exact"] })
    for (const key of ["rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf", "squad_em", "squad_f1", "exact"]) {
      assert.strictEqual(r.corpus[key], 0, key)
      assert.strictEqual(r.sentences[0]![key], 0, key)
    }
  })

  it("whitespace-only counts as empty for BLEU", () => {
    assert.strictEqual(Bleu.sentenceBleu(" \t ", ["a b c"]).score, 0)
    assert.strictEqual(Bleu.sentenceBleu(" \t ", ["a b c"]).sysLen, 0)
  })
})

describe("empty reference", () => {
  it("gives 0 for a non-empty hypothesis instead of failing", () => {
    const r = scoreTexts(["The cat sat."], [""], { metrics: ["rouge", "bleu", "chrf", "squad", "exact"] })
    for (const key of ["rouge1", "rouge2", "rougeL", "rougeLsum", "bleu", "chrf", "squad_em", "squad_f1", "exact"]) {
      assert.strictEqual(r.corpus[key], 0, key)
    }
  })

  it("is padding when other references exist, as in sacrebleu", () => {
    const withPad = scoreTexts(["the cat sat"], [["the cat sat", ""]], { metrics: ["bleu", "chrf", "squad", "exact"] })
    assert.strictEqual(withPad.signatures.bleu, "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0")
    near(withPad.corpus.chrf!, 100)
    assert.strictEqual(withPad.corpus.exact, 1)
  })
})

describe("SQuAD v1.1", () => {
  it("both sides normalising to empty: EM 1, F1 0", () => {
    assert.strictEqual(Squad.normalizeAnswer("The."), "")
    assert.strictEqual(Squad.normalizeAnswer("a an the !!"), "")
    const s = Squad.squadScore("The.", ["a an the !!"])
    assert.strictEqual(s.exactMatch, 1)
    assert.strictEqual(s.f1, 0)
  })

  it("takes the best gold answer for EM and F1 separately", () => {
    const s = Squad.squadScore("Barack Obama", ["President Obama", "Obama, Barack"])
    assert.strictEqual(s.exactMatch, 0)
    near(s.f1, 1)
  })

  it("uses Unicode word boundaries for articles, as Python's re does", () => {
    // "éthe": no boundary between é and t in Python, so "the" stays.
    assert.strictEqual(Squad.normalizeAnswer("éthe thé the"), "éthe thé")
  })
})

describe("single word", () => {
  it("exact match: ROUGE-2 is 0, sentence BLEU is 100 (effective order), corpus BLEU is 0", () => {
    const r = scoreTexts(["Confident"], ["Confident"], { metrics: ["rouge", "bleu", "chrf"] })
    assert.strictEqual(r.sentences[0]!.rouge1, 1)
    assert.strictEqual(r.sentences[0]!.rouge2, 0)
    near(r.sentences[0]!.bleu!, 100)
    assert.strictEqual(r.corpus.bleu, 0)
    assert.strictEqual(r.corpus.chrf, 100)
  })
})

describe("multiple references", () => {
  it("BLEU clips against the max count over references (hand-computed)", () => {
    // 1-grams 3/3, 2-grams 2/2, 3-grams 0/1 → exp-smoothed to 100/2; effective order 3.
    const s = Bleu.sentenceBleu("the cat sat", ["the cat", "cat sat"])
    assert.deepStrictEqual([...s.counts], [3, 2, 0, 0])
    assert.deepStrictEqual([...s.totals], [3, 2, 1, 0])
    assert.strictEqual(s.refLen, 2)
    near(s.score, Math.cbrt(100 * 100 * 50))
  })

  it("BLEU takes the closest reference length, the shorter one on ties", () => {
    assert.strictEqual(Bleu.sentenceBleu("a b c d", ["a b c d e f", "a b"]).refLen, 2)
    assert.strictEqual(Bleu.sentenceBleu("a b c d", ["a b c d e", "a b c"]).refLen, 3)
  })

  it("chrF and ROUGE keep the best reference", () => {
    const good = "The quick brown fox"
    const bad = "Something else entirely"
    near(Chrf.sentenceChrf("The quick brown fox.", [bad, good]), Chrf.sentenceChrf("The quick brown fox.", [good]))
    const multi = Rouge.rougeScoreMulti("the quick brown fox", [bad, good])
    assert.strictEqual(multi.rouge1.fmeasure, 1)
  })

  it("reports nrefs:var when segments have different reference counts", () => {
    const r = scoreTexts(["a", "b"], [["a"], ["b", "c"]], { metrics: ["bleu", "chrf"] })
    assert.strictEqual(r.signatures.bleu, "nrefs:var|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0")
    assert.strictEqual(r.signatures.chrf, "nrefs:var|case:mixed|eff:yes|nc:6|nw:0|space:no|version:2.6.0")
  })
})

describe("unicode", () => {
  it("the default ROUGE tokeniser drops non-ASCII letters, as rouge_score does", () => {
    assert.deepStrictEqual(Rouge.rougeTokenize("Café au lait, привет!"), ["caf", "au", "lait"])
    assert.strictEqual(Rouge.rougeScore("привет мир", "Привет мир").rouge1.fmeasure, 0)
  })

  it("the unicode tokeniser keeps letters of any script, NFKC-folded", () => {
    const opts = { tokenizer: "unicode" } as const
    assert.deepStrictEqual(Rouge.rougeTokenize("Café au lait, привет! ＡＢＣ", opts), ["café", "au", "lait", "привет", "abc"])
    assert.strictEqual(Rouge.rougeScore("привет мир", "Привет мир", opts).rouge1.fmeasure, 1)
    // Han characters are one token each.
    near(Rouge.rougeScore("我爱北京", "我爱上海", opts).rouge1.fmeasure, 0.5)
    assert.deepStrictEqual(Rouge.rougeTokenize("running dogs", { ...opts, stem: true }), ["run", "dog"])
  })

  it("the tokeniser is named in the signature", () => {
    const r = scoreTexts(["привет"], ["привет"], { metrics: ["rouge"], tokenizer: "unicode", stem: true })
    assert.strictEqual(r.corpus.rouge1, 1)
    assert.match(r.signatures.rouge!, /^tok:unicode\|stem:yes\|/)
    assert.match(scoreTexts(["a"], ["a"], { metrics: ["rouge"] }).signatures.rouge!, /^tok:default\|stem:no\|/)
  })

  it("chrF counts code points, so an emoji is one character", () => {
    // 1-grams: 1 of 2 match; 2-grams: 0 of 1; orders 3–6 absent → (0.5 + 0) / 2 on both sides.
    near(Chrf.sentenceChrf("🍕a", ["🍕b"]), 25)
  })

  it("whitespace is Python's: U+0085 separates, U+FEFF does not", () => {
    near(Chrf.sentenceChrf("a\u0085b", ["ab"]), 100)
    assert.ok(Chrf.sentenceChrf("a\ufeffb", ["ab"]) < 100)
    assert.deepStrictEqual(tokenize13a("x\u0085y\ufeffz"), ["x", "y\ufeffz"])
  })
})

describe("13a tokeniser", () => {
  it("splits symbols, and periods/commas/dashes except inside numbers", () => {
    assert.deepStrictEqual(tokenize13a("Hello, world! It's 3.5-4 dollars."), [
      "Hello", ",", "world", "!", "It's", "3.5", "-", "4", "dollars", "."
    ])
    assert.deepStrictEqual(tokenize13a("a &amp; b &lt;c&gt;"), ["a", "&", "b", "<", "c", ">"])
  })
})

describe("input checks", () => {
  it("rejects mismatched lengths, no input and unknown metrics with a tagged error", () => {
    assert.throws(() => scoreTexts(["a"], ["a", "b"], { metrics: ["bleu"] }), ScoreInputError)
    assert.throws(() => scoreTexts([], [], { metrics: ["bleu"] }), ScoreInputError)
    assert.throws(() => scoreTexts(["a"], ["a"], { metrics: ["meteor" as never] }), ScoreInputError)
    assert.throws(() => scoreTexts(["a"], [[]], { metrics: ["bleu"] }), ScoreInputError)
  })
})
