/**
 * Character-level noise that imitates typing: a letter replaced by a neighbouring key on a QWERTY
 * keyboard, a letter left out, or two adjacent letters swapped. Each letter is hit with
 * probability `p`; case is preserved; non-letters are never touched, so numbers and code keep
 * their meaning.
 */
import type { Random } from "../SeededRandom.js"

export const CHAR_NOISE_KINDS = ["neighbor", "omit", "transpose"] as const
export type CharNoiseKind = (typeof CHAR_NOISE_KINDS)[number]

/** Keys physically adjacent on a US QWERTY layout (same row and the rows above and below). */
const QWERTY_NEIGHBORS: Readonly<Record<string, string>> = {
  q: "wa", w: "qeas", e: "wrsd", r: "etdf", t: "ryfg", y: "tugh", u: "yihj", i: "uojk", o: "ipkl", p: "ol",
  a: "qwsz", s: "awedxz", d: "serfcx", f: "drtgvc", g: "ftyhbv", h: "gyujnb", j: "huikmn", k: "jiolm", l: "kop",
  z: "asx", x: "zsdc", c: "xdfv", v: "cfgb", b: "vghn", n: "bhjm", m: "njk"
}

export const charNoise = (text: string, p: number, kinds: ReadonlyArray<CharNoiseKind>, rng: Random): string => {
  if (kinds.length === 0) return text
  const chars = Array.from(text)
  const out: Array<string> = []
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!
    const lower = c.toLowerCase()
    const neighbors = QWERTY_NEIGHBORS[lower]
    if (neighbors === undefined || !rng.chance(p)) {
      out.push(c)
      continue
    }
    switch (rng.pick(kinds)) {
      case "neighbor": {
        const n = neighbors.charAt(rng.int(neighbors.length))
        out.push(c === lower ? n : n.toUpperCase())
        break
      }
      case "omit":
        break
      case "transpose": {
        const next = chars[i + 1]
        if (next !== undefined && QWERTY_NEIGHBORS[next.toLowerCase()] !== undefined) {
          out.push(next, c)
          i++
        } else out.push(c)
        break
      }
    }
  }
  return out.join("")
}
