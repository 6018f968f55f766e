#!/usr/bin/env node
// Starts the bundled CLI with V8's code cache. Start-up is part of the no-op budget: compiling
// the bundle costs more than checking two hundred fresh stages, and Node 20 has no built-in
// compile cache for modules. The cache is written after the first run (and rewritten whenever
// V8 rejects it, e.g. after a Node upgrade), atomically, next to the bundle.
"use strict"
const fs = require("node:fs")
const path = require("node:path")
const vm = require("node:vm")
const Module = require("node:module")

const bundle = path.join(__dirname, "..", "dist", "bin", "cairn.cjs")
const cacheFile = `${bundle}.${process.version}.v8cache`
const source = fs.readFileSync(bundle, "utf8")
let cachedData
try {
  cachedData = fs.readFileSync(cacheFile)
} catch {
  cachedData = undefined
}

// The bundle's dynamic imports (stages load tfjs, arquero, vega lazily; TS pipelines load their
// compiled module) go through this module's import(): V8 drops a cached script's own dynamic
// import callback. Specifiers resolve as from the bundle.
globalThis.__cairnImport = (specifier) => import(specifier)

const script = new vm.Script(Module.wrap(source), {
  filename: bundle,
  cachedData
})
if (cachedData === undefined || script.cachedDataRejected) {
  process.once("exit", () => {
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`
      fs.writeFileSync(tmp, script.createCachedData())
      fs.renameSync(tmp, cacheFile)
    } catch {
      // A read-only install runs without a cache.
    }
  })
}
// A real module in require's cache: the bundle's lazily loaded chunks require it for the code
// they share, and must get this instance rather than run the CLI a second time.
const mod = new Module(bundle, module)
mod.filename = bundle
mod.paths = Module._nodeModulePaths(path.dirname(bundle))
require.cache[bundle] = mod
script.runInThisContext().call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle))
mod.loaded = true
