/**
 * Grid expansion: the cartesian product of every parameter's choices, in W&B's order
 * (parameters sorted by key, the last one varying fastest, like itertools.product). The `_`
 * group is one factor at its key's sorted position, each option contributing all of its keys.
 */
import type { JsonValue, SweepSpec } from "../SweepSpec.js"
import { multiplesWithin } from "./Distribution.js"

type Choice = Readonly<Record<string, JsonValue>>

const factors = (spec: SweepSpec): ReadonlyArray<{ readonly key: string; readonly choices: ReadonlyArray<Choice> }> => {
  const out: Array<{ key: string; choices: ReadonlyArray<Choice> }> = []
  for (const p of spec.parameters) {
    const one = (v: JsonValue): Choice => ({ [p.key]: v })
    switch (p.distribution) {
      case "constant":
        out.push({ key: p.key, choices: [one(p.value)] })
        break
      case "categorical":
        out.push({ key: p.key, choices: p.values.map(one) })
        break
      case "int_uniform": {
        const vs: Array<Choice> = []
        for (let v = p.min; v <= p.max; v++) vs.push(one(v))
        out.push({ key: p.key, choices: vs })
        break
      }
      case "q_uniform":
        out.push({ key: p.key, choices: multiplesWithin(p.min, p.max, p.q).map(one) })
        break
      default:
        // SweepSpec rejects continuous distributions for grid sweeps before we get here.
        throw new Error(`grid cannot enumerate ${p.distribution} (${p.key})`)
    }
  }
  if (spec.group) out.push({ key: "_", choices: spec.group.options })
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
}

/** Every grid point, in order; each is a flat map of dotted key → value. */
export const gridPoints = (spec: SweepSpec): ReadonlyArray<Choice> => {
  let points: Array<Choice> = [{}]
  for (const f of factors(spec)) {
    const next: Array<Choice> = []
    for (const prefix of points) for (const c of f.choices) next.push({ ...prefix, ...c })
    points = next
  }
  return points
}
