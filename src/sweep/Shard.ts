/**
 * `--shard i/n`: a deterministic share of a sweep for one CI job.
 *
 * A trial belongs to shard `hash32(id) mod n + 1`. The rule looks only at the trial's own id, so
 * every trial is in exactly one shard and extending the sweep never moves an existing trial to
 * another shard (its cached results stay where they are). Bayes sweeps share only their random
 * start-up trials; the sequential TPE phase needs every result and runs in one job afterwards.
 */
import { Data, Result } from "effect"
import { hash32 } from "../core/Random.js"

/** 1-based: `index` in 1..count, as CI matrices count. */
export interface Shard {
  readonly index: number
  readonly count: number
}

export class ShardInvalid extends Data.TaggedError("ShardInvalid")<{
  readonly input: string
  readonly message: string
}> {}

export const parseShard = (input: string): Result.Result<Shard, ShardInvalid> => {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(input)
  const index = m ? Number(m[1]) : NaN
  const count = m ? Number(m[2]) : NaN
  if (!m || count < 1 || index < 1 || index > count) {
    return Result.fail(new ShardInvalid({ input, message: `--shard ${input}: expected i/n with 1 ≤ i ≤ n, e.g. 2/4` }))
  }
  return Result.succeed({ index, count })
}

export const formatShard = (shard: Shard): string => `${shard.index}/${shard.count}`

/** The shard (1-based) that runs trial `id` when the sweep is split `count` ways. */
export const shardOfTrial = (id: string, count: number): number => (hash32(id) % count) + 1

/** True when `shard` runs trial `id`; every trial is in the (absent) whole-sweep shard. */
export const inShard = (id: string, shard: Shard | undefined): boolean =>
  shard === undefined || shardOfTrial(id, shard.count) === shard.index
