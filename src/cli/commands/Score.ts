/**
 * `cairn score --hyp FILE --ref FILE`: the evaluation metrics for predictions made anywhere, one
 * text per line in each file.
 */
import * as fs from "node:fs"
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { UsageError } from "../../core/Errors.js"
import { reportFailures } from "../ExitCode.js"

const readLines = (file: string, flag: string) =>
  Effect.suspend(() => {
    if (!fs.existsSync(file)) return Effect.fail(new UsageError({ reason: `${flag} ${file}: file not found` }))
    const text = fs.readFileSync(file, "utf8")
    // One text per line; a final newline does not start another text.
    return Effect.succeed(text === "" ? [] : text.replace(/\r?\n$/, "").split(/\r?\n/))
  })

export const scoreCommand = Command.make(
  "score",
  {
    hyp: Flag.String("hyp").pipe(Flag.withDescription("Hypotheses (predictions), one per line")),
    ref: Flag.String("ref").pipe(Flag.withDescription("References, one per line, aligned with --hyp")),
    metrics: Flag.String("metrics").pipe(Flag.withDefault("rouge,bleu,chrf,squad,exact"), Flag.withDescription("Comma-separated: rouge, bleu, chrf, squad, exact (or all)")),
    stem: Flag.Boolean("stem").pipe(Flag.withDefault(false), Flag.withDescription("Porter-stem tokens longer than 3 characters for ROUGE (rouge_score's use_stemmer)")),
    unicode: Flag.Boolean("unicode-tokens").pipe(Flag.withDefault(false), Flag.withDescription("ROUGE keeps non-ASCII letters and digits (off: rouge_score's tokenizer)")),
    bootstrap: Flag.Int("bootstrap").pipe(Flag.withDescription("Bootstrap resamples for 95% confidence intervals"), Flag.optional),
    seed: Flag.Int("seed").pipe(Flag.withDefault(1), Flag.withDescription("Bootstrap seed")),
    json: Flag.Boolean("json").pipe(Flag.withDefault(false), Flag.withDescription("Print {corpus, sentences, signatures} as JSON"))
  },
  (f) =>
    reportFailures(Effect.gen(function*() {
      const hyps = yield* readLines(f.hyp, "--hyp")
      const refs = yield* readLines(f.ref, "--ref")
      if (hyps.length !== refs.length) {
        return yield* new UsageError({ reason: `--hyp has ${hyps.length} line(s) but --ref has ${refs.length}; they must align` })
      }
      const { scoreTexts, parseMetricNames, formatScoreTable, ScoreInputError } = yield* Effect.promise(() => import("../../ml/eval/index.js"))
      const result = yield* Effect.try({
        try: () =>
          scoreTexts(hyps, refs, {
            metrics: parseMetricNames(f.metrics),
            stem: f.stem,
            tokenizer: f.unicode ? "unicode" : "default",
            ...(Option.isSome(f.bootstrap) ? { bootstrap: { samples: f.bootstrap.value, seed: f.seed } } : {})
          }),
        catch: (e) => new UsageError({ reason: e instanceof ScoreInputError ? e.message : String((e as Error).message ?? e) })
      })
      if (f.json) {
        process.stdout.write(JSON.stringify({
          corpus: result.corpus,
          sentences: result.sentences,
          signatures: result.signatures,
          ...(result.intervals ? { intervals: result.intervals } : {})
        }) + "\n")
      } else process.stdout.write(formatScoreTable(result) + "\n")
    }))
).pipe(Command.withDescription("Score predictions against references: ROUGE, BLEU, chrF, SQuAD EM/F1, exact match"))
