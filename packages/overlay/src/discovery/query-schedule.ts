/**
 * When a discovery loop acts next: pure arithmetic, kept apart from timers and sockets so the
 * schedule is tested by tables, not by waiting. `random` returns a number in [0, 1), as
 * `Math.random` does; callers inject it.
 */
import { DISCOVERY_JITTER_FRACTION, MDNS_START_JITTER_MS_MAX } from '../limits.js'

/** The bounds of a backing-off interval. */
export interface QuerySchedule {
  /** The interval after the first query, and whenever the node has no connection. */
  readonly initialMs: number
  /** The interval never grows past this. */
  readonly maxMs: number
}

/** The next wait: `intervalMs` is the base the next step doubles, `delayMs` the jittered wait. */
export interface QueryDelay {
  readonly intervalMs: number
  readonly delayMs: number
}

/**
 * The base interval after a query. A node with connected peers already has what discovery is
 * for, so its interval doubles after each query up to `maxMs`; a node with none (just started, or
 * cut off) goes back to `initialMs` so it is found again quickly. `previousMs` is undefined after
 * the start-up query.
 */
export function nextQueryIntervalMs (previousMs: number | undefined, hasPeers: boolean, schedule: QuerySchedule): number {
  if (previousMs === undefined || !hasPeers) return schedule.initialMs
  return Math.min(schedule.maxMs, Math.max(schedule.initialMs, previousMs * 2))
}

/** `baseMs` spread by ±`fraction`, so nodes started together drift out of lockstep. */
export function jitteredMs (baseMs: number, random: () => number, fraction: number = DISCOVERY_JITTER_FRACTION): number {
  return Math.round(baseMs * (1 - fraction + 2 * fraction * random()))
}

/** The next base interval and the jittered wait before the query after it. */
export function nextQueryDelayMs (
  previousMs: number | undefined,
  hasPeers: boolean,
  schedule: QuerySchedule,
  random: () => number
): QueryDelay {
  const intervalMs = nextQueryIntervalMs(previousMs, hasPeers, schedule)
  return { intervalMs, delayMs: jitteredMs(intervalMs, random) }
}

/** The wait before a node's first query: 0 to `MDNS_START_JITTER_MS_MAX` ms. */
export function startDelayMs (random: () => number): number {
  return Math.floor(random() * (MDNS_START_JITTER_MS_MAX + 1))
}
