/**
 * JSON Schemas of InstructLab `qna.yaml` files, versions 1 to 3, skills and knowledge.
 *
 * Written from instructlab/schema (`src/instructlab/schema/v{1,2,3}`) as summarised in
 * `pipelines/data/instructlab-taxonomy/SOURCE.md`: unknown keys are rejected at the top level and
 * inside items, present strings must be non-empty except v1's `task_description`, v2+ need at
 * least five seed examples, and v3 knowledge groups question/answer pairs under a `context`.
 */
import type { JsonSchema } from "../../../core/BuiltinStage.js"

export type TaxonomyKind = "skill" | "knowledge"
export type TaxonomyVersion = 1 | 2 | 3

const text = { type: "string", minLength: 1 } as const

const questionAnswer = {
  type: "object",
  required: ["question", "answer"],
  additionalProperties: false,
  properties: { question: text, answer: text }
} as const

const document = {
  type: "object",
  required: ["repo", "commit", "patterns"],
  additionalProperties: false,
  properties: {
    repo: text,
    commit: text,
    patterns: { type: "array", minItems: 1, uniqueItems: true, items: text }
  }
} as const

const version = (v: TaxonomyVersion) => ({ type: "integer", const: v })

const skill = (v: TaxonomyVersion): JsonSchema => ({
  type: "object",
  required: [...(v > 1 ? ["version"] : []), "created_by", "task_description", "seed_examples"],
  additionalProperties: false,
  properties: {
    version: version(v),
    created_by: text,
    task_description: v === 1 ? { type: "string" } : text,
    seed_examples: {
      type: "array",
      minItems: v === 1 ? 1 : 5,
      items: {
        type: "object",
        required: ["question", "answer"],
        additionalProperties: false,
        properties: { context: text, question: text, answer: text }
      }
    }
  }
})

const knowledgeV1V2 = (v: 1 | 2): JsonSchema => ({
  type: "object",
  required: [...(v > 1 ? ["version"] : []), "created_by", "domain", "task_description", "seed_examples", "document"],
  additionalProperties: false,
  properties: {
    version: version(v),
    created_by: text,
    domain: text,
    task_description: v === 1 ? { type: "string" } : text,
    seed_examples: { type: "array", minItems: v === 1 ? 1 : 5, items: questionAnswer },
    document
  }
})

const knowledgeV3: JsonSchema = {
  type: "object",
  required: ["version", "created_by", "domain", "seed_examples", "document_outline", "document"],
  additionalProperties: false,
  properties: {
    version: version(3),
    created_by: text,
    domain: text,
    document_outline: text,
    seed_examples: {
      type: "array",
      minItems: 5,
      items: {
        type: "object",
        required: ["context", "questions_and_answers"],
        additionalProperties: false,
        properties: {
          context: text,
          questions_and_answers: { type: "array", minItems: 3, items: questionAnswer }
        }
      }
    },
    document
  }
}

export const taxonomySchema = (kind: TaxonomyKind, v: TaxonomyVersion): JsonSchema =>
  kind === "skill" ? skill(v) : v === 3 ? knowledgeV3 : knowledgeV1V2(v)
