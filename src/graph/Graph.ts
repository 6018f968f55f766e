/**
 * PipelineSpec → a validated DAG. Edges come from files: a stage that reads a path another stage
 * writes (the same path, a file inside an out directory, or a directory containing an out) runs
 * after it. Everything a user can get wrong in the file is found here, before anything runs:
 * unknown built-ins, bad `with:`, missing params, missing deps, two stages writing one out, outs
 * outside the workspace, cycles. Each error names file, line and field.
 */
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { Effect } from "effect"
import type { BuiltinStage } from "../core/BuiltinStage.js"
import { BuiltinRegistry } from "../core/BuiltinRegistry.js"
import { CycleDetected, PipelineInvalid, PipelineInvalidMany } from "../core/Errors.js"
import type { StageSpec } from "../core/Pipeline.js"
import {
  interpolateDeep,
  isFound,
  type LoadedParams,
  lookup,
  type Params,
  references,
  referencesDeep,
  setIn
} from "../config/Params.js"
import type { LoadedPipeline } from "../config/PipelineFile.js"
import { fieldName } from "../config/YamlSource.js"
import { normalizeDeclared, within } from "./WorkspacePath.js"

export interface StageNode {
  readonly name: string
  readonly kind: "cmd" | "builtin"
  readonly cmd?: string | ReadonlyArray<string>
  readonly builtin?: BuiltinStage
  /** `with:` after interpolation, overrides, schema validation and defaults. */
  readonly with?: unknown
  readonly deps: ReadonlyArray<string>
  readonly outs: ReadonlyArray<string>
  readonly metrics: ReadonlyArray<string>
  /** Param keys this stage reads, with their current values. */
  readonly params: Readonly<Record<string, unknown>>
  readonly env: ReadonlyArray<string>
  readonly resources: Readonly<Record<string, number>>
  readonly upstream: ReadonlyArray<string>
}

export interface Graph {
  readonly pipeline: LoadedPipeline
  readonly workspace: string
  readonly stages: ReadonlyMap<string, StageNode>
  /** Topological order (stable: file order among independent stages). */
  readonly order: ReadonlyArray<string>
  readonly downstream: ReadonlyMap<string, ReadonlyArray<string>>
  readonly params: Params
}

export interface GraphOptions {
  readonly workspace: string
  readonly params: LoadedParams | undefined
  /** `--set key=value` (or sweep overrides): params-file keys, or `<stage>.<path>` into a `with:`. */
  readonly overrides?: ReadonlyArray<readonly [string, unknown]>
  /** Paths that must not be declared as outs (the store, the pipeline file). */
  readonly reserved?: ReadonlyArray<string>
}

type Issue = PipelineInvalid

/** Whether a stage with these params will run on a GPU backend: asked for, or auto with the GPU package installed. */
const onGpu = (params: unknown): boolean => {
  const backend = (params as { backend?: unknown } | null)?.backend
  if (backend === "gpu") return true
  if (backend !== undefined && backend !== "auto") return false
  try {
    createRequire(import.meta.url).resolve("@tensorflow/tfjs-node-gpu")
    return true
  } catch {
    return false
  }
}

const validateWith = (stage: string, builtin: BuiltinStage, value: unknown) =>
  Effect.promise(() => import("../config/ParamsValidation.js")).pipe(
    Effect.map((m) => m.validateStageParams(stage, builtin.paramsSchema, value))
  )

export const buildGraph = (pipeline: LoadedPipeline, options: GraphOptions) =>
  Effect.gen(function*() {
    const registry = yield* BuiltinRegistry
    const { spec, display } = pipeline
    // `pipeline.source` may parse the file on first access (positions are only for errors).
    const source = { locate: (p: ReadonlyArray<string | number>, o?: { readonly key?: boolean }) => pipeline.source?.locate(p, o) }
    const issues: Array<Issue> = []
    const issue = (p: ReadonlyArray<string | number>, reason: string, key = false) =>
      issues.push(new PipelineInvalid({ file: display, position: source?.locate(p, { key }), field: fieldName(p), reason }))

    // Params: file values, then overrides addressed at params-file keys.
    let params: Params = options.params?.values ?? {}
    const withOverrides = new Map<string, Array<readonly [string, unknown]>>()
    for (const [key, value] of options.overrides ?? []) {
      const head = key.split(".")[0]!
      const stage = spec.stages[head]
      if (!isFound(lookup(params, key)) && stage?.uses !== undefined && key.includes(".")) {
        const list = withOverrides.get(head) ?? []
        list.push([key.slice(head.length + 1), value])
        withOverrides.set(head, list)
      } else {
        params = setIn(params, key, value)
      }
    }
    const paramsDisplay = options.params?.display ?? "params.yaml"
    const readParams = (stageName: string, keys: ReadonlyArray<{ key: string; at: ReadonlyArray<string | number> }>) => {
      const out: Record<string, unknown> = {}
      for (const { key, at } of keys) {
        const v = lookup(params, key)
        if (!isFound(v)) {
          issue(at, options.params === undefined
            ? `reads param ${key}, but the pipeline has no params file (add \`params: params.yaml\`)`
            : `param ${key} is not defined in ${paramsDisplay}`)
        } else out[key] = v
      }
      return out
    }

    const nodes: Array<Omit<StageNode, "upstream"> & { readonly after: ReadonlyArray<string> }> = []
    const declared = (stageName: string, stage: StageSpec, field: "deps" | "outs" | "metrics") =>
      (stage[field] ?? []).flatMap((p, i) => {
        const n = normalizeDeclared(p)
        if ("error" in n) {
          issue(["stages", stageName, field, i], `${JSON.stringify(p)} ${n.error}`)
          return []
        }
        return [n.ok]
      })

    for (const [name, stage] of Object.entries(spec.stages)) {
      const at = ["stages", name]
      const paramKeys = (stage.params ?? []).map((key, i) => ({ key, at: [...at, "params", i] }))
      let deps = declared(name, stage, "deps")
      let outs = declared(name, stage, "outs")
      let metrics = declared(name, stage, "metrics")
      const common = {
        name,
        env: stage.env ?? [],
        resources: stage.resources ?? {},
        after: stage.after ?? []
      }
      if (stage.cmd !== undefined) {
        const parts = typeof stage.cmd === "string" ? [stage.cmd] : stage.cmd.map(String)
        const refs = parts.flatMap(references).map((key) => ({ key, at: [...at, "cmd"] }))
        const values = readParams(name, [...paramKeys, ...refs])
        nodes.push({ ...common, kind: "cmd", cmd: stage.cmd, deps, outs, metrics, params: values })
        continue
      }
      const builtin = yield* registry.get(stage.uses!)
      if (builtin === undefined) {
        issue([...at, "uses"], `unknown built-in stage ${JSON.stringify(stage.uses)} (known: ${registry.names.join(", ") || "none"})`)
        continue
      }
      const refs = referencesDeep(stage.with ?? {}).map((key) => ({ key, at: [...at, "with"] }))
      const values = readParams(name, [...paramKeys, ...refs])
      let withValue = interpolateDeep(stage.with ?? {}, (key) => {
        const v = lookup(params, key)
        return isFound(v) ? v : undefined
      }) as Params
      for (const [p, v] of withOverrides.get(name) ?? []) withValue = setIn(withValue, p, v)
      const checked = yield* validateWith(name, builtin, withValue)
      if (checked.errors.length > 0) {
        for (const e of checked.errors) {
          const ptr = e.pointer.split("/").filter((s) => s !== "")
          issues.push(new PipelineInvalid({
            file: display,
            position: source?.locate([...at, "with", ...ptr]) ?? source?.locate([...at, "with"]) ?? source?.locate(at),
            field: fieldName([...at, "with", ...ptr]),
            reason: e.message
          }))
        }
        continue
      }
      const io = builtin.io(checked.value)
      const norm = (list: ReadonlyArray<string>, field: string) =>
        list.flatMap((p) => {
          const n = normalizeDeclared(p)
          if ("error" in n) {
            issue([...at, "with"], `${field} ${JSON.stringify(p)} ${n.error}`)
            return []
          }
          return [n.ok]
        })
      deps = [...new Set([...deps, ...norm(io.deps, "input")])]
      outs = [...new Set([...outs, ...norm(io.outs, "output")])]
      metrics = [...new Set([...metrics, ...norm(io.metrics ?? [], "metrics file")])]
      outs = outs.filter((o) => !metrics.includes(o))
      // A stage that trains on the GPU holds the `gpu` slot unless the pipeline says otherwise.
      const resources = builtin.gpu === true && common.resources.gpu === undefined && onGpu(checked.value)
        ? { ...common.resources, gpu: 1 }
        : common.resources
      nodes.push({ ...common, resources, kind: "builtin", builtin, with: checked.value, deps, outs, metrics, params: values })
    }

    // Outs: one writer per path, inside the workspace, not over reserved paths.
    const writers: Array<{ path: string; stage: string; field: "outs" | "metrics"; index: number }> = []
    for (const n of nodes) {
      n.outs.forEach((p, index) => writers.push({ path: p, stage: n.name, field: "outs", index }))
      n.metrics.forEach((p, index) => writers.push({ path: p, stage: n.name, field: "metrics", index }))
    }
    const reserved = (options.reserved ?? []).map((r) => path.relative(options.workspace, r).split(path.sep).join("/"))
    const sorted = [...writers].sort((a, b) => a.path < b.path ? -1 : a.path > b.path ? 1 : 0)
    for (let i = 0; i < sorted.length; i++) {
      const w = sorted[i]!
      for (let j = i + 1; j < sorted.length && within(sorted[j]!.path, w.path); j++) {
        const o = sorted[j]!
        issue(["stages", o.stage, o.field, o.index], o.path === w.path
          ? `${o.path} is also an output of stage ${w.stage}: two stages cannot write one out`
          : `${o.path} lies inside ${w.path}, an output of stage ${w.stage}`)
      }
      for (const r of reserved) {
        if (r !== "" && !r.startsWith("..") && (within(w.path, r) || within(r, w.path))) {
          issue(["stages", w.stage, w.field, w.index], `${w.path} overlaps ${r}, which cairn manages`)
        }
      }
    }

    // Edges from files. A dep is produced by the out it names, by an out directory it lies in,
    // or (a dep directory) by every out inside it; sorted paths make each lookup logarithmic.
    const byPath = new Map(writers.map((w) => [w.path, w]))
    const producersOf = (d: string) => {
      const found: Array<(typeof writers)[number]> = []
      for (let p = d; p !== "." && p !== ""; p = path.posix.dirname(p)) {
        const w = byPath.get(p)
        if (w !== undefined) found.push(w)
      }
      const prefix = d + "/"
      let lo = 0
      let hi = sorted.length
      while (lo < hi) {
        const mid = (lo + hi) >> 1
        if (sorted[mid]!.path < prefix) lo = mid + 1
        else hi = mid
      }
      for (let i = lo; i < sorted.length && sorted[i]!.path.startsWith(prefix); i++) found.push(sorted[i]!)
      return found
    }
    const byName = new Map(nodes.map((n) => [n.name, n]))
    const upstream = new Map<string, Set<string>>(nodes.map((n) => [n.name, new Set<string>()]))
    for (const n of nodes) {
      const stageSpec = spec.stages[n.name]!
      n.after.forEach((a, i) => {
        if (!byName.has(a)) issue(["stages", n.name, "after", i], `no stage named ${JSON.stringify(a)}`)
        else upstream.get(n.name)!.add(a)
      })
      n.deps.forEach((d) => {
        const producers = producersOf(d)
        for (const w of producers) upstream.get(n.name)!.add(w.stage)
        if (producers.length === 0 && !fs.existsSync(path.join(options.workspace, d))) {
          const i = (stageSpec.deps ?? []).findIndex((x) => {
            const declaredPath = normalizeDeclared(x)
            return "ok" in declaredPath && declaredPath.ok === d
          })
          issue(i >= 0 ? ["stages", n.name, "deps", i] : ["stages", n.name, stageSpec.uses ? "with" : "deps"],
            `dependency ${d} does not exist and no stage produces it`)
        }
      })
    }

    if (issues.length > 0) return yield* new PipelineInvalidMany({ errors: issues })

    // Topological order by DFS; a back edge is a cycle, reported with its whole path.
    const state = new Map<string, 1 | 2>()
    const order: Array<string> = []
    const stack: Array<string> = []
    let cycle: Array<string> | undefined
    const visit = (name: string): void => {
      if (cycle) return
      const s = state.get(name)
      if (s === 2) return
      if (s === 1) {
        cycle = [...stack.slice(stack.indexOf(name)), name]
        return
      }
      state.set(name, 1)
      stack.push(name)
      for (const u of upstream.get(name)!) visit(u)
      stack.pop()
      state.set(name, 2)
      order.push(name)
    }
    for (const n of nodes) visit(n.name)
    if (cycle) {
      // Reported in the order data flows: producer before consumer.
      const path_ = [...cycle].reverse()
      return yield* new CycleDetected({ file: display, position: source?.locate(["stages", path_[0]!], { key: true }), path: path_ })
    }

    const downstream = new Map<string, Array<string>>(nodes.map((n) => [n.name, []]))
    for (const [name, ups] of upstream) for (const u of ups) downstream.get(u)!.push(name)
    const stages = new Map<string, StageNode>(
      nodes.map(({ after: _after, ...n }) => [n.name, { ...n, upstream: [...upstream.get(n.name)!] }])
    )
    return { pipeline, workspace: options.workspace, stages, order, downstream, params } satisfies Graph
  })

/** The stages a `run [STAGE...]` selects: targets and what they need, or with `downstream`, what needs them. */
export const selectStages = (graph: Graph, targets: ReadonlyArray<string>, downstream: boolean): Set<string> => {
  if (targets.length === 0) return new Set(graph.order)
  const selected = new Set<string>()
  const walk = (name: string) => {
    if (selected.has(name)) return
    selected.add(name)
    const next = downstream ? graph.downstream.get(name)! : graph.stages.get(name)!.upstream
    for (const n of next) walk(n)
  }
  for (const t of targets) walk(t)
  return selected
}
