/**
 * Where a run's commands write their output: a file per running command, which the command's
 * stdout and stderr share (appending, so both keep the order they were written in), and which the
 * engine reads as it grows. A pipe per stream would cost the process that starts the command a
 * stream object, an event-loop handle and a message to the engine for every chunk; a file costs
 * the kernel's write and a read here every 100 ms.
 *
 * A file is reused once its command has ended and it has been read, so a run creates about as many
 * as it has stages ready at once. A process that left its stage's process group and still
 * writes to the file after that would write into a later command's output; a daemon detaches
 * from its output anyway.
 */
import * as fs from "node:fs"
import * as path from "node:path"

/** A run's output files. */
export interface OutputFiles {
  /**
   * A file for one command. Whoever starts the command creates it (opening it to append), so a
   * stage that waits for a job holds a name, not a file.
   */
  readonly take: () => string
  /**
   * The command has ended and its output has been read (through `fd`, when it started): the file
   * is emptied and its name reused.
   */
  readonly give: (file: string, fd: number | undefined) => void
  /** The run is over: every file is removed. */
  readonly close: () => void
}

let created = 0

export const makeOutputFiles = (dir: string): OutputFiles => {
  const free: Array<string> = []
  const all: Array<string> = []
  let dirReady = false
  return {
    take: () => {
      const reused = free.pop()
      if (reused !== undefined) return reused
      if (!dirReady) {
        fs.mkdirSync(dir, { recursive: true })
        dirReady = true
      }
      const file = path.join(dir, `output.${process.pid}.${(created++).toString(36)}`)
      all.push(file)
      return file
    },
    give: (file, fd) => {
      if (fd !== undefined) {
        fs.ftruncateSync(fd, 0)
        fs.closeSync(fd)
      }
      free.push(file)
    },
    close: () => {
      for (const f of all.splice(0)) fs.rmSync(f, { force: true })
      free.length = 0
    }
  }
}

/**
 * Reads a command's output file as it grows and hands over complete lines. Lines are cut at
 * newline bytes, which never occur inside a UTF-8 sequence, so a character split across two reads
 * is decoded whole.
 */
export const makeLineReader = (fd: number, onLine: (line: string) => void) => {
  let offset = 0
  let partial: Buffer = Buffer.alloc(0)
  const buf = Buffer.allocUnsafe(64 << 10)
  const read = () => {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, buf.length, offset)
      if (n === 0) return
      offset += n
      let chunk = buf.subarray(0, n)
      if (partial.length > 0) {
        chunk = Buffer.concat([partial, chunk])
        partial = Buffer.alloc(0)
      }
      let start = 0
      for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
        onLine(chunk.toString("utf8", start, nl))
        start = nl + 1
      }
      // Copied: buf is overwritten by the next read.
      if (start < chunk.length) partial = Buffer.from(chunk.subarray(start))
    }
  }
  return {
    /** Hands over the lines completed since the last call. */
    read,
    /** The command has ended: reads the rest, and hands over a last line without a newline. */
    end: () => {
      read()
      if (partial.length > 0) onLine(partial.toString("utf8"))
      partial = Buffer.alloc(0)
    }
  }
}
