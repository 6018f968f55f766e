/**
 * Vega-Lite spec → SVG string, headless and byte-for-byte reproducible.
 *
 * vega and vega-lite are imported on first use: together they take hundreds
 * of milliseconds to load, and the CLI's no-op path must not pay for them.
 * Rendering uses vega's string renderer (`renderer: "none"` + `toSVG`), which
 * needs no DOM or canvas.
 */
import type { TopLevelSpec } from "vega-lite"

// vega numbers clip paths and gradients from module-level counters. They are
// reset before each render, and renders are queued so two concurrent charts
// cannot interleave their numbering: same spec, same ids, same bytes.
let queue: Promise<unknown> = Promise.resolve()

// Vega-Lite prints spec advice ("zero is dropped with a log scale") to the
// console; a library must not write to the CLI's output, and real failures
// are thrown anyway.
const quiet = {
  level(_?: number) {
    return 0
  },
  error() {
    return this
  },
  warn() {
    return this
  },
  info() {
    return this
  },
  debug() {
    return this
  }
}

const renderNow = async (spec: TopLevelSpec): Promise<string> => {
  const [vega, vegaLite] = await Promise.all([import("vega"), import("vega-lite")])
  const compiled = vegaLite.compile(spec, { logger: quiet }).spec
  // Text widths drive label layout. vega measures them with node-canvas when
  // that package happens to be installed and estimates them from font size
  // otherwise; always estimating keeps the bytes the same on every machine.
  // (`textMetrics` is exported at runtime but missing from vega's typings.)
  ;(vega as unknown as { textMetrics?: { canvas(use: boolean): void } }).textMetrics?.canvas(false)
  vega.resetSVGDefIds()
  const view = new vega.View(vega.parse(compiled), { renderer: "none", logger: quiet })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

export const renderSvg = (spec: TopLevelSpec): Promise<string> => {
  const result = queue.then(() => renderNow(spec))
  queue = result.catch(() => undefined)
  return result
}
