/**
 * A copy of everything the process writes to stdout and stderr while a scope is open, as the
 * bytes a user saw: the no-op fast path replays a run's output exactly, whichever reporter (or
 * anything else) printed it. Output still goes where it went; the tap only keeps a copy.
 */
import { Effect, type Scope } from "effect"

export interface TappedOutput {
  readonly stdout: () => string
  readonly stderr: () => string
  /** False when the bytes are not valid UTF-8, and so would not survive as text. */
  readonly exact: () => boolean
}

const tap = (stream: NodeJS.WriteStream) => {
  const chunks: Array<Buffer> = []
  const original = stream.write
  stream.write = function(this: NodeJS.WriteStream, chunk: unknown, encoding?: unknown, cb?: unknown) {
    chunks.push(typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? encoding as BufferEncoding : "utf8") : Buffer.from(chunk as Uint8Array))
    return (original as (...args: Array<unknown>) => boolean).call(this, chunk, encoding, cb)
  } as typeof stream.write
  return {
    text: () => Buffer.concat(chunks).toString("utf8"),
    bytes: () => Buffer.concat(chunks),
    restore: () => {
      stream.write = original
    }
  }
}

/** Taps stdout and stderr until the scope closes. */
export const tapOutput: Effect.Effect<TappedOutput, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => ({ out: tap(process.stdout), err: tap(process.stderr) })),
  (t) =>
    Effect.sync(() => {
      t.out.restore()
      t.err.restore()
    })
).pipe(Effect.map((t): TappedOutput => ({
  stdout: t.out.text,
  stderr: t.err.text,
  exact: () => Buffer.from(t.out.text()).equals(t.out.bytes()) && Buffer.from(t.err.text()).equals(t.err.bytes())
})))
