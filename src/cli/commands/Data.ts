/**
 * `cairn data validate|convert`: the dataset readers behind the ingest stage, as commands.
 */
import { Effect } from "effect"
import { Argument, Command, Flag } from "effect/cli"

const formatFlag = Flag.String("format").pipe(
  Flag.withDefault("auto"),
  Flag.withDescription("auto, jsonl, alpaca, chat, self-instruct, csv or taxonomy (auto detects from content and path)")
)

const finish = (r: { readonly exitCode: number; readonly output: string }) =>
  Effect.sync(() => {
    ;(r.exitCode === 0 ? process.stdout : process.stderr).write(r.output + "\n")
    process.exitCode = r.exitCode
  })

const validateCommand = Command.make(
  "validate",
  { target: Argument.String("path").pipe(Argument.withDescription("A data file or directory (e.g. an InstructLab taxonomy)")), format: formatFlag },
  (f) =>
    Effect.promise(() => import("../../ml/data/DataCommands.js")).pipe(
      Effect.flatMap((m) => Effect.promise(() => m.runValidate(f.target, f.format))),
      Effect.flatMap(finish)
    )
).pipe(Command.withDescription("Check every record; print counts per task, or every bad record as file:line: field: reason (exit 2)"))

const convertCommand = Command.make(
  "convert",
  {
    input: Argument.String("in").pipe(Argument.withDescription("Input file or directory")),
    output: Argument.String("out").pipe(Argument.withDescription("Canonical JSONL to write")),
    format: formatFlag
  },
  (f) =>
    Effect.promise(() => import("../../ml/data/DataCommands.js")).pipe(
      Effect.flatMap((m) => Effect.promise(() => m.runConvert(f.input, f.output, f.format))),
      Effect.flatMap(finish)
    )
).pipe(Command.withDescription("Convert any supported format to canonical JSONL ({id, task, prompt, completion, source})"))

export const dataCommand = Command.make("data").pipe(
  Command.withDescription("Validate and convert instruction datasets"),
  Command.withSubcommands([validateCommand, convertCommand])
)
