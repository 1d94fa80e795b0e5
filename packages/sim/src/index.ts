/**
 * @packageDocumentation
 *
 * The seeded simulator of p2p-bootstrap. It runs N core nodes (any `CoreNode`, made by a
 * `nodeFactory`) over a simulated network with latency, loss, duplication, reordering and
 * partitions; crashes and restarts them from an in-memory state directory (losing un-synced
 * writes on power loss); skews and drifts their clocks; and after every step checks the safety
 * properties S1–S6, and L1 on scenarios that promise liveness. One seed fixes everything, so a
 * failure replays exactly from its seed.
 *
 * @example
 * ```ts
 * import { runSimulation, runMany, seedRange } from '@p2p-bootstrap/sim'
 *
 * const result = runSimulation({ scenario: 'partition-minority', seed: 7, nodes: 5, nodeFactory })
 * if (!result.ok) console.log(result.violations[0]?.message)
 * const summary = runMany({ seeds: seedRange(1, 100), nodes: 5, nodeFactory })
 * ```
 */
export { runSimulation } from './runner.js'
export type { SimulationOptions, SimulationProgress, SimulationResult, StopReason, NodeTraffic, TrafficPerNode } from './runner.js'
export { runMany, seedRange } from './many.js'
export type { ManyOptions, ManySummary } from './many.js'
export { SCENARIOS, SCENARIO_NAMES, scenarioByName } from './scenarios.js'
export type { Scenario, ScenarioPlan } from './scenarios.js'
export type {
  ClockStepFault, CrashFault, CrashOnSendFault, CrashPoint, DiscoveryFault, FaultPlan, LivenessStart, NodeStart, PartitionFault, StallFault
} from './faults.js'
export {
  STALL_MS_MAX, STALL_MS_MIN, boundedViews, connectedViews, correlatedStartStalls, groupViews, randomClockSteps, randomGroups, randomStalls,
  randomTickIntervals, separateStalls, slowNodeStalls, spreadStarts
} from './faults.js'
export { DRIVER_STALL_GAP_MS, EventLoops } from './processing.js'
export type { ProcessingFault } from './processing.js'
export { SafetyChecker, compareBallots } from './checkers.js'
export type { BallotTuple, Property, Violation } from './checkers.js'
export { Network, QUIET_LINKS, PER_MILLE, cborCodec, coreWireCodec } from './network.js'
export type { Delivery, DropReason, LinkSettings, SendOutcome, WireCodec } from './network.js'
export { NodeClock, randomClockSettings } from './clock.js'
export type { ClockSettings } from './clock.js'
export { MemoryStore } from './store.js'
export type { RecordCodec } from './store.js'
export { Trace, formatTrace, formatTraceEntry } from './trace.js'
export type { TraceEntry, TraceType } from './trace.js'
export { formatTable, percentile, percentiles, summarise } from './report.js'
export type { Percentiles, ScenarioSummary } from './report.js'
export { REGRESSIONS_URL, loadRegressions, parseRegressions } from './regressions.js'
export type { Regression } from './regressions.js'
export { defaultNodeFactory } from './factory.js'
export { SimError } from './errors.js'
export type { SimErrorCode } from './errors.js'
export { main as cliMain, formatFailure } from './cli.js'
export { simProfile } from './core-types.js'
export type * from './core-types.js'
export * from './limits.js'
