import { defineConfig } from "vitest/config"

// vitest 5 calls Map.groupBy / Object.groupBy (Node >= 21) when it reports failures; Node 20
// lacks them. Installed here because the config loads in vitest's main process.
if (typeof (Map as { groupBy?: unknown }).groupBy !== "function") {
  Object.defineProperty(Map, "groupBy", {
    value: <K, V>(items: Iterable<V>, key: (v: V, i: number) => K) => {
      const m = new Map<K, Array<V>>()
      let i = 0
      for (const v of items) {
        const k = key(v, i++)
        const list = m.get(k)
        if (list) list.push(v)
        else m.set(k, [v])
      }
      return m
    }
  })
}
if (typeof (Object as { groupBy?: unknown }).groupBy !== "function") {
  Object.defineProperty(Object, "groupBy", {
    value: <V>(items: Iterable<V>, key: (v: V, i: number) => PropertyKey) => {
      const o: Record<PropertyKey, Array<V>> = Object.create(null)
      let i = 0
      for (const v of items) (o[key(v, i++)] ??= []).push(v)
      return o
    }
  })
}

export default defineConfig({
  test: {
    include: ["tests/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks"
  }
})
