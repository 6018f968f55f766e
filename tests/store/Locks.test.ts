/**
 * Stage locks: a second holder waits, a dead holder's lock is taken over (and the stage process
 * group it left running is killed), and a run leaves nothing behind in the lock directory.
 */
import { spawn, spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { Effect, Fiber } from "effect"
import { afterEach, assert, beforeEach, describe, it } from "vitest"
import { acquireLock } from "../../src/store/Locks.js"

let dir: string
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "cairn-locks-"))
})
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

const lockFiles = () => fs.readdirSync(dir).filter((f) => f.endsWith(".lock"))
const holderFiles = () => fs.readdirSync(dir).filter((f) => f.startsWith("holder-") && f.endsWith(".json"))

/** A pid that belonged to a process which has exited. */
const deadPid = (): number => Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" }).stdout)

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A process group a dead run left running; `gone()` says whether it was stopped within 5 s. */
const startOrphan = async () => {
  const orphan = spawn("sleep", ["30"], { detached: true, stdio: "ignore" })
  const exited = new Promise((r) => orphan.once("exit", r))
  await new Promise((r) => orphan.once("spawn", r))
  const gone = async () => {
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))])
    const survived = alive(orphan.pid!)
    if (survived) orphan.kill("SIGKILL")
    return !survived
  }
  return { pid: orphan.pid!, gone }
}

describe("acquireLock", () => {
  it("holds a lock while its scope is open and waits, saying so, while another holds it", async () => {
    const waited: Array<string> = []
    const order: Array<string> = []
    await Effect.runPromise(Effect.gen(function*() {
      const first = yield* Effect.forkChild(Effect.scoped(Effect.gen(function*() {
        yield* acquireLock(dir, "stage:a", () => Effect.void)
        order.push("first in")
        yield* Effect.sleep("200 millis")
        order.push("first out")
      })))
      yield* Effect.sleep("50 millis")
      yield* Effect.scoped(Effect.gen(function*() {
        yield* acquireLock(dir, "stage:a", (holder) => Effect.sync(() => waited.push(holder)))
        order.push("second in")
        // Two locks at once are two names for one holder file.
        yield* acquireLock(dir, "stage:b", () => Effect.void)
        assert.strictEqual(lockFiles().length, 2)
        assert.strictEqual(holderFiles().length, 1)
        assert.strictEqual(fs.statSync(path.join(dir, holderFiles()[0]!)).nlink, 3)
      }))
      yield* Fiber.join(first)
    }))
    assert.deepStrictEqual(order, ["first in", "first out", "second in"])
    assert.deepStrictEqual(waited, [`pid ${process.pid}`])
    assert.deepStrictEqual(lockFiles(), [])
  })

  it("takes over the lock of a dead process and kills the stage process group it left", async () => {
    // A dead cairn's state: its lock links to its holder, whose group log names the stage's process group.
    const orphan = await startOrphan()
    const pid = deadPid()
    let lockName = ""
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const lock = yield* acquireLock(dir, "stage:a", () => Effect.void)
      lockName = path.basename(lock.file)
    })))
    const holder = path.join(dir, `holder-${pid}-dead.json`)
    fs.writeFileSync(holder, JSON.stringify({ pid, host: os.hostname(), holder: path.basename(holder) }))
    fs.writeFileSync(holder.replace(/\.json$/, ".groups"), `${lockName} ${orphan.pid}\n`)
    fs.linkSync(holder, path.join(dir, lockName))

    const waited: Array<string> = []
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const lock = yield* acquireLock(dir, "stage:a", (h) => Effect.sync(() => waited.push(h)))
      assert.strictEqual(path.basename(lock.file), lockName)
      const owner = JSON.parse(fs.readFileSync(lock.file, "utf8"))
      assert.strictEqual(owner.pid, process.pid)
    })))
    assert.deepStrictEqual(waited, [])
    assert.isTrue(await orphan.gone(), "the dead run's stage process group is still running")
    // The dead process's holder went with its last lock.
    assert.isFalse(fs.existsSync(holder))
    assert.isFalse(fs.existsSync(holder.replace(/\.json$/, ".groups")))
    assert.deepStrictEqual(lockFiles(), [])
  })

  it("finds the process group a launcher logged for a dead process before that process heard of it", async () => {
    const orphan = await startOrphan()
    const pid = deadPid()
    let lockName = ""
    let groupLog = ""
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const lock = yield* acquireLock(dir, "stage:b", () => Effect.void)
      lockName = path.basename(lock.file)
      groupLog = lock.groupLog!.file
      assert.strictEqual(lock.groupLog!.name, lockName)
    })))
    // An earlier stage under the same lock finished ("-"); the last one's group was logged.
    const holder = path.join(dir, `holder-${pid}-dead.json`)
    fs.writeFileSync(holder, JSON.stringify({ pid, host: os.hostname(), holder: path.basename(holder) }))
    fs.writeFileSync(holder.replace(/\.json$/, ".groups"), `${lockName} 1\n${lockName} -\n${lockName} ${orphan.pid}\n`)
    fs.linkSync(holder, path.join(dir, lockName))
    assert.strictEqual(path.dirname(groupLog), dir)

    await Effect.runPromise(Effect.scoped(acquireLock(dir, "stage:b", () => Effect.void)))
    assert.isTrue(await orphan.gone(), "the logged process group is still running")
    assert.isFalse(fs.existsSync(holder.replace(/\.json$/, ".groups")))
  })

  it("marks a stage's logged process group finished when its lock is released", async () => {
    let log = ""
    let name = ""
    await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const lock = yield* acquireLock(dir, "stage:a", () => Effect.void)
      log = lock.groupLog!.file
      name = lock.groupLog!.name
      // What the process starting the stage writes, before this one hears of the pid.
      fs.appendFileSync(log, `${name} 4242\n`)
      lock.setChild(4242)
    })))
    assert.deepStrictEqual(fs.readFileSync(log, "utf8").trim().split("\n"), [`${name} 4242`, `${name} -`])
    assert.deepStrictEqual(lockFiles(), [])
  })
})
