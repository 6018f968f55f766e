#!/usr/bin/env node
// Starts the bundled CLI with V8's code cache. Start-up is part of the no-op budget: compiling
// the bundle costs more than checking two hundred fresh stages, and Node 20 has no built-in
// compile cache for modules. Each file of the bundle (the entry and the chunks it loads) gets a
// cache beside it, written after its first use (and again whenever the file changes or V8 rejects
// the cache, e.g. after a Node upgrade), atomically.
"use strict"
const fs = require("node:fs")
const path = require("node:path")
const vm = require("node:vm")
const Module = require("node:module")

// bin/cairn starts this process without NODE_EXTRA_CA_CERTS (see there); the processes it starts
// get the variable back.
if (process.env.CAIRN_NODE_EXTRA_CA_CERTS !== undefined) {
  process.env.NODE_EXTRA_CA_CERTS = process.env.CAIRN_NODE_EXTRA_CA_CERTS
  delete process.env.CAIRN_NODE_EXTRA_CA_CERTS
}

const binDir = path.join(__dirname, "..", "dist", "bin")
const bundle = path.join(binDir, "cairn.cjs")

/**
 * A run that would find everything fresh is answered from the last such run's snapshot, without
 * loading the bundle (src/engine/internal/FastPath.ts); on any doubt it returns false and the
 * full run below decides.
 */
const answeredFromSnapshot = () => {
  try {
    return require(path.join(binDir, "fastpath.cjs")).tryNoop(process.argv.slice(2), process.argv[1], binDir) === true
  } catch {
    return false
  }
}
const pendingCaches = []

/**
 * V8 checks a code cache against the length of its source only, so a rebuilt file of the same
 * length would run stale code. Each cache starts with the identity of the file it was made from
 * (inode, size, mtime in ns), taken before the file is read: a file replaced meanwhile gets a
 * stamp that no later start matches.
 */
const stampOf = (file) => {
  const st = fs.statSync(file, { bigint: true })
  const stamp = Buffer.alloc(24)
  stamp.writeBigUInt64LE(BigInt.asUintN(64, st.ino), 0)
  stamp.writeBigUInt64LE(BigInt.asUintN(64, st.size), 8)
  stamp.writeBigUInt64LE(BigInt.asUintN(64, st.mtimeNs), 16)
  return stamp
}

/** Compiles a CommonJS file of the bundle, with its code cache when there is a valid one. */
const compileCached = (file) => {
  const cacheFile = `${file}.${process.version}.v8cache`
  const stamp = stampOf(file)
  let cachedData
  try {
    const data = fs.readFileSync(cacheFile)
    if (data.length > stamp.length && data.subarray(0, stamp.length).equals(stamp)) cachedData = data.subarray(stamp.length)
  } catch {
    cachedData = undefined
  }
  const script = new vm.Script(Module.wrap(fs.readFileSync(file, "utf8")), { filename: file, cachedData })
  if (cachedData === undefined || script.cachedDataRejected) pendingCaches.push([script, cacheFile, stamp])
  return script.runInThisContext()
}

process.once("exit", () => {
  for (const [script, cacheFile, stamp] of pendingCaches) {
    try {
      const tmp = `${cacheFile}.${process.pid}.tmp`
      fs.writeFileSync(tmp, Buffer.concat([stamp, script.createCachedData()]))
      fs.renameSync(tmp, cacheFile)
    } catch {
      // A read-only install runs without a cache.
    }
  }
})

/**
 * A command that runs stages starts them from a small launcher process
 * (src/engine/internal/Launcher.ts). Started here, it boots while the bundle loads and the
 * pipeline is read, instead of after, when the first stage is waiting for it; the bundle adopts it.
 */
const startLauncher = () => {
  const args = process.argv.slice(2)
  if (!args.some((a) => a === "run" || a === "watch" || a === "sweep")) return
  if (args.some((a) => a === "--dry-run" || a === "--help" || a === "-h")) return
  const script = path.join(binDir, "launcher.cjs")
  if (!fs.existsSync(script)) return
  // Its own environment stays lean: it makes no TLS connections (NODE_EXTRA_CA_CERTS costs tens
  // of milliseconds at every Node start) and must not load what NODE_OPTIONS preloads.
  const { NODE_OPTIONS: _o, NODE_EXTRA_CA_CERTS: _c, ...env } = process.env
  try {
    // The same options as ProcessRunner's spawnLauncher: a small young generation keeps its
    // resident set, and so each fork, small; a larger optimization budget as for this process.
    const child = require("node:child_process").spawn(process.execPath, ["--max-semi-space-size=1", "--interrupt-budget=1048576", script], {
      env,
      detached: true,
      stdio: ["ignore", "inherit", "inherit", "ipc"]
    })
    child.on("error", () => {})
    child.unref()
    if (child.channel) child.channel.unref()
    globalThis.__cairnLauncher = child
  } catch {
    // The bundle starts one when a stage needs it.
  }
}

if (!answeredFromSnapshot()) {
  startLauncher()
  startBundle()
}

function startBundle() {
  // V8 compiles a function with its optimizing compiler once it has run a budget of bytecode. The
  // engine's per-stage code runs a few hundred times in a run, and optimizing it cost more (on
  // V8's background threads) than it saved: a larger budget leaves it to the baseline compiler,
  // while loops that really are hot (a built-in stage's data processing) still get optimized.
  // Set before any of the bundle is compiled, so its code cache is made under the same flags.
  require("node:v8").setFlagsFromString("--interrupt-budget=1048576")

  // The bundle's dynamic imports (stages load tfjs, arquero, vega lazily; TS pipelines load their
  // compiled module) go through this module's import(): V8 drops a cached script's own dynamic
  // import callback. Specifiers resolve as from the bundle.
  globalThis.__cairnImport = (specifier) => import(specifier)

  // Chunks the entry requires are compiled the same way.
  const loadJs = Module._extensions[".js"]
  Module._extensions[".cjs"] = function (module, filename) {
    if (!filename.startsWith(binDir + path.sep)) return loadJs.call(this, module, filename)
    compileCached(filename).call(module.exports, module.exports, Module.createRequire(filename), module, filename, path.dirname(filename))
  }

  // A real module in require's cache: the bundle's lazily loaded chunks require it for the code
  // they share, and must get this instance rather than run the CLI a second time.
  const mod = new Module(bundle, module)
  mod.filename = bundle
  mod.paths = Module._nodeModulePaths(binDir)
  require.cache[bundle] = mod
  compileCached(bundle).call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, binDir)
  mod.loaded = true
}
