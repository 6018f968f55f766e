import * as crypto from "node:crypto"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect } from "effect"
import { afterEach, beforeEach, describe, expect, it } from "vitest"
import { makeStore } from "../../src/store/ArtifactStore.js"

const sha256 = (data: string) => crypto.createHash("sha256").update(data).digest("hex")

describe("ArtifactStore.stage", () => {
  let dir: string
  let store: ReturnType<typeof makeStore>
  const tmpFiles = () => (fs.existsSync(store.tmpDir) ? fs.readdirSync(store.tmpDir) : [])
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-store-"))
    store = makeStore(path.join(dir, "cache"))
    fs.writeFileSync(path.join(dir, "a.txt"), "alpha\n")
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  it("hashes the copy at once and names the object only on commit", async () => {
    const staged = await Effect.runPromise(store.stage(path.join(dir, "a.txt")))
    expect(staged.entry).toEqual({ type: "file", hash: sha256("alpha\n") })
    expect(fs.existsSync(store.objectPath(sha256("alpha\n")))).toBe(false)
    await Effect.runPromise(staged.commit)
    expect(fs.readFileSync(store.objectPath(sha256("alpha\n")), "utf8")).toBe("alpha\n")
    expect(tmpFiles()).toEqual([])
  })

  it("leaves nothing behind when aborted", async () => {
    const staged = await Effect.runPromise(store.stage(path.join(dir, "a.txt")))
    expect(tmpFiles()).toHaveLength(1)
    staged.abort()
    staged.abort()
    expect(tmpFiles()).toEqual([])
    expect(fs.existsSync(store.objectPath(sha256("alpha\n")))).toBe(false)
  })

  it("commits a directory's files before its manifest", async () => {
    fs.mkdirSync(path.join(dir, "d/sub"), { recursive: true })
    fs.writeFileSync(path.join(dir, "d/x.txt"), "x\n")
    fs.writeFileSync(path.join(dir, "d/sub/y.txt"), "y\n")
    const staged = await Effect.runPromise(store.stage(path.join(dir, "d")))
    expect(staged.entry.type).toBe("dir")
    expect(staged.files.map((f) => f.hash).sort()).toEqual([sha256("x\n"), sha256("y\n")].sort())
    expect(fs.existsSync(store.objectPath(staged.entry.hash))).toBe(false)
    await Effect.runPromise(staged.commit)
    const manifest = JSON.parse(fs.readFileSync(store.objectPath(staged.entry.hash), "utf8"))
    for (const [, hash] of manifest.entries) expect(fs.existsSync(store.objectPath(hash))).toBe(true)
    expect(tmpFiles()).toEqual([])
  })

  it("stages nothing for bytes the store already has", async () => {
    await Effect.runPromise(Effect.flatMap(store.stage(path.join(dir, "a.txt")), (s) => s.commit))
    fs.writeFileSync(path.join(dir, "b.txt"), "alpha\n")
    const staged = await Effect.runPromise(store.stage(path.join(dir, "b.txt")))
    expect(tmpFiles()).toEqual([])
    await Effect.runPromise(staged.commit)
    expect(fs.readdirSync(path.dirname(store.objectPath(sha256("alpha\n"))))).toHaveLength(1)
  })
})
