/**
 * Helper threads for large matrix products on the wasm backend.
 *
 * TensorFlow.js in Node runs the single-threaded wasm build, so a training step uses one core.
 * Each helper is a worker thread with its own instance of the same XNNPACK wasm binary; a
 * product out = a·b is split by rows of a: the calling thread computes the first block, each
 * helper one of the others. Operands travel through a SharedArrayBuffer per helper (the
 * backend's wasm memory is not shared); hand-off and completion are signalled with Atomics.
 *
 * The calling thread never waits on a helper without a bound. A helper can stop answering —
 * its thread died or was terminated, or it is not getting a core because another process (a
 * second trial on a 2-core machine) is using it — and nothing can wake a thread blocked in
 * `Atomics.wait` except the helper itself. So the caller waits at most about as long as its
 * own block took, then computes the missing rows itself. A helper that missed its deadline is
 * skipped until it reports its late job done; its buffer is its own, so the late result lands
 * nowhere the caller reads.
 *
 * Every output row is computed by the same XNNPACK kernel from the same inputs whichever
 * thread computes it, so results are bit-identical for any number of helpers, and whether or
 * not one of them fell behind (resumed runs stay exact even if the thread count changes).
 */
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads"

/** Control words shared with a helper. */
const SEQ = 0 // bumped by the caller to post a job; -1 asks the helper to exit
const DONE = 1 // set by the helper to the job's SEQ when finished (failed or not)
const M = 2
const K = 3
const N = 4
const FAILED = 5 // 1 when the helper could not compute the job; the caller recomputes it
const STATE = 6 // 0 while starting, then READY, then EXITED; read by the caller without blocking
const STALL = 7 // milliseconds the helper sleeps before each job (fault injection in tests)
const FMA = 8 // 1: the relaxed-SIMD kernel (with CHUNK), 0: XNNPACK; must match the caller's
const BIAS = 9 // 1: n bias values follow the output in the buffer (relaxed-SIMD kernel only)
const CHUNK = 10
const CONTROL_WORDS = 12

const READY = 1
const EXITED = 2

// CommonJS run with `eval: true`, so it needs no file of its own next to the compiled module.
// Everything that can throw is inside a try: an uncaught error would end the thread, and the
// caller only notices that through STATE (set in the finally) or its deadline.
const helperSource = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads")
const ctrl = new Int32Array(workerData.control)
const port = workerData.port
let data = new Float32Array(workerData.data)
const exited = () => {
  Atomics.store(ctrl, ${STATE}, ${EXITED})
  Atomics.notify(ctrl, ${DONE})
}
const serve = (w) => {
  w._init_with_threads_count(1)
  const fma = workerData.fma === undefined
    ? undefined
    : new WebAssembly.Instance(new WebAssembly.Module(workerData.fma), { env: { memory: w.asm.memory } }).exports.gemm
  const shapes = w._malloc(24)
  let capacity = 0
  let heap = 0
  Atomics.store(ctrl, ${STATE}, ${READY})
  port.postMessage("ready")
  let seen = 0
  for (;;) {
    Atomics.wait(ctrl, ${SEQ}, seen)
    const seq = Atomics.load(ctrl, ${SEQ})
    if (seq < 0) return
    seen = seq
    let failed = 1
    try {
      const stall = Atomics.load(ctrl, ${STALL})
      if (stall > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, stall)
      for (let msg = receiveMessageOnPort(port); msg !== undefined; msg = receiveMessageOnPort(port)) data = new Float32Array(msg.message)
      const m = ctrl[${M}], k = ctrl[${K}], n = ctrl[${N}]
      const useFma = ctrl[${FMA}] === 1, bias = ctrl[${BIAS}] === 1, chunk = ctrl[${CHUNK}]
      if (useFma && fma === undefined) throw new Error("no relaxed-SIMD kernel here")
      const operands = m * k + k * n + m * n + (bias ? n : 0)
      const need = operands + (useFma ? Math.max(chunk * k * 8, k * 8 + 40) : 0)
      if (need > capacity) {
        if (heap !== 0) w._free(heap)
        heap = 0
        capacity = 0
        const at = w._malloc(need * 4)
        // malloc returns 0 when the heap cannot grow; writing there would corrupt the instance.
        if (at === 0) throw new Error("helper heap exhausted")
        heap = at
        capacity = need
      }
      const a = heap, b = heap + 4 * m * k, out = b + 4 * k * n
      new Float32Array(w.HEAPU8.buffer, a, m * k + k * n).set(data.subarray(0, m * k + k * n))
      if (useFma) {
        const biasAt = out + 4 * m * n
        if (bias) new Float32Array(w.HEAPU8.buffer, biasAt, n).set(data.subarray(m * k + k * n + m * n, operands))
        fma(a, 4 * k, 4, b, 4 * n, 0, out, 4 * n, m, k, n, heap + 4 * operands, chunk, bias ? biasAt : 0, 1)
      } else {
        const s = new Int32Array(w.HEAPU8.buffer, shapes, 6)
        s[0] = 1; s[1] = m; s[2] = k; s[3] = 1; s[4] = k; s[5] = n
        w._register_tensor(1, m * k, a)
        w._register_tensor(2, k * n, b)
        w._register_tensor(3, m * n, out)
        w._BatchMatMul(1, shapes, 3, 2, shapes + 12, 3, 0, 0, 3)
        w._dispose_data(1)
        w._dispose_data(2)
        w._dispose_data(3)
      }
      data.set(new Float32Array(w.HEAPU8.buffer, out, m * n), m * k + k * n)
      failed = 0
    } catch (e) {}
    ctrl[${FAILED}] = failed
    Atomics.store(ctrl, ${DONE}, seq)
    Atomics.notify(ctrl, ${DONE})
  }
}
const factory = require(workerData.glue)
factory({ locateFile: (p, prefix) => (p.endsWith(".wasm") ? workerData.binary : prefix + p) })
  .then((w) => { try { serve(w) } finally { exited() } }, () => exited())
`

interface Helper {
  readonly worker: Worker
  readonly port: MessagePort
  readonly control: Int32Array
  data: Float32Array
  /** Last job posted; the helper is free when DONE has caught up with it. */
  seq: number
}

/** Products smaller than this many multiply-adds are not worth the copies (~0.2 ms of work). */
const minMacs = 1 << 21

/**
 * How long the caller waits for a helper after finishing its own block, as a multiple of the
 * time that block took (helpers get blocks of the same size), and at least `minWaitMs` so that
 * waking a thread and scheduling jitter do not count as falling behind.
 */
const waitFactor = 1
const minWaitMs = 2

export class GemmPool {
  private closed = false

  private constructor(private readonly helpers: ReadonlyArray<Helper>) {}

  /**
   * Start `count` helpers; resolves once each has loaded its wasm instance. `fma` is the
   * relaxed-SIMD kernel's module (wasmGemm.ts), for jobs that ask for it.
   */
  static async start(count: number, fma?: Uint8Array): Promise<GemmPool> {
    const require = createRequire(import.meta.url)
    const pkg = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"))
    const glue = join(pkg, "wasm-out", "tfjs-backend-wasm.js")
    const binary = join(pkg, "dist", "tfjs-backend-wasm-simd.wasm")
    const started = await Promise.allSettled(
      Array.from({ length: count }, async () => {
        const control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS))
        const data = new Float32Array(new SharedArrayBuffer(4 << 20))
        const { port1, port2 } = new MessageChannel()
        const worker = new Worker(helperSource, {
          eval: true,
          workerData: { glue, binary, fma, control: control.buffer, data: data.buffer, port: port2 },
          transferList: [port2]
        })
        // Kept for the helper's whole life: an error must not become an uncaught exception
        // here, and a thread that ended (terminated, out of memory) must not be given work.
        // The deadline in gemm covers a job in flight when that happens.
        worker.on("error", () => undefined)
        const ready = new Promise<void>((resolve, reject) => {
          port1.once("message", () => resolve())
          worker.on("exit", (code) => {
            Atomics.store(control, STATE, EXITED)
            reject(new Error(`GEMM helper exited with code ${code}`))
          })
        })
        await ready
        // A helper must never keep the process alive; it only ever waits for work.
        worker.unref()
        port1.unref()
        return { worker, port: port1, control, data, seq: 0 }
      })
    )
    const helpers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []))
    const failure = started.find((r): r is PromiseRejectedResult => r.status === "rejected")
    if (failure !== undefined) {
      for (const h of helpers) stop(h)
      throw failure.reason
    }
    return new GemmPool(helpers)
  }

  get threads(): number {
    return this.helpers.length + 1
  }

  /**
   * out [m,n] = a [m,k] · b [k,n] (+ bias [n]) with rows shared among the calling thread
   * (`local`) and the helpers, all on `kernel` (the helpers must compute what `local` does).
   * `view(byteOffset, floats)` reads and writes the caller's heap; `bias` is a byte offset or 0.
   */
  gemm(
    view: (byteOffset: number, floats: number) => Float32Array,
    a: number, b: number, out: number, m: number, k: number, n: number, bias: number,
    kernel: { readonly fma: boolean; readonly chunk: number },
    local: (a: number, b: number, out: number, m: number, k: number, n: number) => void
  ): void {
    if (this.closed || m * k * n < minMacs || (bias !== 0 && !kernel.fma)) {
      local(a, b, out, m, k, n)
      return
    }
    const free = this.helpers.filter(isFree)
    const parts = Math.min(free.length + 1, Math.floor(m / 8))
    if (parts < 2) {
      local(a, b, out, m, k, n)
      return
    }
    const biasFloats = bias === 0 ? 0 : n
    // Equal blocks (the caller's copies to the helpers roughly match the helpers' copies in and
    // out of their heaps), in multiples of 8 rows to keep XNNPACK's row tiles full.
    const share = Math.ceil(m / parts / 8) * 8
    const jobs: Array<{ helper: Helper; row: number; rows: number }> = []
    let row = share
    for (const helper of free) {
      if (row >= m) break
      const rows = Math.min(share, m - row)
      const need = rows * k + k * n + rows * n + biasFloats
      if (need > helper.data.length) {
        helper.data = new Float32Array(new SharedArrayBuffer(need * 4 * 2))
        helper.port.postMessage(helper.data.buffer)
      }
      helper.data.set(view(a + 4 * row * k, rows * k), 0)
      helper.data.set(view(b, k * n), rows * k)
      if (bias !== 0) helper.data.set(view(bias, n), rows * k + k * n + rows * n)
      const c = helper.control
      c[M] = rows
      c[K] = k
      c[N] = n
      c[FMA] = kernel.fma ? 1 : 0
      c[BIAS] = bias === 0 ? 0 : 1
      c[CHUNK] = kernel.chunk
      helper.seq = helper.seq + 1
      Atomics.store(c, SEQ, helper.seq)
      Atomics.notify(c, SEQ)
      jobs.push({ helper, row, rows })
      row += rows
    }
    const started = performance.now()
    local(a, b, out, share, k, n)
    const finished = performance.now()
    const deadline = finished + Math.max(minWaitMs, waitFactor * (finished - started))
    for (const { helper, row: first, rows } of jobs) {
      if (!finishedBy(helper, deadline) || helper.control[FAILED] !== 0) {
        // Late, gone or failed: compute the block here rather than wait or return a wrong product.
        local(a + 4 * first * k, b, out + 4 * first * n, rows, k, n)
        continue
      }
      view(out + 4 * first * n, rows * n).set(helper.data.subarray(rows * k + k * n, rows * k + k * n + rows * n))
    }
  }

  /**
   * Fault injection for tests: make helper `index` sleep `stallMs` before every job, or end its
   * thread as a crash would.
   */
  disrupt(index: number, fault: { readonly stallMs: number } | "exit"): void {
    const helper = this.helpers[index]
    if (helper === undefined) return
    if (fault === "exit") void helper.worker.terminate()
    else Atomics.store(helper.control, STALL, Math.max(0, Math.floor(fault.stallMs)))
  }

  close(): void {
    this.closed = true
    for (const h of this.helpers) stop(h)
  }
}

/** Alive, and not still working on a job it was given earlier (a late one, say). */
const isFree = (h: Helper): boolean =>
  Atomics.load(h.control, STATE) === READY && Atomics.load(h.control, DONE) === h.seq

/** Whether the helper finished its current job by `deadline` (performance.now() time). */
const finishedBy = (h: Helper, deadline: number): boolean => {
  const c = h.control
  for (;;) {
    const done = Atomics.load(c, DONE)
    if (done === h.seq) return true
    if (Atomics.load(c, STATE) !== READY) return false
    const left = deadline - performance.now()
    if (left <= 0) return false
    Atomics.wait(c, DONE, done, left)
  }
}

const stop = (h: Helper): void => {
  Atomics.store(h.control, SEQ, -1)
  Atomics.notify(h.control, SEQ)
  void h.worker.terminate()
}
