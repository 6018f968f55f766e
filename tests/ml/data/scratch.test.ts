import { test } from "vitest"
import { openWordNet } from "../../../src/ml/data/augment/WordNet.js"
test("s", async () => {
  const t0 = performance.now()
  const wn = openWordNet()
  for (const w of ["car", "happy", "good", "run", "quickly", "cars", "zymurgy", "a", "abacus", "zyrian", "the", "write", "explain", "list"]) console.log(w, wn.synonyms(w))
  console.log(performance.now() - t0)
})
