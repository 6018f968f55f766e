/**
 * The text table of `cairn score` and its `--metrics` parsing.
 */
import { assert, describe, it } from "vitest"
import { ScoreInputError, scoreTexts } from "../../../src/ml/eval/Score.js"
import { formatScoreTable, parseMetricNames } from "../../../src/ml/eval/ScoreCommand.js"

describe("parseMetricNames", () => {
  it("accepts commas or spaces, any case, and 'all'", () => {
    assert.deepStrictEqual(parseMetricNames("BLEU, rouge"), ["rouge", "bleu"])
    assert.deepStrictEqual(parseMetricNames("all"), ["rouge", "bleu", "chrf", "squad", "exact"])
    assert.throws(() => parseMetricNames("bleu,meteor"), ScoreInputError)
    assert.throws(() => parseMetricNames(" , "), ScoreInputError)
  })
})

describe("formatScoreTable", () => {
  const result = scoreTexts(["the cat sat on the mat", "a dog"], ["the cat sat on a mat", "the dog"], {
    metrics: ["rouge", "bleu", "chrf"],
    bootstrap: { samples: 50, seed: 1 }
  })
  const table = formatScoreTable(result)

  it("lists each metric with its value, interval and signature", () => {
    assert.match(table, /^metric +corpus +95% CI$/m)
    assert.match(table, new RegExp(`^rouge1 +${result.corpus.rouge1!.toFixed(4)} +\\[`, "m"))
    assert.match(table, new RegExp(`^bleu +${result.corpus.bleu!.toFixed(2)} +\\[`, "m"))
    assert.match(table, /^ {2}bleu +nrefs:1\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:2\.6\.0$/m)
    assert.match(table, /^BLEU [\d.]+\/[\d.]+\/[\d.]+\/[\d.]+ \(BP = /m)
    assert.match(table, /^segments: 2$/m)
  })

  it("is stable and omits the interval column without bootstrap", () => {
    assert.strictEqual(formatScoreTable(result), table)
    const plain = formatScoreTable(scoreTexts(["a"], ["a"], { metrics: ["exact"] }))
    assert.match(plain, /^metric +corpus$/m)
    assert.match(plain, /^exact +1\.0000$/m)
  })
})
