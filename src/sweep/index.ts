/**
 * Sweeps: the spec, search methods (grid, random, TPE), early-termination schedulers, the
 * trial journal with resume planning, sharding, shard collection and result tables.
 * Pure planning and synchronous journal I/O; arquero loads only when results are written.
 */
export * from "./Collect.js"
export * from "./EarlyTermination.js"
export * from "./Journal.js"
export * from "./Results.js"
export * from "./Resume.js"
export * from "./Search.js"
export * from "./Shard.js"
export * from "./SweepSpec.js"
