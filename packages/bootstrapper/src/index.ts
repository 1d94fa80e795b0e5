/**
 * @packageDocumentation
 *
 * The embeddable p2p-bootstrap agent. `createBootstrapper(options)` drives the pure core node over
 * the private libp2p overlay: a durable state dir (identity, votes, ledger; atomic writes and
 * fsync before anything is sent), typed events (`peer:join`, `peer:leave`, `phase`, `plan`,
 * `role`, `epoch`, `applied`, `ready`, `left`, `error`), `waitForPlan`, `waitForApplied`,
 * `waitForReady`, `leave()` (a committed epoch retires the node, then it stops), and `status()`
 * with what the node waits for and why, and the history of committed epochs. The k3s applier renders each node's files for its role,
 * joins in order (one initialiser, servers one at a time, workers after the first server), starts
 * k3s once and probes readiness; `apply.onOutput` hands the files to an installer instead.
 */
export { Bootstrapper, createBootstrapper } from './bootstrapper.js'
export type { BootstrapperEvents, AbortOptions } from './bootstrapper.js'
export type { BootstrapperOptions, NodeOptions, ProfileName, ShapeOptions } from './options.js'
export { resolveOptions, DEFAULT_STATE_DIR, DEFAULT_LISTEN } from './resolve-options.js'
export type { ResolvedOptions } from './resolve-options.js'
export { BootstrapperError } from './errors.js'
export type { BootstrapperErrorCode } from './errors.js'
export { NodeDriver, STALL_GAP_MS, systemClock } from './driver.js'
export type { DriverClock, DriverPorts } from './driver.js'
export { AGENT_PHASES, decodePublishedStatus, encodePublishedStatus, hasReached } from './published-status.js'
export type { AgentPhase, PublishedStatus } from './published-status.js'
export { describePart, nodePart, planView, shortId } from './plan-view.js'
export type { NodePart, PlanView } from './plan-view.js'
export { PLAN_OUTPUT_PATH, planOutputText, writePlanOutput } from './plan-output.js'
export { STATUS_SOCKET_NAME, StatusServer, fetchSealedKubeconfig, fetchStatus } from './status-server.js'
export type { StatusServerProviders } from './status-server.js'
export { requestLeave, waitForAgentGone } from './leave-client.js'
export { leaveWaitingFor } from './leave-outlook.js'
export type { LeaveOutlookInput } from './leave-outlook.js'
export type { LeaveUpdate, MemberReport, StatusReport } from './status-report.js'
export type { EpochRecord } from '@p2p-bootstrap/core'
export * from './state/index.js'
export * from './kubeconfig/index.js'
export type { ApplyOptions, CommandLine, K3sOptions, NodeOutput } from './apply/apply-options.js'
export { CA_HASH_ENTRY_NAME, CLUSTER_HASH_ENTRY_NAME } from './apply/applier.js'
export { nextJoinStep } from './apply/join-sequence.js'
export type { JoinInput, JoinStep } from './apply/join-sequence.js'
export { hostNetwork } from './apply/host-network.js'
export { CONSENT_DIR, GATE_DROP_IN_NAME, consentPath, gateDropIn } from './apply/start-gate.js'
