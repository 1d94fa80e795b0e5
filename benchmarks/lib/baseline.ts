// The naive baseline: the same stack (this project's bootstrapper, overlay and core) configured the
// way the reference system works (DESIGN.md §5, §6, §9): every node queries mDNS every second and
// never backs off, dials every peer it learns of (its connection target is its cap, at least the
// fleet's size), re-sends its whole ledger to every live peer every 10 s, and keeps exchanging
// anti-entropy digests at the base interval forever (no steady-state back-off). Measured in the same
// run and the same way as ours, so a ratio ours/naive compares designs, not machines.
import { profileByName } from '@p2p-bootstrap/core'
import type { FleetOptions, Tuning } from './loopback-fleet.js'

/** The reference system's mDNS query interval: one second, fixed. */
export const NAIVE_MDNS_INTERVAL_MS = 1_000
/** The reference system re-broadcasts its whole ledger this often. */
export const NAIVE_REBROADCAST_INTERVAL_MS = 10_000
/** The bootstrapper's own connection cap; the baseline aims for all of it (or the fleet, if larger). */
const BOOTSTRAPPER_CONNECTIONS_MAX = 64

/** The advanced tuning that turns our profile into the naive one, for a fleet of `size` nodes. */
export function naiveTuning (size: number, profile: FleetOptions['profile']): Tuning {
  const connections = Math.max(BOOTSTRAPPER_CONNECTIONS_MAX, size)
  // No back-off: the steady maximum is the profile's own base interval.
  const antiEntropySteadyMaxMs = profileByName(profile).antiEntropyIntervalMs
  return {
    core: { ledgerRebroadcastIntervalMs: NAIVE_REBROADCAST_INTERVAL_MS, antiEntropySteadyMaxMs },
    overlay: {
      mdnsIntervalInitialMs: NAIVE_MDNS_INTERVAL_MS,
      mdnsIntervalMaxMs: NAIVE_MDNS_INTERVAL_MS,
      maxConnections: connections,
      targetConnections: connections
    }
  }
}

/**
 * Fleet options of the baseline: the bench-node script (the CLI has no tuning flag), mDNS on.
 * It keeps the same static peers as ours: that can only help it form, so ratios stay conservative.
 */
export function naiveFleet (size: number, profile: FleetOptions['profile']): FleetOptions {
  return { size, runner: 'script', profile, mdns: true, tuning: naiveTuning(size, profile) }
}

/** Ours, as users run it: the CLI, static peers, no mDNS (so no multicast cost at all), no DHT. */
export function oursCliFleet (size: number, profile: FleetOptions['profile']): FleetOptions {
  return { size, runner: 'cli', profile }
}

/** Ours through the baseline's script, for a like-for-like ratio. */
export function oursScriptFleet (size: number, profile: FleetOptions['profile']): FleetOptions {
  return { size, runner: 'script', profile }
}

/** One line for a report's method: what the baseline is. */
export const NAIVE_METHOD = `naive = the same stack tuned like the reference system: mDNS query every ${NAIVE_MDNS_INTERVAL_MS / 1000} s with no back-off, connection target = cap = max(64, N) (dial everyone), whole ledger re-sent to every live peer every ${NAIVE_REBROADCAST_INTERVAL_MS / 1000} s, anti-entropy digests at the base interval with no back-off; same static peers as ours`
