import { afterEach, describe, expect, it } from "vitest"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { makeLineReader, makeOutputFiles } from "../../src/engine/internal/OutputFiles.js"

describe("output files", () => {
  const dirs: Array<string> = []
  afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })))
  const tempDir = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-output-"))
    dirs.push(d)
    return d
  }

  it("hand over whole lines as the file grows, with characters split across writes decoded whole", () => {
    const dir = tempDir()
    const files = makeOutputFiles(path.join(dir, "tmp"))
    const file = files.take()
    const writer = fs.openSync(file, "a")
    const fd = fs.openSync(file, "r+")
    const lines: Array<string> = []
    const reader = makeLineReader(fd, (l) => lines.push(l))
    const e = Buffer.from("é")
    fs.writeSync(writer, Buffer.concat([Buffer.from("first\ncaf"), e.subarray(0, 1)]))
    reader.read()
    expect(lines).toEqual(["first"])
    fs.writeSync(writer, Buffer.concat([e.subarray(1), Buffer.from("\nlast, without newline")]))
    reader.read()
    expect(lines).toEqual(["first", "café"])
    reader.end()
    expect(lines).toEqual(["first", "café", "last, without newline"])
    fs.closeSync(writer)
    // Given back, the file is emptied and its name reused; closing the run removes it.
    files.give(file, fd)
    expect(fs.statSync(file).size).toBe(0)
    expect(files.take()).toBe(file)
    expect(files.take()).not.toBe(file)
    files.close()
    expect(fs.readdirSync(path.join(dir, "tmp"))).toEqual([])
  })
})
