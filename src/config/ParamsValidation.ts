/**
 * Checks a stage's `with:` object against the stage's `params.schema.json`.
 *
 * ajv runs with `useDefaults` (so the value handed to the stage has every schema default filled
 * in, which is what the generated `params.ts` types describe) and `allErrors` (so a pipeline
 * author sees every mistake at once). Each problem is an `InvalidParams` naming the stage, the
 * JSON pointer into `with:` and the reason; the caller adds file and line. Compiled validators
 * are cached per schema object, so validating many stages of one kind compiles once.
 */
import { Data, Effect } from "effect"
import { Ajv, type ErrorObject, type ValidateFunction } from "ajv"
import type { JsonSchema } from "../core/BuiltinStage.js"

/** One problem in a stage's `with:`; `message` is the reason alone, the caller places it. */
export class InvalidParams extends Data.TaggedError("InvalidParams")<{
  readonly stage: string
  /** JSON pointer into the `with:` object (`/nearDedupe/threshold`); `""` is the object itself. */
  readonly pointer: string
  readonly reason: string
}> {
  override get message(): string {
    return this.reason
  }
}

export interface ParamsValidation<P> {
  /** The params with schema defaults applied (a copy; the input is not touched). */
  readonly value: P
  readonly errors: ReadonlyArray<InvalidParams>
}

const ajv = new Ajv({ useDefaults: true, allErrors: true, strict: true })
const compiled = new WeakMap<JsonSchema, ValidateFunction>()

const compile = (schema: JsonSchema): ValidateFunction => {
  let validate = compiled.get(schema)
  if (validate === undefined) {
    // `$schema`/`$id` are documentation here; stripping them keeps one ajv instance usable
    // for every stage schema without registering ids.
    const { $schema: _schema, $id: _id, ...body } = schema
    validate = ajv.compile(body)
    compiled.set(schema, validate)
  }
  return validate
}

/** Validates `value` (a `with:` object, `undefined` meaning none) against a stage's schema. */
export const validateStageParams = <P = unknown>(stage: string, schema: JsonSchema, value: unknown): ParamsValidation<P> => {
  const copy: unknown = value === undefined ? {} : structuredClone(value)
  const validate = compile(schema)
  if (validate(copy)) return { value: copy as P, errors: [] }
  return { value: copy as P, errors: (validate.errors ?? []).map((e) => toInvalidParams(stage, e)) }
}

/** The same check as an Effect that fails with the first problem (all of them are in `errors`). */
export const decodeStageParams = <P>(stage: string, schema: JsonSchema, value: unknown): Effect.Effect<P, InvalidParams> =>
  Effect.suspend(() => {
    const result = validateStageParams<P>(stage, schema, value)
    return result.errors.length === 0 ? Effect.succeed(result.value) : Effect.fail(result.errors[0]!)
  })

const toInvalidParams = (stage: string, error: ErrorObject): InvalidParams => {
  const p = error.params as Record<string, unknown>
  switch (error.keyword) {
    case "required":
      return new InvalidParams({ stage, pointer: `${error.instancePath}/${escape(String(p["missingProperty"]))}`, reason: "is required" })
    case "additionalProperties":
      return new InvalidParams({ stage, pointer: `${error.instancePath}/${escape(String(p["additionalProperty"]))}`, reason: "is not a known parameter" })
    case "enum":
      return new InvalidParams({
        stage,
        pointer: error.instancePath,
        reason: `must be one of ${(p["allowedValues"] as ReadonlyArray<unknown>).map((v) => JSON.stringify(v)).join(", ")}`
      })
    default:
      return new InvalidParams({ stage, pointer: error.instancePath, reason: error.message ?? error.keyword })
  }
}

const escape = (key: string): string => key.replace(/~/g, "~0").replace(/\//g, "~1")
