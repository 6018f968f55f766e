/**
 * Helper threads for large matrix products on the wasm backend.
 *
 * TensorFlow.js in Node runs the single-threaded wasm build, so a training step uses one core.
 * Each helper is a worker thread with its own instance of the same XNNPACK wasm binary; a
 * product out = a·b is split by rows of a: the calling thread computes the first block, each
 * helper one of the others. Operands travel through a SharedArrayBuffer (the backend's wasm
 * memory is not shared); hand-off and completion are signalled with Atomics, so the calling
 * thread blocks for at most the helpers' share, never on the event loop.
 *
 * Every output row is computed by the same XNNPACK kernel from the same inputs whichever
 * thread computes it, so results are bit-identical for any number of helpers (resumed runs
 * stay exact even if the thread count changes).
 */
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { MessageChannel, Worker, type MessagePort } from "node:worker_threads"

/** Control words shared with a helper. */
const SEQ = 0 // bumped by the caller to post a job; -1 asks the helper to exit
const DONE = 1 // set by the helper to the job's SEQ when finished
const M = 2
const K = 3
const N = 4
const FAILED = 5

// CommonJS run with `eval: true`, so it needs no file of its own next to the compiled module.
const helperSource = `
const { workerData, receiveMessageOnPort } = require("node:worker_threads")
const factory = require(workerData.glue)
const ctrl = new Int32Array(workerData.control)
const port = workerData.port
let data = new Float32Array(workerData.data)
factory({ locateFile: (p, prefix) => (p.endsWith(".wasm") ? workerData.binary : prefix + p) }).then((w) => {
  w._init_with_threads_count(1)
  const shapes = w._malloc(24)
  let capacity = 0
  let heap = 0
  port.postMessage("ready")
  let seen = 0
  for (;;) {
    Atomics.wait(ctrl, ${SEQ}, seen)
    const seq = Atomics.load(ctrl, ${SEQ})
    if (seq < 0) break
    seen = seq
    for (let msg = receiveMessageOnPort(port); msg !== undefined; msg = receiveMessageOnPort(port)) data = new Float32Array(msg.message)
    const m = ctrl[${M}], k = ctrl[${K}], n = ctrl[${N}]
    const need = m * k + k * n + m * n
    try {
      if (need > capacity) {
        if (heap !== 0) w._free(heap)
        heap = w._malloc(need * 4)
        capacity = need
      }
      const a = heap, b = heap + 4 * m * k, out = b + 4 * k * n
      new Float32Array(w.HEAPU8.buffer, a, m * k + k * n).set(data.subarray(0, m * k + k * n))
      const s = new Int32Array(w.HEAPU8.buffer, shapes, 6)
      s[0] = 1; s[1] = m; s[2] = k; s[3] = 1; s[4] = k; s[5] = n
      w._register_tensor(1, m * k, a)
      w._register_tensor(2, k * n, b)
      w._register_tensor(3, m * n, out)
      w._BatchMatMul(1, shapes, 3, 2, shapes + 12, 3, 0, 0, 3)
      w._dispose_data(1)
      w._dispose_data(2)
      w._dispose_data(3)
      data.set(new Float32Array(w.HEAPU8.buffer, out, m * n), m * k + k * n)
      ctrl[${FAILED}] = 0
    } catch (e) {
      ctrl[${FAILED}] = 1
    }
    Atomics.store(ctrl, ${DONE}, seq)
    Atomics.notify(ctrl, ${DONE})
  }
})
`

interface Helper {
  readonly worker: Worker
  readonly port: MessagePort
  readonly control: Int32Array
  data: Float32Array
  seq: number
}

/** Products smaller than this many multiply-adds are not worth the copies (~0.2 ms of work). */
const minMacs = 1 << 21

export class GemmPool {
  private constructor(private readonly helpers: ReadonlyArray<Helper>) {}

  /** Start `count` helpers; resolves once each has loaded its wasm instance. */
  static async start(count: number): Promise<GemmPool> {
    const require = createRequire(import.meta.url)
    const pkg = dirname(require.resolve("@tensorflow/tfjs-backend-wasm/package.json"))
    const glue = join(pkg, "wasm-out", "tfjs-backend-wasm.js")
    const binary = join(pkg, "dist", "tfjs-backend-wasm-simd.wasm")
    const helpers = await Promise.all(
      Array.from({ length: count }, async () => {
        const control = new Int32Array(new SharedArrayBuffer(32))
        const data = new Float32Array(new SharedArrayBuffer(4 << 20))
        const { port1, port2 } = new MessageChannel()
        const worker = new Worker(helperSource, {
          eval: true,
          workerData: { glue, binary, control: control.buffer, data: data.buffer, port: port2 },
          transferList: [port2]
        })
        await new Promise<void>((resolve, reject) => {
          port1.once("message", () => resolve())
          worker.once("error", reject)
          worker.once("exit", (code) => reject(new Error(`GEMM helper exited with code ${code}`)))
        })
        worker.removeAllListeners("error")
        worker.removeAllListeners("exit")
        // A helper must never keep the process alive; it only ever waits for work.
        worker.unref()
        port1.unref()
        return { worker, port: port1, control, data, seq: 0 }
      })
    )
    return new GemmPool(helpers)
  }

  get threads(): number {
    return this.helpers.length + 1
  }

  /**
   * out [m,n] = a [m,k] · b [k,n] with rows shared among the calling thread (`local`) and the
   * helpers. `view(byteOffset, floats)` reads and writes the caller's heap.
   */
  gemm(
    view: (byteOffset: number, floats: number) => Float32Array,
    a: number, b: number, out: number, m: number, k: number, n: number,
    local: (a: number, b: number, out: number, m: number, k: number, n: number) => void
  ): void {
    const parts = Math.min(this.helpers.length + 1, Math.floor(m / 8))
    if (parts < 2 || m * k * n < minMacs) {
      local(a, b, out, m, k, n)
      return
    }
    // Equal blocks (the caller's copies to the helpers roughly match the helpers' copies in and
    // out of their heaps), in multiples of 8 rows to keep XNNPACK's row tiles full.
    const share = Math.ceil(m / parts / 8) * 8
    const jobs: Array<{ helper: Helper; row: number; rows: number }> = []
    let row = share
    for (const helper of this.helpers) {
      if (row >= m) break
      const rows = Math.min(share, m - row)
      const need = rows * k + k * n + rows * n
      if (need > helper.data.length) {
        helper.data = new Float32Array(new SharedArrayBuffer(need * 4 * 2))
        helper.port.postMessage(helper.data.buffer)
      }
      helper.data.set(view(a + 4 * row * k, rows * k), 0)
      helper.data.set(view(b, k * n), rows * k)
      const c = helper.control
      c[M] = rows
      c[K] = k
      c[N] = n
      helper.seq = helper.seq + 1
      Atomics.store(c, SEQ, helper.seq)
      Atomics.notify(c, SEQ)
      jobs.push({ helper, row, rows })
      row += rows
    }
    local(a, b, out, share, k, n)
    for (const { helper, row: first, rows } of jobs) {
      const c = helper.control
      while (Atomics.load(c, DONE) !== helper.seq) Atomics.wait(c, DONE, Atomics.load(c, DONE))
      if (c[FAILED] !== 0) {
        // Recompute this block here rather than return a wrong product.
        local(a + 4 * first * k, b, out + 4 * first * n, rows, k, n)
        continue
      }
      view(out + 4 * first * n, rows * n).set(helper.data.subarray(rows * k + k * n, rows * k + k * n + rows * n))
    }
  }

  close(): void {
    for (const h of this.helpers) {
      Atomics.store(h.control, SEQ, -1)
      Atomics.notify(h.control, SEQ)
      void h.worker.terminate()
    }
  }
}
