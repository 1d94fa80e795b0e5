import { assert } from '@p2p-bootstrap/core'

/** Messages in flight at once across the whole simulated network; more are dropped as overflow. */
export const IN_FLIGHT_MESSAGES_MAX = 100_000
/** Events kept in a run's trace ring (what a failing run prints). */
export const TRACE_EVENTS_DEFAULT = 200
/** Upper bound on the trace ring, so `--trace-events` cannot exhaust memory. */
export const TRACE_EVENTS_MAX = 1_000_000
/** Simulated nodes in one run. */
export const NODES_MAX = 10_000
/** Seeds in one `runMany`. */
export const SEEDS_MAX = 1_000_000
/** Events processed in one run: a runaway node (a message storm) ends the run instead of hanging. */
export const EVENTS_PER_RUN_MAX = 5_000_000
/** Events between two `onProgress` calls of a run. */
export const PROGRESS_EVERY_EVENTS = 10_000
/** Simulated time of one run unless the caller says otherwise. */
export const SIM_TIME_MS_DEFAULT = 60_000
/** L1: every node holds a committed plan within this much simulated time of the liveness start. */
export const COMMIT_BOUND_MS_DEFAULT = 10_000
/** Simulated time a run continues after everyone committed and the faults are over, to catch late violations. */
export const SETTLE_AFTER_COMMIT_MS = 2_000
/** HLC wall times look real: about November 2023. */
export const EPOCH_BASE_MS = 1_700_000_000_000
/** Failing runs whose trace a `runMany` keeps (the rest keep only their violations). */
export const FAILURES_KEPT_MAX = 20

assert(TRACE_EVENTS_DEFAULT <= TRACE_EVENTS_MAX, 'the default trace fits the bound')
assert(COMMIT_BOUND_MS_DEFAULT < SIM_TIME_MS_DEFAULT, 'a run lasts long enough to check L1')

/** Signature checks remembered across the simulated nodes of one process (a few hundred per run). */
export const SIGNATURE_CHECKS_CACHED = 200_000
