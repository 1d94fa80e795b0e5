import { encodeCanonical, joinGraphProblems } from '@p2p-bootstrap/core'
import type { NodeId } from '@p2p-bootstrap/core'
import type { NodeInspection, Plan, Role, WireMessage } from './core-types.js'

/** The property a violation breaks (DESIGN.md §4), or a node that threw. */
/**
 * R1 and R2 are the issue's rules for later epochs: the voting servers of every committed plan are
 * odd in number, and no epoch removes a server without adding its replacement in the same epoch.
 * J1: the join graph of every committed plan leads to a running cluster (checkJoinGraph).
 */
export type Property = 'S1' | 'S2' | 'S3' | 'S4' | 'S5' | 'S6' | 'S7' | 'S8' | 'L1' | 'R1' | 'R2' | 'J1' | 'NODE_ERROR'

export interface Violation {
  readonly property: Property
  readonly timeMs: number
  readonly nodes: readonly NodeId[]
  readonly message: string
}

/** A ballot as the core orders it: by round, then by proposer id. */
export type BallotTuple = readonly [number, NodeId]

export function compareBallots (a: BallotTuple, b: BallotTuple): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1
  if (a[1] === b[1]) return 0
  return a[1] < b[1] ? -1 : 1
}

interface FirstHolder {
  readonly nodeId: NodeId
  readonly epoch: number
}

interface CrashSnapshot {
  readonly role: Role | null
  readonly committedEpochMax: number
}

/**
 * The safety checkers, incremental so they can run after every step: each plan object is checked
 * once per holder (by reference), and cross-node facts (the one init, each epoch's encoding, the
 * secrets) are kept as the first holder saw them. The runner feeds it the stepped node's
 * inspection, what it sent, and its crashes and restarts.
 */
export class SafetyChecker {
  readonly violations: Violation[] = []
  private readonly checkedPlans = new Map<NodeId, Map<number, Plan>>()
  private init: { readonly init: NodeId, readonly holder: FirstHolder } | null = null
  private readonly encodingOfEpoch = new Map<number, { readonly bytes: Uint8Array, readonly holder: NodeId }>()
  private readonly planOfEpoch = new Map<number, Plan>()
  private secrets: { readonly server: string, readonly agent: string, readonly holder: FirstHolder } | null = null
  private readonly epochMaxOfNode = new Map<NodeId, number>()
  private readonly roleOfNode = new Map<NodeId, { readonly role: Role | null, readonly epochMax: number, readonly planBytes: Uint8Array | null }>()
  private committedEpochMax = 0
  private readonly crashes = new Map<NodeId, CrashSnapshot>()
  private readonly ballotsSent = new Map<NodeId, Map<number, BallotTuple>>()
  /** S6: the highest ballot each node said it accepted (`paxos/accepted`) per epoch. */
  private readonly acceptsSent = new Map<NodeId, Map<number, BallotTuple>>()
  private readonly committedByNode = new Map<NodeId, Set<number>>()
  /** S8: every epoch each node has held; a node never stops holding one, restarts included. */
  private readonly heldByNode = new Map<NodeId, Set<number>>()

  /** Nodes whose k3s server reported Ready (a scenario's `serverReady`): the roots J1 may count. */
  private readonly readyServers = new Set<NodeId>()

  private readonly fullSplit: boolean

  /**
   * `fullSplit`: the scenario starts with the fleet split in parts that cannot see each other, in
   * best-effort mode, so each part may commit its own plan (see FaultPlan.fullSplit). Two plans of
   * one epoch across nodes are then allowed while they last (S1–S3 are not checked across nodes),
   * and a node may move to the plan the ledger keeps once the parts meet; `converged` checks at
   * the end that they did. S4 across restarts, S5, S6, S8 and every per-node check stay.
   */
  constructor (private readonly labelOf: (nodeId: NodeId) => string = (nodeId) => nodeId, options: { readonly fullSplit?: boolean } = {}) {
    this.fullSplit = options.fullSplit === true
  }

  serverReady (nodeId: NodeId): void {
    this.readyServers.add(nodeId)
  }

  get ok (): boolean {
    return this.violations.length === 0
  }

  /** S1, S2, S3, S4 (no local role change) and S5 (epochs ≥ 1) on one node's current state. */
  observe (inspection: NodeInspection, timeMs: number): void {
    const nodeId = inspection.nodeId
    let checked = this.checkedPlans.get(nodeId)
    if (checked === undefined) {
      checked = new Map()
      this.checkedPlans.set(nodeId, checked)
    }
    let epochMax = 0
    // After a full split: the node moved to the other part's plan of some epoch (the ledger's choice).
    let switched = false
    for (const [epoch, plan] of inspection.plans) {
      if (epoch > epochMax) epochMax = epoch
      const before = checked.get(epoch)
      if (before === plan) continue
      if (this.fullSplit && before !== undefined && !equalBytes(encodeCanonical(before), encodeCanonical(plan))) switched = true
      checked.set(epoch, plan)
      this.checkPlan(nodeId, epoch, plan, timeMs)
    }
    const epochMaxBefore = this.epochMaxOfNode.get(nodeId) ?? 0
    // Epochs the node built on the plan it left are gone with it: they belonged to the other cluster.
    if (epochMax < epochMaxBefore && !switched) {
      this.fail('S2', timeMs, [nodeId], `epochs only grow: ${this.labelOf(nodeId)} held epoch ${epochMaxBefore} and now holds at most epoch ${epochMax}`)
    }
    this.epochMaxOfNode.set(nodeId, switched ? epochMax : Math.max(epochMax, epochMaxBefore))
    if (switched) {
      // What it held and announced above the plan it left went with it (S6 and S8 count from here).
      this.heldByNode.set(nodeId, new Set(inspection.plans.keys()))
      for (const epoch of [...checked.keys()]) if (!inspection.plans.has(epoch)) checked.delete(epoch)
      const announced = this.committedByNode.get(nodeId)
      for (const epoch of [...announced ?? []]) if (!inspection.plans.has(epoch)) announced?.delete(epoch)
    }
    this.checkNoPlanDropped(inspection, timeMs)
    if (epochMax > this.committedEpochMax) this.committedEpochMax = epochMax
    this.checkRoleChange(inspection, epochMax, timeMs)
  }

  /** S5: the node re-verifies its ledger (signatures, ownership, certificates). */
  audit (inspection: NodeInspection, timeMs: number): void {
    const problems = inspection.audit?.() ?? []
    if (problems.length > 0) {
      this.fail('S5', timeMs, [inspection.nodeId], `${this.labelOf(inspection.nodeId)} fails its ledger audit: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (and ${problems.length - 3} more)` : ''}`)
    }
  }

  /** S6: remember the highest ballot a node voted for in each epoch, from what it sent. */
  sent (nodeId: NodeId, message: WireMessage): void {
    if (message.kind !== 'paxos/promise' && message.kind !== 'paxos/accepted') return
    const vote = readVote(message)
    if (vote === null) return
    noteHighest(this.ballotsSent, nodeId, vote.epoch, vote.ballot)
    if (message.kind === 'paxos/accepted') noteHighest(this.acceptsSent, nodeId, vote.epoch, vote.ballot)
  }

  /** S6: the node announced `plan:committed` for this epoch. */
  committed (nodeId: NodeId, epoch: number): void {
    let epochs = this.committedByNode.get(nodeId)
    if (epochs === undefined) {
      epochs = new Set()
      this.committedByNode.set(nodeId, epochs)
    }
    epochs.add(epoch)
  }

  /** The node is about to crash: its role and the newest epoch anyone holds (S4). */
  crashed (inspection: NodeInspection): void {
    this.crashes.set(inspection.nodeId, { role: inspection.role, committedEpochMax: this.committedEpochMax })
  }

  /** Right after a restart from disk: S4 role kept, S6 votes and commits kept, then the usual checks. */
  restarted (inspection: NodeInspection, timeMs: number): void {
    const nodeId = inspection.nodeId
    const label = this.labelOf(nodeId)
    const before = this.crashes.get(nodeId)
    this.crashes.delete(nodeId)
    // A node that had no role may learn one from its disk; one that had a role keeps it unless a
    // newer epoch was committed while it was down.
    if (before !== undefined && before.role !== null && inspection.role !== before.role &&
      this.committedEpochMax === before.committedEpochMax) {
      this.fail('S4', timeMs, [nodeId], `${label} was ${before.role} before its crash and is ${String(inspection.role)} after restart, with no newer epoch committed`)
    }
    for (const [epoch, ballot] of this.ballotsSent.get(nodeId) ?? []) {
      // Once the node holds the decision of an epoch it may forget its promises there.
      if (inspection.plans.has(epoch)) continue
      const promised = inspection.promised.get(epoch)
      if (promised === undefined || compareBallots(promised, ballot) < 0) {
        this.fail('S6', timeMs, [nodeId], `${label} voted ballot ${formatBallot(ballot)} in epoch ${epoch} but after restart has promised ${promised === undefined ? 'nothing' : formatBallot(promised)}`)
      }
    }
    // S6 for accepted values: a node that said it accepted at a ballot still holds an accept at least that high.
    for (const [epoch, ballot] of inspection.accepted === undefined ? [] : this.acceptsSent.get(nodeId) ?? []) {
      if (inspection.plans.has(epoch)) continue
      const accepted = inspection.accepted?.get(epoch)
      if (accepted === undefined || compareBallots(accepted, ballot) < 0) {
        this.fail('S6', timeMs, [nodeId], `${label} accepted a value at ballot ${formatBallot(ballot)} in epoch ${epoch} but after restart holds ${accepted === undefined ? 'no accepted value' : `an accept at ${formatBallot(accepted)}`}`)
      }
    }
    for (const epoch of this.committedByNode.get(nodeId) ?? []) {
      if (!inspection.plans.has(epoch)) {
        this.fail('S6', timeMs, [nodeId], `${label} announced plan:committed for epoch ${epoch} but does not hold that plan after restart`)
      }
    }
    // The restarted node's state is new: check its plans afresh.
    this.checkedPlans.delete(nodeId)
    this.roleOfNode.delete(nodeId)
    this.observe(inspection, timeMs)
  }

  /**
   * At the end of a run: with `fullSplit`, every running node holds the same plan in every epoch
   * it holds (the ledger's choice, S2 after the merge). Without it S2 was checked at every step.
   */
  converged (inspections: readonly NodeInspection[], timeMs: number): void {
    if (!this.fullSplit) return
    const first = new Map<number, { readonly bytes: Uint8Array, readonly holder: NodeId }>()
    for (const inspection of inspections) {
      for (const [epoch, plan] of inspection.plans) {
        const bytes = encodeCanonical(plan)
        const known = first.get(epoch)
        if (known === undefined) first.set(epoch, { bytes, holder: inspection.nodeId })
        else if (!equalBytes(known.bytes, bytes)) {
          this.fail('S2', timeMs, [known.holder, inspection.nodeId], `after the merge ${this.labelOf(known.holder)} and ${this.labelOf(inspection.nodeId)} still hold different plans for epoch ${epoch}`)
          return
        }
      }
    }
  }

  fail (property: Property, timeMs: number, nodes: readonly NodeId[], message: string): void {
    this.violations.push({ property, timeMs, nodes, message: `${property}: ${message}` })
  }

  private checkPlan (nodeId: NodeId, epoch: number, plan: Plan, timeMs: number): void {
    const label = this.labelOf(nodeId)
    if (epoch < 1 || plan.epoch !== epoch) {
      this.fail('S5', timeMs, [nodeId], `${label} holds a plan under epoch ${epoch} that says epoch ${plan.epoch}; plans start at epoch 1`)
    }
    this.checkEpochStep(nodeId, epoch, plan, timeMs)
    for (const problem of checkJoinGraph(plan, this.readyServers)) this.fail('J1', timeMs, [nodeId], `${label} holds ${problem}`)
    if (this.fullSplit) return
    if (this.init === null) {
      this.init = { init: plan.init, holder: { nodeId, epoch } }
    } else if (this.init.init !== plan.init) {
      const first = this.init.holder
      this.fail('S1', timeMs, [first.nodeId, nodeId],
        `two initialisers: ${this.labelOf(first.nodeId)} holds init ${this.labelOf(this.init.init)} (epoch ${first.epoch}), ${label} holds init ${this.labelOf(plan.init)} (epoch ${epoch})`)
    }
    const bytes = encodeCanonical(plan)
    const known = this.encodingOfEpoch.get(epoch)
    if (known === undefined) {
      this.encodingOfEpoch.set(epoch, { bytes, holder: nodeId })
    } else if (!equalBytes(known.bytes, bytes)) {
      this.fail('S2', timeMs, [known.holder, nodeId], `two plans for epoch ${epoch}: ${this.labelOf(known.holder)} and ${label} hold different plans (init ${this.labelOf(plan.init)}, control planes ${plan.controlPlanes.map(this.labelOf).join(',')})`)
    }
    const server = plan.secrets.serverTokenHash
    const agent = plan.secrets.agentTokenHash
    if (this.secrets === null) {
      this.secrets = { server, agent, holder: { nodeId, epoch } }
    } else if (this.secrets.server !== server || this.secrets.agent !== agent) {
      const first = this.secrets.holder
      const which = this.secrets.server !== server ? 'server token' : 'agent token'
      this.fail('S3', timeMs, [first.nodeId, nodeId], `the ${which} changed: ${this.labelOf(first.nodeId)} epoch ${first.epoch} has ${this.secrets.server !== server ? this.secrets.server : this.secrets.agent}, ${label} epoch ${epoch} has ${this.secrets.server !== server ? server : agent}`)
    }
  }

  /** R1 on every plan; R2 between this epoch and its neighbours, as soon as both are known. */
  private checkEpochStep (nodeId: NodeId, epoch: number, plan: Plan, timeMs: number): void {
    if (plan.controlPlanes.length % 2 !== 1) {
      this.fail('R1', timeMs, [nodeId], `${this.labelOf(nodeId)} holds epoch ${epoch} with ${plan.controlPlanes.length} voting servers: the count must be odd`)
    }
    if (this.fullSplit || this.planOfEpoch.has(epoch)) return
    this.planOfEpoch.set(epoch, plan)
    const before = this.planOfEpoch.get(epoch - 1)
    const after = this.planOfEpoch.get(epoch + 1)
    if (before !== undefined) this.checkRemovals(nodeId, before, plan, timeMs)
    if (after !== undefined) this.checkRemovals(nodeId, plan, after, timeMs)
  }

  private checkRemovals (nodeId: NodeId, before: Plan, after: Plan, timeMs: number): void {
    const removed = before.controlPlanes.filter((id) => !after.controlPlanes.includes(id))
    const added = after.controlPlanes.filter((id) => !before.controlPlanes.includes(id))
    if (removed.length > added.length) {
      this.fail('R2', timeMs, [nodeId], `epoch ${after.epoch} removes ${removed.map(this.labelOf).join(',')} from the control plane but adds only ${added.length === 0 ? 'nobody' : added.map(this.labelOf).join(',')}`)
    }
  }

  /** S8: a committed plan, once held, is held for good: no config edit or restart drops it. */
  private checkNoPlanDropped (inspection: NodeInspection, timeMs: number): void {
    let held = this.heldByNode.get(inspection.nodeId)
    if (held === undefined) {
      held = new Set()
      this.heldByNode.set(inspection.nodeId, held)
    }
    const dropped = [...held].filter((epoch) => !inspection.plans.has(epoch))
    if (dropped.length > 0) {
      this.fail('S8', timeMs, [inspection.nodeId], `${this.labelOf(inspection.nodeId)} held the plan of epoch ${dropped.join(', ')} and no longer does`)
    }
    for (const epoch of inspection.plans.keys()) held.add(epoch)
  }

  /** S4: a role changes only with a newer epoch, never by a local guess. */
  private checkRoleChange (inspection: NodeInspection, epochMax: number, timeMs: number): void {
    const before = this.roleOfNode.get(inspection.nodeId)
    this.roleOfNode.set(inspection.nodeId, { role: inspection.role, epochMax, planBytes: this.fullSplit ? planBytesOf(inspection, epochMax) : null })
    if (before === undefined || before.role === null || before.role === inspection.role) return
    if (epochMax > before.epochMax) return
    // After a full split, moving to the plan the ledger keeps is convergence, not a local guess.
    if (this.fullSplit && before.planBytes !== null && !equalBytes(before.planBytes, planBytesOf(inspection, epochMax))) return
    this.fail('S4', timeMs, [inspection.nodeId], `${this.labelOf(inspection.nodeId)} changed role from ${before.role} to ${String(inspection.role)} without a newer epoch (still epoch ${epochMax})`)
  }
}

/**
 * J1: the join graph of a committed plan leads to a running cluster: one root (the initialiser, or
 * a control plane that was Ready), every other server joins through the initialiser or a server
 * before it, and join targets never form a circle (planner/join-graph.ts). The simulator runs no
 * k3s: a server counts as Ready only where a scenario says it reported so (`serverReady`); a plan
 * whose initialiser was replaced while no control plane left was Ready must name a new one.
 */
export function checkJoinGraph (plan: Plan, readyServers: ReadonlySet<NodeId> = new Set()): string[] {
  return joinGraphProblems(plan, readyServers)
}

function planBytesOf (inspection: NodeInspection, epoch: number): Uint8Array {
  const plan = inspection.plans.get(epoch)
  return plan === undefined ? new Uint8Array() : encodeCanonical(plan)
}

function noteHighest (byNode: Map<NodeId, Map<number, BallotTuple>>, nodeId: NodeId, epoch: number, ballot: BallotTuple): void {
  let ballots = byNode.get(nodeId)
  if (ballots === undefined) {
    ballots = new Map()
    byNode.set(nodeId, ballots)
  }
  const before = ballots.get(epoch)
  if (before === undefined || compareBallots(ballot, before) > 0) ballots.set(epoch, ballot)
}

/** Reads `epoch` and `ballot: { round, proposer }` from a promise or an accepted message. */
function readVote (message: WireMessage): { epoch: number, ballot: BallotTuple } | null {
  const { epoch, ballot } = message as { epoch?: unknown, ballot?: unknown }
  if (typeof epoch !== 'number' || typeof ballot !== 'object' || ballot === null) return null
  const { round, proposer } = ballot as { round?: unknown, proposer?: unknown }
  if (typeof round !== 'number' || typeof proposer !== 'string') return null
  return { epoch, ballot: [round, proposer] }
}

function formatBallot (ballot: BallotTuple): string {
  return `${ballot[0]}.${ballot[1].slice(-6)}`
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
