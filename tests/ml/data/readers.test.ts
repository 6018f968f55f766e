/**
 * Every reader on fixtures and on the shipped real data: the records produced, auto-detection,
 * and bad records reported as `file:line: field: reason` with real line numbers.
 */
import { describe, expect, it } from "vitest"
import * as fs from "node:fs/promises"
import * as os from "node:os"
import * as path from "node:path"
import { readDataset } from "../../../src/ml/data/Dataset.js"
import { DatasetInvalid, formatInvalid } from "../../../src/ml/data/DataErrors.js"
import { contentId } from "../../../src/ml/data/DataRecord.js"

const F = "tests/ml/data/fixtures"
const messages = async (target: string, format?: "auto" | "taxonomy") =>
  (await readDataset(target, { onInvalid: "skip", ...(format ? { format } : {}) })).invalid.map(formatInvalid)

describe("prompt/completion JSONL", () => {
  it("reads records, keeps given ids and meta, and suffixes repeated content", async () => {
    const d = await readDataset(`${F}/pc.jsonl`)
    expect(d.format).toBe("jsonl")
    expect(d.records.map((r) => r.id)).toEqual([
      contentId("pc", "What is 2 + 2?", "4"),
      contentId("colours", "Name a primary colour.", "Red"),
      "custom-1",
      `${contentId("pc", "What is 2 + 2?", "4")}~2`
    ])
    expect(d.records[1]!.task).toBe("colours")
    expect(d.records[0]!.task).toBe("pc") // file name when the format has no task
    expect(d.records[2]!.meta).toEqual({ origin: "hand" })
  })

  it("fails listing every bad line, or skips and counts them", async () => {
    const error = await readDataset(`${F}/pc-bad.jsonl`).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(DatasetInvalid)
    const expected = [
      `${F}/pc-bad.jsonl:2: completion: missing required field`,
      `${F}/pc-bad.jsonl:3: record: not valid JSON`,
      `${F}/pc-bad.jsonl:4: prompt: must not be empty`,
      `${F}/pc-bad.jsonl:5: prompt: must be a string, got number`,
      `${F}/pc-bad.jsonl:6: record: must be a JSON object`
    ]
    const listed = (error as DatasetInvalid).invalid.map(formatInvalid)
    expected.forEach((line, i) => expect(listed[i]!.startsWith(line)).toBe(true))
    const skipped = await readDataset(`${F}/pc-bad.jsonl`, { onInvalid: "skip" })
    expect(skipped.records.map((r) => r.prompt)).toEqual(["ok", "ok again"])
    expect(skipped.skipped).toBe(5)
  })
})

describe("alpaca", () => {
  it("reads a JSON array, reporting the line where the bad element starts", async () => {
    const d = await readDataset(`${F}/alpaca.json`, { onInvalid: "skip" })
    expect(d.format).toBe("alpaca")
    expect(d.records.map((r) => r.prompt)).toEqual(["Give three tips for staying healthy.", "Translate to French.\n\nGood morning", "Compact one."])
    expect(d.invalid.map(formatInvalid)).toEqual([`${F}/alpaca.json:12: output: missing required field`])
  })

  it("reads JSON Lines too", async () => {
    const d = await readDataset(`${F}/alpaca.jsonl`)
    expect(d.format).toBe("alpaca")
    expect(d.records[0]!.prompt).toBe("Summarise the text.\n\nCats sleep a lot. They also eat.")
    expect(d.records[0]!.completion).toBe("Cats sleep and eat.")
  })
})

describe("chat messages", () => {
  it("turns the last assistant turn into the completion and keeps the system prompt in meta", async () => {
    const d = await readDataset(`${F}/chat.jsonl`, { onInvalid: "skip" })
    expect(d.format).toBe("chat")
    expect(d.records[0]).toMatchObject({ prompt: "Hello?", completion: "Hi there." })
    expect(d.records[1]).toMatchObject({
      prompt: "User: 2+2?\n\nAssistant: 4\n\nUser: And 3+3?",
      completion: "6",
      meta: { system: "You are terse.", metadata: { lang: "en" } }
    })
    expect(d.invalid.map(formatInvalid)).toEqual([
      `${F}/chat.jsonl:3: messages[1].role: unknown role "robot" (expected system, user or assistant)`,
      `${F}/chat.jsonl:4: messages[0].role: the last message must be the assistant's, got "user"`,
      `${F}/chat.jsonl:5: messages: must not be empty`
    ])
  })
})

describe("self-instruct", () => {
  it("yields one record per instance, task from the task name", async () => {
    const d = await readDataset(`${F}/self-instruct.jsonl`, { onInvalid: "skip" })
    expect(d.format).toBe("self-instruct")
    expect(d.records.map((r) => [r.task, r.prompt, r.completion])).toEqual([
      ["antonyms", "Give the antonym of the word.\n\nhot", "cold"],
      ["antonyms", "Give the antonym of the word.\n\nup", "down"],
      ["haiku", "Write a haiku about autumn.", "Leaves drift on cold wind\nred and gold on quiet paths\nthe year exhales slow"]
    ])
    expect(d.records[0]!.meta).toEqual({ taskId: "seed_task_0", is_classification: false })
    expect(d.invalid.map(formatInvalid)).toEqual([`${F}/self-instruct.jsonl:3: instances[0].output: missing required field`])
  })

  it("reads the 175 shipped seed tasks", async () => {
    const d = await readDataset("pipelines/data/self-instruct/data/seed_tasks.jsonl")
    expect(d.format).toBe("self-instruct")
    expect(d.records).toHaveLength(175)
    expect(new Set(d.records.map((r) => r.id)).size).toBe(175)
  })
})

describe("CSV", () => {
  it("parses quoted newlines and quotes, keeps extra columns as meta, and reports physical lines", async () => {
    const d = await readDataset(`${F}/data.csv`, { onInvalid: "skip" })
    expect(d.format).toBe("csv")
    expect(d.records.map((r) => [r.task, r.prompt, r.completion])).toEqual([
      ["poetry", "Write a line\nabout the sea.", "The sea is wide."],
      ["math", "What is 1+1?", "2"],
      ["misc", "Quote \"inside\" here", "ok"]
    ])
    expect(d.records[0]!.meta).toEqual({ difficulty: "easy" })
    // the first data row spans lines 2-3, so the empty prompt is on line 6 (after a blank line 5)
    expect(d.invalid.map(formatInvalid)).toEqual([`${F}/data.csv:6: prompt: must not be empty`])
  })

  it("accepts instruction/input/output columns and rejects unknown headers", async () => {
    const d = await readDataset(`${F}/instructions.csv`)
    expect(d.records.map((r) => r.prompt)).toEqual(["Translate\n\nHello", "Summarise"])
    expect(await messages(`${F}/bad-header.csv`)).toEqual([
      `${F}/bad-header.csv:1: header: needs columns prompt+completion or instruction+output, found question, answer`
    ])
  })
})

describe("InstructLab taxonomy", () => {
  it("reads skills and knowledge of schema v1, v2 and v3 with the taxonomy path as task", async () => {
    const d = await readDataset(`${F}/taxonomy`)
    expect(d.format).toBe("taxonomy")
    const byTask = (task: string) => d.records.filter((r) => r.task === task)
    // v1 skill: block scalars are trimmed
    expect(byTask("compositional_skills/writing/haiku").map((r) => r.completion)).toEqual([
      "Soft rain on the roof\ncounting the hours until dawn\npuddles hold the sky",
      "White hush on the street\nfootprints fill before morning\nthe lamp hums alone"
    ])
    // v3 grounded skill: the context follows the question
    expect(byTask("compositional_skills/grounded/rewrite")[0]!.prompt).toBe(
      "Rewrite this in plain English.\n\nThe meeting has been postponed to a later date to be determined."
    )
    // v2 foundational skill
    expect(byTask("foundational_skills/reasoning/basic")).toHaveLength(5)
    // v3 knowledge: one record per question/answer pair under each context
    const robin = byTask("knowledge/birds/robin")
    expect(robin).toHaveLength(15)
    expect(robin[3]).toMatchObject({
      prompt: "What colour is the breast?\n\nRobins are known for their orange-red breast.",
      completion: "Orange-red.",
      meta: { kind: "knowledge", version: 3, domain: "birds", created_by: "someone" }
    })
    // v1 knowledge
    expect(byTask("knowledge/history/rome")[0]).toMatchObject({ prompt: "Who was the first Roman emperor?", completion: "Augustus.", meta: { version: 1 } })
  })

  it("reports malformed files as file:line: field: reason", async () => {
    const B = `${F}/bad-taxonomy`
    expect(await messages(B)).toEqual([
      `${B}/compositional_skills/broken/qna.yaml:7: seed_examples[1].answer: missing required field (skill v2)`,
      `${B}/compositional_skills/broken/qna.yaml:10: seed_examples[2].extra: unknown field (skill v2)`,
      `${B}/compositional_skills/broken/qna.yaml:11: seed_examples[3].question: must not be empty`,
      `${B}/compositional_skills/syntax/qna.yaml:6: yaml: Missing closing "quote`,
      `${B}/compositional_skills/too_few/qna.yaml:4: seed_examples: needs at least 5 items (skill v2)`,
      `${B}/knowledge/broken/qna.yaml:1: document_outline: missing required field (knowledge v3)`,
      `${B}/knowledge/broken/qna.yaml:4: task_description: unknown field (knowledge v3)`,
      `${B}/knowledge/broken/qna.yaml:5: seed_examples: needs at least 5 items (knowledge v3)`,
      `${B}/knowledge/broken/qna.yaml:7: seed_examples[0].questions_and_answers: needs at least 3 items (knowledge v3)`,
      `${B}/knowledge/broken/qna.yaml:13: document.patterns: needs at least 1 item (knowledge v3)`
    ])
  })

  it("with onInvalid skip keeps the valid examples of a file and counts the rest", async () => {
    const d = await readDataset(`${F}/bad-taxonomy/compositional_skills/broken/qna.yaml`, { onInvalid: "skip" })
    expect(d.records.map((r) => r.prompt)).toEqual(["Q1", "Q5"])
    expect(d.skipped).toBe(3)
  })

  it("reads the 62 shipped files (201 pairs), including the PyYAML-style quoted continuations", async () => {
    const d = await readDataset("pipelines/data/instructlab-taxonomy")
    expect(d.records).toHaveLength(201)
    expect(new Set(d.records.map((r) => r.task)).size).toBe(62)
    const emoji = d.records.filter((r) => r.task === "compositional_skills/writing/freeform/emoji")
    expect(emoji).toHaveLength(12)
    expect(emoji[2]!.prompt).toBe("Replace words with emoji in this text: I am taking my dog to the park for a walk")
  })

  it("bounds YAML alias expansion", async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "cairn-yaml-"))
    const lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(", ")}]`)
    const file = path.join(dir, "qna.yaml")
    await fs.writeFile(file, lines.join("\n") + "\n")
    const started = Date.now()
    const d = await readDataset(file, { onInvalid: "skip" })
    expect(Date.now() - started).toBeLessThan(2000)
    expect(d.records).toHaveLength(0)
    expect(d.invalid[0]!.field).toBe("yaml")
    await fs.rm(dir, { recursive: true, force: true })
  })
})

describe("format detection", () => {
  it.each([
    ["pc.jsonl", "jsonl"],
    ["alpaca.json", "alpaca"],
    ["chat.jsonl", "chat"],
    ["self-instruct.jsonl", "self-instruct"],
    ["data.csv", "csv"],
    ["taxonomy", "taxonomy"],
    ["taxonomy/knowledge/birds/robin/qna.yaml", "taxonomy"]
  ])("%s is %s", async (file, format) => {
    expect((await readDataset(`${F}/${file}`, { onInvalid: "skip" })).format).toBe(format)
  })
})

describe("sourceAs", () => {
  it("records the path as written instead of the one read, for files inside directories too", async () => {
    const d = await readDataset(`./${F}/taxonomy/`, { sourceAs: "data/tax" })
    expect(d.records[0]!.source).toBe("data/tax/compositional_skills/grounded/rewrite/qna.yaml")
    const e = await readDataset(path.resolve(`${F}/chat.jsonl`), { sourceAs: "chat.jsonl", onInvalid: "skip" })
    expect(e.records[0]!.source).toBe("chat.jsonl")
    expect(e.invalid[0]!.file).toBe("chat.jsonl")
  })
})

describe("taxonomy task paths", () => {
  it("start at the taxonomy root folder at or below the named directory", async () => {
    const { taxonomyTask } = await import("../../../src/ml/data/readers/Taxonomy.js")
    expect(taxonomyTask("/home/knowledge/repo/tax/compositional_skills/a/b/qna.yaml", "/home/knowledge/repo/tax")).toBe("compositional_skills/a/b")
    expect(taxonomyTask("/x/tax/knowledge/history/rome/qna.yaml", "/x/tax/knowledge/history")).toBe("knowledge/history/rome")
    expect(taxonomyTask("/x/skills/writing/haiku/qna.yaml", "/x/skills")).toBe("writing/haiku")
    expect(taxonomyTask("/x/skills/qna.yaml", "/x/skills")).toBe("skills")
  })
})
