/**
 * Charts for run reports and sweep results, rendered server-side to SVG
 * strings with Vega-Lite: training/validation loss curves, grouped metric bars
 * (base vs tuned models across tasks, the forgetting comparison), and scatter
 * and parallel-coordinate views of sweep trials.
 *
 * Importing this module is cheap; vega is loaded on the first render. The same
 * input always gives the same bytes, so reports diff cleanly and can be cached.
 * Column names from user data (sweep parameters such as `lora.r`) are copied
 * into fixed internal fields and only shown as titles, so dots or brackets in
 * them never reach Vega-Lite's field-path syntax.
 */
import type { TopLevelSpec } from "vega-lite"
import { renderSvg } from "./internal/RenderSvg.js"

export interface ChartOptions {
  readonly title?: string
  /** Plot area size in pixels (per panel for faceted charts). */
  readonly width?: number
  readonly height?: number
}

export interface LossRow {
  readonly step: number
  readonly split: "train" | "validation"
  readonly loss: number
  /** Present when several runs share one chart; runs are told apart by colour. */
  readonly run?: string
}

export interface MetricBarRow {
  readonly model: string
  readonly task: string
  readonly metric: string
  readonly value: number
}

export type DataRow = Readonly<Record<string, unknown>>

const SCHEMA = "https://vega.github.io/schema/vega-lite/v6.json"

// Slightly larger text than Vega's defaults: these charts end up as PNGs in
// reports and issue threads, where 10px labels are hard to read.
const CONFIG = {
  font: "sans-serif",
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" as const },
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: "normal" as const },
  header: { labelFontSize: 12, titleFontSize: 12 },
  title: { fontSize: 14, anchor: "start" as const }
}

const SPLITS = ["train", "validation"]

const titled = (options: ChartOptions | undefined) => (options?.title === undefined ? {} : { title: options.title })

const inOrder = (values: Iterable<string>): Array<string> => [...new Set(values)]

const isFiniteNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v)

/** Training and validation loss against step; validation evaluations are also marked as points. */
export const lossCurveSvg = (rows: ReadonlyArray<LossRow>, options?: ChartOptions): Promise<string> => {
  const hasRuns = rows.some((r) => r.run !== undefined)
  const values = rows.map((r) => ({ step: r.step, loss: r.loss, split: r.split, run: r.run ?? "" }))
  const splitScale = { domain: SPLITS }
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    ...titled(options),
    width: options?.width ?? 480,
    height: options?.height ?? 300,
    data: { values },
    encoding: {
      x: { field: "step", type: "quantitative", title: "step" },
      y: { field: "loss", type: "quantitative", title: "loss", scale: { zero: false } },
      color: hasRuns
        ? { field: "run", type: "nominal", title: "run", sort: inOrder(values.map((v) => v.run)) }
        : { field: "split", type: "nominal", title: "split", scale: splitScale, legend: { symbolType: "stroke" } }
    },
    layer: [
      {
        mark: { type: "line", strokeWidth: 1.75 },
        // With several runs, colour is taken by the run, so train/validation is told by dash.
        ...(hasRuns
          ? {
              encoding: {
                strokeDash: {
                  field: "split",
                  type: "nominal",
                  title: "split",
                  scale: splitScale,
                  legend: { symbolType: "stroke", symbolStrokeColor: "#555" }
                }
              }
            }
          : {})
      },
      { transform: [{ filter: "datum.split === 'validation'" }], mark: { type: "point", filled: true, size: 36 } }
    ],
    config: CONFIG
  }
  return renderSvg(spec)
}

/**
 * Grouped bars: one panel per metric (each with its own y scale, since BLEU is
 * 0–100 and ROUGE 0–1), tasks along x, one bar per model. Models and tasks keep
 * their first-appearance order, so "base" can be put before "tuned".
 */
export const metricBarsSvg = (rows: ReadonlyArray<MetricBarRow>, options?: ChartOptions): Promise<string> => {
  const values = rows.map((r) => ({ model: r.model, task: r.task, metric: r.metric, value: r.value }))
  const models = inOrder(values.map((v) => v.model))
  const tasks = inOrder(values.map((v) => v.task))
  const metrics = inOrder(values.map((v) => v.metric))
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    ...titled(options),
    data: { values },
    facet: { field: "metric", type: "nominal", title: null, sort: metrics },
    columns: Math.min(metrics.length, 3),
    // Each panel gets its own x axis so a short last row of panels reads on its own.
    resolve: { scale: { y: "independent" }, axis: { x: "independent" } },
    spec: {
      width: options?.width ?? Math.max(180, tasks.length * (models.length * 18 + 14)),
      height: options?.height ?? 220,
      encoding: {
        x: { field: "task", type: "nominal", title: "task", sort: tasks, axis: { labelAngle: tasks.length > 4 ? -30 : 0 } },
        xOffset: { field: "model", type: "nominal", sort: models },
        y: { field: "value", type: "quantitative", title: null }
      },
      layer: [
        { mark: "bar", encoding: { color: { field: "model", type: "nominal", title: "model", sort: models } } },
        {
          mark: { type: "text", dy: -5, fontSize: 9, color: "#333" },
          encoding: { text: { field: "value", type: "quantitative", format: ".3~r" } }
        }
      ]
    },
    config: CONFIG
  }
  return renderSvg(spec)
}

export interface ScatterOptions extends ChartOptions {
  /** Column that colours the points (numbers → gradient, anything else → categories). */
  readonly color?: string
  readonly logX?: boolean
  readonly logY?: boolean
}

const colorChannel = (values: ReadonlyArray<unknown>, title: string) => {
  const numeric = values.every(isFiniteNumber)
  return numeric
    ? { field: "color", type: "quantitative" as const, title, scale: { scheme: "viridis" } }
    : { field: "color", type: "nominal" as const, title, sort: inOrder(values.map(String)) }
}

/** One point per row with numeric `x` and `y`; rows lacking either are left out. */
export const scatterSvg = (rows: ReadonlyArray<DataRow>, x: string, y: string, options?: ScatterOptions): Promise<string> => {
  const kept = rows.filter((r) => isFiniteNumber(r[x]) && isFiniteNumber(r[y]))
  const colorBy = options?.color
  const colors = colorBy === undefined ? [] : kept.map((r) => r[colorBy])
  const numericColor = colors.every(isFiniteNumber)
  const values = kept.map((r, i) => ({
    x: r[x],
    y: r[y],
    ...(colorBy === undefined ? {} : { color: numericColor ? colors[i] : String(colors[i]) })
  }))
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    ...titled(options),
    width: options?.width ?? 400,
    height: options?.height ?? 300,
    data: { values },
    mark: { type: "point", filled: true, size: 60, opacity: 0.85 },
    encoding: {
      x: { field: "x", type: "quantitative", title: x, scale: options?.logX === true ? { type: "log" } : { zero: false } },
      y: { field: "y", type: "quantitative", title: y, scale: options?.logY === true ? { type: "log" } : { zero: false } },
      ...(colorBy === undefined ? {} : { color: colorChannel(colors, colorBy) })
    },
    config: CONFIG
  }
  return renderSvg(spec)
}

export interface ParallelOptions extends ChartOptions {
  /** Dimensions placed on a log axis (learning rates and the like). */
  readonly logDims?: ReadonlyArray<string>
}

// Short, stable labels for axis ends: 4 significant digits, no trailing zeros.
const formatTick = (v: number): string => {
  if (v === 0) return "0"
  const abs = Math.abs(v)
  const text = abs >= 1e-3 && abs < 1e6 ? v.toPrecision(4) : v.toExponential(3)
  return text.replace(/\.?0+(e|$)/, "$1")
}

/**
 * Parallel coordinates: one vertical axis per dimension, each scaled to its
 * own min–max (log10 for `logDims`), one line per row coloured by `colorBy`.
 * Rows missing a numeric value on any dimension are left out.
 */
export const parallelCoordinatesSvg = (
  rows: ReadonlyArray<DataRow>,
  dims: ReadonlyArray<string>,
  colorBy: string,
  options?: ParallelOptions
): Promise<string> => {
  if (dims.length < 2) return Promise.reject(new RangeError("parallel coordinates need at least two dimensions"))
  const logDims = new Set(options?.logDims ?? [])
  const kept = rows.filter((r) => dims.every((d) => isFiniteNumber(r[d]) && (!logDims.has(d) || (r[d] as number) > 0)))
  const position = (d: string, v: number) => (logDims.has(d) ? Math.log10(v) : v)
  const ranges = dims.map((d) => {
    const vs = kept.map((r) => r[d] as number)
    return { min: Math.min(...vs), max: Math.max(...vs) }
  })
  const colors = kept.map((r) => r[colorBy])
  const numericColor = colors.every(isFiniteNumber)
  const lines = kept.flatMap((r, index) =>
    dims.map((d, k) => {
      const lo = position(d, ranges[k]!.min)
      const hi = position(d, ranges[k]!.max)
      // A constant dimension sits mid-axis instead of dividing by zero.
      const norm = hi === lo ? 0.5 : (position(d, r[d] as number) - lo) / (hi - lo)
      return { index, dim: d, norm, color: numericColor ? colors[index] : String(colors[index]) }
    })
  )
  const ends =
    kept.length === 0
      ? []
      : dims.flatMap((d, k) => [
          { dim: d, norm: 1, label: formatTick(ranges[k]!.max) },
          { dim: d, norm: 0, label: formatTick(ranges[k]!.min) }
        ])
  const x = { field: "dim", type: "nominal" as const, sort: [...dims], title: null, axis: { labelAngle: 0, domain: false, ticks: false, labelFontSize: 12, labelPadding: 8 } }
  // The inset keeps the end labels of each axis off the title and the dimension names.
  const domain = [-0.05, 1.05]
  const y = { field: "norm", type: "quantitative" as const, axis: null, scale: { domain } }
  const spec: TopLevelSpec = {
    $schema: SCHEMA,
    ...titled(options),
    width: options?.width ?? Math.max(320, dims.length * 130),
    height: options?.height ?? 300,
    layer: [
      {
        data: { values: dims.map((d) => ({ dim: d })) },
        mark: { type: "rule", color: "#999", strokeWidth: 1 },
        encoding: { x, y: { datum: 0, type: "quantitative", axis: null, scale: { domain } }, y2: { datum: 1 } }
      },
      {
        data: { values: lines },
        mark: { type: "line", strokeWidth: 1.5, opacity: 0.7 },
        encoding: {
          x,
          y,
          detail: { field: "index", type: "nominal" },
          color: numericColor
            ? { field: "color", type: "quantitative", title: colorBy, scale: { scheme: "viridis" } }
            : { field: "color", type: "nominal", title: colorBy, sort: inOrder(colors.map(String)) }
        }
      },
      {
        data: { values: ends },
        mark: { type: "text", align: "right", dx: -5, baseline: "middle", fontSize: 10, color: "#333" },
        encoding: { x, y, text: { field: "label", type: "nominal" } }
      }
    ],
    resolve: { scale: { color: "independent" } },
    config: { ...CONFIG, view: { stroke: null } }
  }
  return renderSvg(spec)
}
