import type { NodeFacts, NodeId, NodeKey, Plan } from '@p2p-bootstrap/core'
import { DATA_DIR_DEFAULT } from '@p2p-bootstrap/k3s'
import type { RenderedOutput } from '@p2p-bootstrap/k3s'
import type { BootstrapperError } from '../errors.js'
import type { AgentPhase, PublishedStatus } from '../published-status.js'
import type { StateDir } from '../state/state-dir.js'
import type { ApplyOptions } from './apply-options.js'
import type { JoinStep } from './join-sequence.js'
import type { K3sBlocks } from './k3s-blocks.js'
import type { Backoff } from './retry-timer.js'

/**
 * What every step of the k3s applier shares: its inputs (`ApplierInit`: the ledger it reads and
 * publishes to, where it reports, the options), and one context object through which the steps
 * (join decision, node output, service steps, readiness probes, gone-node removal) report a phase
 * or a problem and build their commands' environment. The applier (applier.ts) owns the state;
 * the steps only read it through this context.
 */

/** Ledger names this agent publishes under `node/<id>/`. */
export const CA_HASH_ENTRY_NAME = 'ca-hash'
export const CLUSTER_HASH_ENTRY_NAME = 'k3s-hash'

const COMMAND_TIMEOUT_MS_DEFAULT = 120_000

/** What the applier reads from and writes to the ledger (through the driver, in S6 order). */
export interface ApplierLedger {
  lookup: (key: string) => Uint8Array | undefined
  factsOf: (nodeId: NodeId) => NodeFacts | undefined
  statusOf: (nodeId: NodeId) => PublishedStatus | null
  publish: (name: string, value: Uint8Array) => void
  /**
   * True while a member is alive (or suspect) in this node's view: of the servers, the lowest live
   * one deletes gone nodes from Kubernetes. Without it, every member counts as alive.
   */
  alive?: (nodeId: NodeId) => boolean
  /**
   * True once this agent's ledger matched the member's since it started (a digest from it matched:
   * not a mere message, nor its entries on disk): a server's first start after a reboot waits for a majority of its plan's control planes
   * (start-gate.ts). Without it, `alive` stands in.
   */
  heard?: (nodeId: NodeId) => boolean
}

/** Where the applier tells the agent what happened. */
export interface ApplierReports {
  /** `epoch` is the plan epoch the phase is about: a report about an older plan than the agent's latest is stale. */
  phase: (phase: AgentPhase, waitingFor: string, epoch: number) => void
  applied: (plan: Plan, files: readonly string[], output: RenderedOutput) => void
  clusterReady: (plan: Plan) => void
  /** This node is Ready: what a Ready server publishes besides its phase (the admin kubeconfig). */
  nodeReady: (plan: Plan, output: RenderedOutput) => Promise<void>
  error: (error: BootstrapperError) => void
  notice: (message: string) => void
  /**
   * This node left: the plan retired it, and its k3s service is stopped (drained first on a
   * server), or never ran. Once per run of the agent; `waitForRetired` resolves at the same time.
   */
  retired?: (plan: Plan) => void
}

export interface ApplierInit {
  readonly nodeId: NodeId
  readonly nodeKey: NodeKey
  readonly sealingKey: Uint8Array
  readonly root: string
  readonly dryRun: boolean
  readonly node: { readonly nodeIp?: string, readonly interface?: string, readonly subnet?: string }
  readonly blocks: K3sBlocks
  readonly apply: ApplyOptions
  readonly state: StateDir
  readonly ledger: ApplierLedger
  readonly reports: ApplierReports
  /** Retry pace of probes and failed starts (the timing profile's). */
  readonly backoff: Backoff
}

/** A join decision that is not a wait. */
export type JoinDecision = Exclude<JoinStep, { kind: 'wait' }>

/** The applier as its steps see it. */
export interface ApplyContext {
  readonly init: ApplierInit
  /** Aborted when the applier stops. */
  readonly signal: AbortSignal
  /** The latest committed plan. */
  readonly plan: () => Plan | null
  /** Reports a phase about `plan` (default: the latest plan). */
  readonly phase: (phase: AgentPhase, waitingFor: string, plan?: Plan | null) => void
  /** Reports a problem once (see the applier's `problem`). */
  readonly problem: (error: BootstrapperError) => void
}

/** The environment of every command: where the output is, and which node runs it. */
export function baseEnv (init: ApplierInit): Record<string, string> {
  return { P2PB_ROOT: init.root, P2PB_NODE_ID: init.nodeId }
}

/** The environment of a command about this node's output: also its role, service and node name. */
export function commandEnv (init: ApplierInit, output: RenderedOutput): Record<string, string> {
  return { ...baseEnv(init), P2PB_ROLE: output.role, P2PB_SERVICE: output.service, P2PB_NODE_NAME: output.nodeName }
}

export function commandTimeoutMs (init: ApplierInit): number {
  return init.apply.commandTimeoutMs ?? COMMAND_TIMEOUT_MS_DEFAULT
}

/** k3s' data dir as this node's k3s block sets it. */
export function dataDirOf (init: ApplierInit): string {
  const value = init.blocks.nodeK3s['data-dir']
  return typeof value === 'string' ? value : DATA_DIR_DEFAULT
}

/**
 * A dry run, or an installer callback with no way to tell readiness: each earlier step is assumed
 * to have succeeded (joiners join the initialiser with the short token), so a fleet renders at once.
 */
export function assumesEarlierSteps (init: ApplierInit): boolean {
  return init.dryRun || (init.apply.onOutput !== undefined && init.apply.readyCommand === undefined)
}

/** True when this agent runs k3s' start and stop steps itself (not a dry run, no installer callback). */
export function startsK3s (init: ApplierInit): boolean {
  return !init.dryRun && init.apply.onOutput === undefined
}

/** Output that no real kubelet runs: a dry run, or a stand-in k3s (apply.acceptLocalNodeIp). */
export function localOnly (init: ApplierInit): boolean {
  return init.dryRun || init.apply.acceptLocalNodeIp === true
}

export function short (nodeId: string): string {
  return nodeId.length <= 12 ? nodeId : `…${nodeId.slice(-8)}`
}
