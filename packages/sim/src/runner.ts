import { Prng, SERVER_READY_KEY_NAME, assert, cachedSignatureVerifier, encodeCanonical } from '@p2p-bootstrap/core'
import type { NodeId } from '@p2p-bootstrap/core'
import { NodeClock } from './clock.js'
import { SafetyChecker } from './checkers.js'
import type { Property, Violation } from './checkers.js'
import type { CoreNode, NodeFactory, NodeInspection, PersistRecord, Plan, Ready, TimingProfile, WireMessage } from './core-types.js'
import { simProfile } from './core-types.js'
import { SimError } from './errors.js'
import { defaultNodeFactory } from './factory.js'
import type { CrashFault } from './faults.js'
import {
  COMMIT_BOUND_MS_DEFAULT, EPOCH_BASE_MS, EVENTS_PER_RUN_MAX, IN_FLIGHT_MESSAGES_MAX, NODES_MAX,
  PROGRESS_EVERY_EVENTS, SETTLE_AFTER_COMMIT_MS, SIM_TIME_MS_DEFAULT, TRACE_EVENTS_DEFAULT, TRACE_EVENTS_MAX, SIGNATURE_CHECKS_CACHED
} from './limits.js'
import { Network, cborCodec, coreWireCodec } from './network.js'
import { DRIVER_STALL_GAP_MS, EventLoops } from './processing.js'
import type { Delivery, DropReason, WireCodec } from './network.js'
import { GroundTruth } from './ground-truth.js'
import { EventQueue } from './queue.js'
import { scenarioByName } from './scenarios.js'
import type { Scenario, ScenarioPlan } from './scenarios.js'
import { armedFromFault, makeSlots, wipeSlot } from './slots.js'
import type { ArmedCrash, NodeSlot } from './slots.js'
import { Trace } from './trace.js'
import type { TraceEntry } from './trace.js'

/**
 * One memoised Ed25519 check for every simulated node of the process: the answer for a (signer,
 * message, signature) never changes, and verifying each signature once per process instead of
 * once per node per audit makes thousands of seeded runs affordable. Bounded like any cache.
 */
const sharedSignatureCheck = cachedSignatureVerifier(SIGNATURE_CHECKS_CACHED)

export interface SimulationOptions {
  readonly scenario: string | Scenario
  readonly seed: number
  readonly nodes: number
  /** Makes each node; core's `createCoreNode` by default. */
  readonly nodeFactory?: NodeFactory
  readonly maxSimTimeMs?: number
  /** L1: how long after the liveness start every node must hold a plan. */
  readonly commitBoundMs?: number
  /** Events kept in the trace ring (default 200). */
  readonly trace?: number
  readonly codec?: WireCodec
  readonly profile?: TimingProfile
  /** Run each node's ledger audit (S5) after every step, not only at commits, restarts and the end. */
  readonly auditEveryStep?: boolean
  /** Events one run may process before it stops with 'event-limit' (default `EVENTS_PER_RUN_MAX`). */
  readonly eventsMax?: number
  /**
   * Called every `PROGRESS_EVERY_EVENTS` events with where the run is: a long run (thousands of
   * nodes) can report progress or sample its own memory. It must not touch the simulation.
   */
  readonly onProgress?: (progress: SimulationProgress) => void
}

/** Where a run is, for `onProgress`. */
export interface SimulationProgress {
  readonly events: number
  readonly simTimeMs: number
  /** Nodes holding a committed plan now. */
  readonly holdingPlan: number
  readonly messagesInFlight: number
}

/** Messages and encoded bytes sent per node up to some moment of a run. */
export interface TrafficPerNode {
  readonly messages: number
  readonly bytes: number
}

export type StopReason = 'settled' | 'max-sim-time' | 'violation' | 'event-limit' | 'idle'

export interface NodeTraffic {
  readonly nodeId: NodeId
  readonly messagesSent: number
  readonly bytesSent: number
}

export interface SimulationResult {
  readonly scenario: string
  readonly seed: number
  readonly nodes: number
  readonly ok: boolean
  readonly violations: readonly Violation[]
  /** Simulated ms from the last node's first start until every node held a plan; null if some never did. */
  readonly commitTimeMs: number | null
  readonly messagesPerNode: number
  readonly bytesPerNode: number
  readonly traffic: readonly NodeTraffic[]
  readonly nodeIds: readonly NodeId[]
  readonly endTimeMs: number
  readonly events: number
  readonly stopReason: StopReason
  /** Hash of every trace event of the run: equal for two runs of one seed. */
  readonly fingerprint: string
  /** The last events (deliveries, drops, crashes, partition changes, commits). */
  readonly trace: readonly TraceEntry[]
  /** Simulated time of the first node's first start. */
  readonly firstStartMs: number | null
  /** Simulated time at which some node first held a committed plan; null if none did. */
  readonly firstCommitMs: number | null
  /** Simulated time at which the last node first held a plan (every node had held one); null if some never did. */
  readonly allCommittedMs: number | null
  /** Traffic per node from the start until `allCommittedMs` (null if not every node got there). */
  readonly trafficToAllCommitted: TrafficPerNode | null
  /** Messages the network dropped, by reason (all zero on a healthy run). */
  readonly dropped: Readonly<Record<DropReason, number>>
  /** The newest committed plan any node held at the end (null if none committed). */
  readonly latestPlan: Plan | null
  /** Indexes (into `nodeIds`) of the nodes that were down at the end. */
  readonly downAtEnd: readonly number[]
  /**
   * Times a node declared a member dead while that member's process was running and the network
   * joined the two (it was slow or stalled, not gone): the failure detector lied.
   */
  readonly falseDeaths: number
}

type SimEvent =
  | { readonly type: 'start', readonly node: number }
  | { readonly type: 'restart', readonly node: number }
  /** `lateMs`: the tick waited this long for a busy event loop (slow processing). */
  | { readonly type: 'tick', readonly node: number, readonly incarnation: number, readonly lateMs?: number }
  /** `admitted`: the message waited its turn on a busy event loop and is read now. */
  | { readonly type: 'deliver', readonly delivery: Delivery, readonly admitted?: boolean }
  | { readonly type: 'crash', readonly fault: CrashFault }
  | { readonly type: 'partition', readonly groups: readonly (readonly number[])[] | null, readonly cuts: ReadonlyArray<readonly [number, number]> }
  | { readonly type: 'discover', readonly node: number, readonly peer: number }
  | { readonly type: 'liveness' }
  | { readonly type: 'leave', readonly node: number }
  | { readonly type: 'server-ready', readonly node: number }
  | { readonly type: 'hold' }
  | { readonly type: 'stall', readonly node: number, readonly durationMs: number }
  | { readonly type: 'resume', readonly node: number, readonly incarnation: number }
  | { readonly type: 'clock-step', readonly node: number, readonly stepMs: number }

/** Ticks of one node wobble by up to this much around its interval, so nodes do not lock step. */
const TICK_JITTER_MS_MAX = 2

/** Runs one seeded simulation of one scenario and returns what the checkers found. */
export function runSimulation (options: SimulationOptions): SimulationResult {
  return new Simulation(options).run()
}

/**
 * One run. The event loop pops the earliest event, feeds it to a node (tick, step, discover),
 * then does what the contract asks in its order (persist, send, advance) and runs the checkers
 * on that node. Every choice comes from generators forked off the seed.
 */
class Simulation {
  private readonly scenario: Scenario
  private readonly plan: ScenarioPlan
  private readonly slots: NodeSlot[]
  private readonly slotOfNodeId = new Map<NodeId, NodeSlot>()
  private readonly network: Network
  private readonly queue = new EventQueue<SimEvent>()
  private readonly checker: SafetyChecker
  /** Who was really down or cut off, and when: the S7 check's reference. */
  private readonly truth: GroundTruth
  /** Identities lost with their machine's state dir, and when: gone for good since then. */
  private readonly wipedIdentities = new Map<NodeId, number>()
  /** Epochs above 1 whose replacements were checked against the ground truth (S7), once each. */
  private readonly epochsCheckedForS7 = new Set<number>()
  private readonly trace: Trace
  private readonly jitter: Prng
  /** Busy event loops (slow processing); null when the plan has none. */
  private readonly loops: EventLoops | null
  private readonly nodeFactory: NodeFactory
  private profile: TimingProfile
  private readonly clusterId: string
  private readonly sealingKey: Uint8Array
  private readonly maxSimTimeMs: number
  private readonly commitBoundMs: number
  private nowMs = 0
  private endAtMs: number
  private events = 0
  /** Scheduled faults, starts and restarts still to come: the run is not over while any remain. */
  private pending = 0
  private started = 0
  private lastStartMs = 0
  private holdingPlan = 0
  private firstPlanMs: number | null = null
  private firstStartMs: number | null = null
  /** Nodes that have held a plan at some point; when it reaches the node count, traffic is noted. */
  private everHeldPlan = 0
  private trafficToAllCommitted: TrafficPerNode | null = null
  private readonly eventsMax: number
  private stopReason: StopReason = 'idle'
  private falseDeaths = 0
  /** Records on the simulated disk are CBOR too, but not wire messages: the permissive codec reads them. */
  private readonly recordCodec = { encode: cborCodec.encode, decode: cborCodec.decode }

  constructor (private readonly options: SimulationOptions) {
    const { seed, nodes } = options
    this.scenario = typeof options.scenario === 'string' ? scenarioByName(options.scenario) : options.scenario
    if (!Number.isSafeInteger(seed) || seed < 0) throw new SimError('SIM_BAD_OPTION', `seed must be a non-negative integer, got ${seed}`)
    if (!Number.isSafeInteger(nodes) || nodes < this.scenario.nodesMin || nodes > NODES_MAX) {
      throw new SimError('SIM_BAD_OPTION', `scenario ${this.scenario.name} needs ${this.scenario.nodesMin} to ${NODES_MAX} nodes, got ${nodes}`)
    }
    const traceEvents = options.trace ?? TRACE_EVENTS_DEFAULT
    if (!Number.isSafeInteger(traceEvents) || traceEvents < 0 || traceEvents > TRACE_EVENTS_MAX) {
      throw new SimError('SIM_BAD_OPTION', `trace keeps 0 to ${TRACE_EVENTS_MAX} events, got ${traceEvents}`)
    }
    this.maxSimTimeMs = options.maxSimTimeMs ?? SIM_TIME_MS_DEFAULT
    this.commitBoundMs = options.commitBoundMs ?? COMMIT_BOUND_MS_DEFAULT
    this.endAtMs = this.maxSimTimeMs
    this.eventsMax = options.eventsMax ?? EVENTS_PER_RUN_MAX
    if (!Number.isSafeInteger(this.eventsMax) || this.eventsMax < 1) {
      throw new SimError('SIM_BAD_OPTION', `eventsMax must be a positive integer, got ${this.eventsMax}`)
    }
    this.nodeFactory = options.nodeFactory ?? defaultNodeFactory
    this.profile = options.profile ?? simProfile()
    this.trace = new Trace(traceEvents)

    const root = new Prng(seed)
    // The real node is read with its own strict codec, as a peer would; stand-in nodes with a permissive one.
    const codec = options.codec ?? (this.nodeFactory === defaultNodeFactory ? coreWireCodec : cborCodec)
    this.slots = makeSlots(root.fork(), nodes, EPOCH_BASE_MS, this.recordCodec)
    this.plan = this.scenario.build(root.fork(), nodes)
    // A scenario about fail-over sets its delay; an explicit profile from the caller wins.
    if (options.profile === undefined && this.plan.failoverDelayMs !== undefined) {
      this.profile = { ...this.profile, failoverDelayMs: this.plan.failoverDelayMs }
    }
    this.network = new Network(this.plan.links, codec, root.fork(), IN_FLIGHT_MESSAGES_MAX)
    this.jitter = root.fork()
    this.loops = this.plan.processing === undefined ? null : new EventLoops(this.plan.processing)
    this.clusterId = `sim-${seed}`
    this.sealingKey = root.fork().bytes(32)
    for (const slot of this.slots) this.slotOfNodeId.set(slot.nodeId, slot)
    // Only a crash restarts a node from its disk; without one the disk is never read back.
    if (this.plan.crashes.length === 0 && this.plan.crashesOnSend.length === 0) {
      for (const slot of this.slots) slot.store.writeOnly()
    }
    this.checker = new SafetyChecker((nodeId) => this.label(nodeId), { fullSplit: this.plan.fullSplit === true })
    this.truth = new GroundTruth(nodes)
    this.applyPlan()
  }

  run (): SimulationResult {
    while (this.queue.size > 0) {
      if (this.queue.peekTimeMs() > this.endAtMs) {
        this.stopReason = this.endAtMs === this.maxSimTimeMs ? 'max-sim-time' : 'settled'
        break
      }
      if (this.events >= this.eventsMax) {
        this.stopReason = 'event-limit'
        break
      }
      const next = this.queue.pop()
      assert(next !== undefined, 'a non-empty queue pops an event')
      assert(next.timeMs >= this.nowMs, 'simulated time never goes back')
      this.nowMs = next.timeMs
      this.events += 1
      this.handle(next.event)
      if (this.options.onProgress !== undefined && this.events % PROGRESS_EVERY_EVENTS === 0) this.reportProgress(this.options.onProgress)
      if (!this.checker.ok) {
        this.stopReason = 'violation'
        break
      }
    }
    if (this.checker.ok) this.auditAll()
    return this.result()
  }

  private reportProgress (onProgress: (progress: SimulationProgress) => void): void {
    onProgress({ events: this.events, simTimeMs: this.nowMs, holdingPlan: this.holdingPlan, messagesInFlight: this.network.messagesInFlight })
  }

  private applyPlan (): void {
    const { plan, slots } = this
    assert(plan.clocks.length === slots.length && plan.tickIntervalsMs.length === slots.length, 'the plan covers every node')
    for (const slot of slots) {
      slot.clock = new NodeClock(EPOCH_BASE_MS, plan.clocks[slot.index] ?? { skewMs: 0, driftPpm: 0 })
      slot.tickIntervalMs = plan.tickIntervalsMs[slot.index] ?? 0
      slot.shape = plan.shapes?.get(slot.index) ?? null
      assert(slot.tickIntervalMs > 0, 'every node ticks')
      const view = plan.views?.[slot.index]
      slot.view = view === undefined ? null : new Set(view)
    }
    for (const start of plan.starts) {
      if ('atMs' in start) this.schedule(start.atMs, { type: 'start', node: start.node }, true)
      else this.pending += 1 // scheduled once someone commits
    }
    for (const partition of plan.partitions) this.schedule(partition.atMs, { type: 'partition', groups: partition.groups, cuts: partition.cuts ?? [] }, true)
    for (const fault of plan.crashes) this.schedule(fault.atMs, { type: 'crash', fault }, true)
    for (const discovery of plan.discoveries) this.schedule(discovery.atMs, { type: 'discover', node: discovery.node, peer: discovery.peer }, true)
    for (const leave of plan.leaves ?? []) this.schedule(leave.atMs, { type: 'leave', node: leave.node }, true)
    for (const ready of plan.serverReady ?? []) this.schedule(ready.atMs, { type: 'server-ready', node: ready.node }, true)
    if (plan.holdUntilMs !== undefined) this.schedule(plan.holdUntilMs, { type: 'hold' }, true)
    for (const stall of plan.stalls ?? []) this.schedule(stall.atMs, { type: 'stall', node: stall.node, durationMs: stall.durationMs }, true)
    for (const step of plan.clockSteps ?? []) this.schedule(step.atMs, { type: 'clock-step', node: step.node, stepMs: step.stepMs }, true)
    for (const fault of plan.crashesOnSend) this.slotAt(fault.node).armedCrashes.push(armedFromFault(fault))
    if (plan.liveness?.kind === 'at') this.queue.push(plan.liveness.atMs + this.commitBoundMs, { type: 'liveness' })
  }

  private schedule (atMs: number, event: SimEvent, pending: boolean): void {
    if (pending) this.pending += 1
    this.queue.push(atMs, event)
  }

  private dispatch (event: SimEvent): void {
    switch (event.type) {
      case 'start':
      case 'restart':
        this.pending -= 1
        this.boot(this.slotAt(event.node))
        return
      case 'tick':
        this.tick(this.slotAt(event.node), event.incarnation, event.lateMs)
        return
      case 'deliver':
        this.deliver(event.delivery, event.admitted === true)
        return
      case 'crash':
        this.pending -= 1
        this.crashOnSchedule(event.fault)
        return
      case 'partition':
        this.pending -= 1
        this.repartition(event.groups, event.cuts)
        return
      case 'discover':
        this.pending -= 1
        this.discoverLate(event.node, event.peer)
        return
      case 'liveness':
        this.checkLiveness()
        return
      case 'leave':
        this.pending -= 1
        this.leave(this.slotAt(event.node))
        return
      case 'server-ready':
        this.pending -= 1
        this.serverReady(this.slotAt(event.node))
        return
      case 'hold':
        this.pending -= 1
        return
      case 'stall':
        this.pending -= 1
        this.stall(this.slotAt(event.node), event.durationMs)
        return
      case 'resume':
        this.resume(this.slotAt(event.node), event.incarnation)
        return
      case 'clock-step':
        this.pending -= 1
        this.stepClock(this.slotAt(event.node), event.stepMs)
    }
  }

  private handle (event: SimEvent): void {
    this.dispatch(event)
    if (event.type !== 'tick' && event.type !== 'deliver' && event.type !== 'resume') this.maybeSettle()
  }

  /** First start or restart: a new process on the machine's disk, then mDNS finds its peers. */
  private boot (slot: NodeSlot): void {
    if (slot.node !== null) return
    const restart = slot.started
    const node = this.guard(slot, () => this.nodeFactory({
      key: slot.key,
      clusterId: this.clusterId,
      sealingKey: this.sealingKey,
      shape: slot.shape ?? this.plan.shape,
      facts: slot.facts,
      profile: this.profile,
      prng: slot.prngSource.fork(),
      entropy: slot.entropy,
      restored: slot.store.restore() satisfies PersistRecord[],
      nowMs: slot.clock.nowMs(this.nowMs),
      wallMs: this.wallOf(slot),
      verify: sharedSignatureCheck
    }))
    if (node === undefined) return
    assert(node.nodeId === slot.nodeId, 'a node takes the id of the key it was given')
    slot.node = node
    this.truth.started(slot.index, this.nowMs)
    this.trace.add(this.nowMs, restart ? 'restart' : 'start', slot.index, -1, restart ? `${slot.store.recordCount} records restored` : '')
    if (!restart) this.firstStart(slot)
    const inspection = this.guard(slot, () => node.inspect())
    if (inspection === undefined) return
    if (restart) {
      this.checker.restarted(inspection, this.nowMs)
      this.guard(slot, () => this.checker.audit(inspection, this.nowMs))
    } else {
      this.checker.observe(inspection, this.nowMs)
    }
    this.notePlan(slot, inspection.plans.size > 0)
    this.queue.push(this.nowMs + this.tickDelayMs(slot), { type: 'tick', node: slot.index, incarnation: slot.incarnation })
    this.cycle(slot)
    this.connect(slot)
  }

  private firstStart (slot: NodeSlot): void {
    slot.started = true
    this.started += 1
    this.firstStartMs ??= this.nowMs
    this.lastStartMs = this.nowMs
    if (this.started === this.slots.length && this.plan.liveness?.kind === 'last-start') {
      this.queue.push(this.nowMs + this.commitBoundMs, { type: 'liveness' })
    }
  }

  /** The node and every live peer it can see and reach discover each other (mDNS is mutual). */
  private connect (slot: NodeSlot): void {
    // Only the peers in view, in index order: linear in the view, not in the node count.
    const peers = slot.view === null ? this.slots : [...slot.view].sort((a, b) => a - b).map((index) => this.slotAt(index))
    for (const peer of peers) {
      if (peer === slot) continue
      this.discoverPair(slot, peer)
    }
  }

  private visible (slot: NodeSlot, peer: NodeSlot): boolean {
    return slot.view === null || slot.view.has(peer.index)
  }

  private discoverPair (a: NodeSlot, b: NodeSlot): void {
    if (a.node === null || b.node === null || !this.network.connected(a.nodeId, b.nodeId)) return
    this.trace.add(this.nowMs, 'discover', a.index, b.index)
    for (const [self, other] of [[a, b], [b, a]] as const) {
      const node = self.node
      if (node === null || !this.checker.ok) return
      if (this.isStalled(self)) {
        self.missedDiscovery = true
        continue
      }
      this.guard(self, () => node.discover(other.nodeId, self.clock.nowMs(this.nowMs), this.wallOf(self)))
      this.cycle(self)
    }
  }

  private discoverLate (index: number, peerIndex: number): void {
    const slot = this.slotAt(index)
    const peer = this.slotAt(peerIndex)
    slot.view?.add(peerIndex)
    peer.view?.add(index)
    this.discoverPair(slot, peer)
  }

  private tick (slot: NodeSlot, incarnation: number, lateMs: number | undefined): void {
    const node = slot.node
    if (node === null || incarnation !== slot.incarnation) return
    if (this.isStalled(slot)) {
      // The timer fires late, first thing when the loop wakes (after the 'resume' queued at the stall).
      this.queue.push(slot.stalledUntilMs, { type: 'tick', node: slot.index, incarnation })
      return
    }
    if (this.loops !== null && lateMs === undefined) {
      const startMs = this.loops.admitTick(slot.index, this.nowMs)
      if (startMs > this.nowMs) {
        this.queue.push(startMs, { type: 'tick', node: slot.index, incarnation, lateMs: startMs - this.nowMs })
        return
      }
    }
    this.queue.push(this.nowMs + this.tickDelayMs(slot), { type: 'tick', node: slot.index, incarnation })
    if (lateMs !== undefined && lateMs >= DRIVER_STALL_GAP_MS && node.resumed !== undefined) {
      // As the agent's driver does on a late tick: the node hears of its own lateness first.
      const resumed = node.resumed.bind(node)
      this.guard(slot, () => { resumed(lateMs, slot.clock.nowMs(this.nowMs)) })
    }
    this.guard(slot, () => node.tick(slot.clock.nowMs(this.nowMs), this.wallOf(slot)))
    this.cycle(slot)
  }

  /** The operator's `leave` on a running node; a node that is down cannot be asked. */
  private leave (slot: NodeSlot): void {
    const node = slot.node
    if (node === null) return
    this.trace.add(this.nowMs, 'leave', slot.index, -1, '')
    this.guard(slot, () => node.leave(slot.clock.nowMs(this.nowMs), this.wallOf(slot)))
    this.cycle(slot)
  }

  /** The node says its k3s server is Ready, as the applier does; the J1 check counts it from then on. */
  private serverReady (slot: NodeSlot): void {
    const node = slot.node
    if (node === null) return
    this.trace.add(this.nowMs, 'server-ready', slot.index, -1, '')
    this.checker.serverReady(node.nodeId)
    this.guard(slot, () => { node.publish?.(SERVER_READY_KEY_NAME, new TextEncoder().encode('1'), slot.clock.nowMs(this.nowMs), this.wallOf(slot)) })
    this.cycle(slot)
  }

  private tickDelayMs (slot: NodeSlot): number {
    return slot.tickIntervalMs + this.jitter.intInclusive(0, TICK_JITTER_MS_MAX)
  }

  private deliver (delivery: Delivery, admitted: boolean): void {
    const stalled = this.slotOfNodeId.get(delivery.to)
    if (stalled !== undefined && stalled.node !== null && this.isStalled(stalled)) {
      // Read when the loop wakes, in arrival order, after its late timers.
      this.queue.push(stalled.stalledUntilMs, { type: 'deliver', delivery, admitted })
      return
    }
    if (this.loops !== null && !admitted && stalled !== undefined && stalled.node !== null) {
      // A busy loop reads it in its turn, after what arrived before it.
      const startMs = this.loops.admitMessage(stalled.index, this.nowMs)
      if (startMs > this.nowMs) {
        this.queue.push(startMs, { type: 'deliver', delivery, admitted: true })
        return
      }
    }
    this.network.landed()
    const target = this.slotOfNodeId.get(delivery.to)
    const node = target?.node ?? null
    const source = this.slotOfNodeId.get(delivery.from)
    assert(target !== undefined && source !== undefined, 'messages travel between simulated nodes')
    // A message to an identity the machine lost with its state dir finds nobody.
    const gone = target.nodeId !== delivery.to
    if (node === null || gone || !this.network.connected(delivery.from, delivery.to)) {
      const reason = this.network.countDrop(node === null || gone ? 'down' : 'partition')
      this.trace.add(this.nowMs, 'drop', source.index, target.index, `${delivery.kind} (${reason})`)
      return
    }
    this.trace.add(this.nowMs, 'deliver', source.index, target.index, delivery.duplicate ? `${delivery.kind} (duplicate)` : delivery.kind)
    const message = this.network.decode(delivery.bytes)
    this.guard(target, () => node.step({ from: delivery.from, to: delivery.to, message }, target.clock.nowMs(this.nowMs), this.wallOf(target)))
    this.cycle(target)
  }

  /**
   * The contract's order after every input: persist, then send, then advance (S6). An armed
   * crash may strike after the persist or after the send, never inside either.
   */
  private cycle (slot: NodeSlot): void {
    const node = slot.node
    if (node === null || !this.checker.ok) return
    const ready = this.guard(slot, () => node.ready())
    if (ready === undefined) return
    const armed = this.armedFor(slot, ready)
    if (ready.persist.records.length > 0) slot.store.append(ready.persist)
    if (armed?.point === 'after-persist') return this.crash(slot, armed.point, armed.loseUnsynced, armed.restartAfterMs)
    const encodedInBatch = new Map<WireMessage, Uint8Array>()
    for (const envelope of ready.send) this.send(slot, envelope, encodedInBatch)
    if (armed?.point === 'after-send') return this.crash(slot, armed.point, armed.loseUnsynced, armed.restartAfterMs)
    this.guard(slot, () => node.advance(ready))
    for (const event of ready.events) {
      if (event.type === 'ledger:rejected' && event.reason.startsWith('conflicting decisions') && this.plan.fullSplit !== true) {
        // Two certified decisions with different values for one epoch: agreement is broken.
        this.checker.fail('S2', this.nowMs, [slot.nodeId, event.from], `${this.label(slot.nodeId)} holds a decision that conflicts with one from ${this.label(event.from)}`)
      }
      if (event.type === 'member:dead') this.noteDeath(slot, event.nodeId)
      if (event.type !== 'plan:committed') continue
      this.checkReplacements(slot, event.plan)
      this.checker.committed(slot.nodeId, event.plan.epoch)
      this.trace.add(this.nowMs, 'commit', slot.index, -1, `epoch ${event.plan.epoch}, init ${this.label(event.plan.init)}`)
    }
    const committed = ready.events.some((event) => event.type === 'plan:committed')
    this.inspect(slot, committed)
    // A node that moved to the plan the others hold may be the last one the run waits for.
    if (committed && this.plan.fullSplit === true) this.maybeSettle()
  }

  /**
   * S7, against the ground truth, the first time any node holds a later epoch: every control plane
   * it replaces was down or cut off from a majority of the previous epoch's voters for the whole
   * fail-over delay (less the clocks' drift), up to a grace for detection and ballots in flight.
   */
  private checkReplacements (slot: NodeSlot, plan: Plan): void {
    if (plan.epoch < 2 || this.epochsCheckedForS7.has(plan.epoch)) return
    this.epochsCheckedForS7.add(plan.epoch)
    const previous = this.guard(slot, () => slot.node?.inspect().plans.get(plan.epoch - 1))
    if (previous === undefined) return
    const indexOf = (nodeId: NodeId): number => this.slotOfNodeId.get(nodeId)?.index ?? -1
    const voters = previous.controlPlanes.map(indexOf).filter((index) => index >= 0)
    const { failoverDelayMs, suspicionTimeoutMs, ballotTimeoutMs, proposerBackoffMsMax } = this.profile
    const delayMs = failoverDelayMs - Math.ceil(failoverDelayMs / 1_000)
    const graceMs = suspicionTimeoutMs + ballotTimeoutMs + proposerBackoffMsMax
    for (const replaced of plan.replaced ?? []) {
      const wipedAtMs = this.wipedIdentities.get(replaced)
      const problem = wipedAtMs === undefined
        ? this.truth.replacementProblem(indexOf(replaced), voters, this.nowMs, delayMs, graceMs)
        : this.nowMs - wipedAtMs >= delayMs ? null : `its machine lost its state dir only ${this.nowMs - wipedAtMs} ms before`
      if (problem !== null) {
        this.fail('S7', [replaced, slot.nodeId], `epoch ${plan.epoch} replaces ${this.label(replaced)}, but ${problem}`)
      }
    }
  }

  private send (slot: NodeSlot, envelope: Ready['send'][number], encodedInBatch: Map<WireMessage, Uint8Array>): void {
    assert(envelope.from === slot.nodeId, 'a node sends only as itself')
    const target = this.slotOfNodeId.get(envelope.to)
    if (target === undefined) return // a peer id the simulation does not know: nowhere to go
    this.checker.sent(slot.nodeId, envelope.message)
    const outcome = this.network.send(envelope, this.nowMs, encodedInBatch)
    if (outcome.dropped !== null) this.trace.add(this.nowMs, 'drop', slot.index, target.index, `${envelope.message.kind} (${outcome.dropped})`)
    for (const delivery of outcome.deliveries) this.queue.push(delivery.atMs, { type: 'deliver', delivery })
  }

  /** Takes the armed crash this step triggers, if any: a kind-triggered one needs that kind in `send`. */
  private armedFor (slot: NodeSlot, ready: Ready): ArmedCrash | null {
    const hasOutput = ready.persist.records.length > 0 || ready.send.length > 0
    const index = slot.armedCrashes.findIndex((armed) =>
      armed.kind === null ? hasOutput : ready.send.some((envelope) => envelope.message.kind === armed.kind))
    if (index < 0) return null
    const [armed] = slot.armedCrashes.splice(index, 1)
    return armed ?? null
  }

  private inspect (slot: NodeSlot, audit: boolean): void {
    const node = slot.node
    if (node === null) return
    const inspection = this.guard(slot, () => node.inspect())
    if (inspection === undefined) return
    this.checker.observe(inspection, this.nowMs)
    if (audit || this.options.auditEveryStep === true) this.guard(slot, () => this.checker.audit(inspection, this.nowMs))
    this.notePlan(slot, inspection.plans.size > 0)
  }

  private notePlan (slot: NodeSlot, holdsPlan: boolean): void {
    if (holdsPlan === slot.holdsPlan) return
    slot.holdsPlan = holdsPlan
    this.holdingPlan += holdsPlan ? 1 : -1
    if (!holdsPlan) return
    if (slot.firstPlanMs === null) {
      slot.firstPlanMs = this.nowMs
      this.everHeldPlan += 1
      if (this.everHeldPlan === this.slots.length) {
        const totals = this.network.totals
        this.trafficToAllCommitted = { messages: totals.messagesSent / this.slots.length, bytes: totals.bytesSent / this.slots.length }
      }
    }
    if (this.firstPlanMs === null) {
      this.firstPlanMs = this.nowMs
      this.startLateJoiners()
    }
    this.maybeSettle()
  }

  private startLateJoiners (): void {
    for (const start of this.plan.starts) {
      if ('afterFirstCommitMs' in start) this.queue.push(this.nowMs + start.afterFirstCommitMs, { type: 'start', node: start.node })
    }
  }

  /** Once every node holds a plan and no fault is left, run a little longer, then stop. */
  private maybeSettle (): void {
    if (this.holdingPlan < this.slots.length || this.pending > 0) return
    // After a full split the run goes on until the running nodes agree (or its time runs out,
    // and the end-of-run check says they did not): holding some plan is not enough.
    if (this.plan.fullSplit === true && !this.runningNodesAgree()) return
    this.endAtMs = Math.min(this.endAtMs, this.nowMs + SETTLE_AFTER_COMMIT_MS)
  }

  /** True when every running node holds the same plan of epoch 1 (fullSplit runs only). */
  private runningNodesAgree (): boolean {
    let first: Uint8Array | null = null
    for (const slot of this.slots) {
      const node = slot.node
      if (node === null) continue
      const plan = this.guard(slot, () => node.inspect().plans.get(1))
      if (plan === undefined) return false
      const bytes = encodeCanonical(plan)
      if (first === null) first = bytes
      else if (!sameBytes(first, bytes)) return false
    }
    return true
  }

  private crashOnSchedule (fault: CrashFault): void {
    const slot = this.slotAt(fault.node)
    if (slot.node === null) return
    // The edit lands while the node is down, whichever way the crash strikes.
    if (fault.shapeAfterRestart !== undefined) slot.shape = fault.shapeAfterRestart
    // Losing the state dir is only in the model once a plan exists (precondition 1 of the README).
    if (fault.wipeState === true && this.firstPlanMs !== null) {
      this.crash(slot, 'idle', true, fault.restartAfterMs)
      this.wipe(slot)
      return
    }
    if (fault.point === 'idle') {
      this.crash(slot, 'idle', fault.loseUnsynced, fault.restartAfterMs)
    } else {
      slot.armedCrashes.push({ kind: null, point: fault.point, loseUnsynced: fault.loseUnsynced, restartAfterMs: fault.restartAfterMs })
    }
  }

  private crash (slot: NodeSlot, point: string, loseUnsynced: boolean, restartAfterMs: number | null): void {
    const node = slot.node
    if (node === null) return
    const inspection = this.guard(slot, () => node.inspect())
    if (inspection !== undefined) this.checker.crashed(inspection)
    const lost = slot.store.crash(loseUnsynced)
    slot.node = null
    this.truth.crashed(slot.index, this.nowMs)
    slot.incarnation += 1
    slot.stalledUntilMs = 0
    slot.frozenSinceMs = null
    slot.missedDiscovery = false
    slot.armedCrashes = slot.armedCrashes.filter((armed) => armed.kind !== null)
    this.notePlan(slot, false)
    this.trace.add(this.nowMs, 'crash', slot.index, -1, `${point}${loseUnsynced ? `, power loss: ${lost} un-synced records lost` : ''}`)
    if (restartAfterMs !== null) this.schedule(this.nowMs + restartAfterMs, { type: 'restart', node: slot.index }, true)
  }

  private isStalled (slot: NodeSlot): boolean {
    return this.nowMs < slot.stalledUntilMs
  }

  /** The node's wall clock: its skewed, drifting clock plus every step so far (never below 0). */
  private wallOf (slot: NodeSlot): number {
    return Math.max(0, slot.clock.nowMs(this.nowMs) + slot.wallStepMs)
  }

  /** Freezes the node's event loop; a stall that overlaps one running extends it. */
  private stall (slot: NodeSlot, durationMs: number): void {
    if (slot.node === null) return
    if (!this.isStalled(slot)) slot.frozenSinceMs = this.nowMs
    slot.stalledUntilMs = Math.max(slot.stalledUntilMs, this.nowMs + durationMs)
    this.trace.add(this.nowMs, 'stall', slot.index, -1, `${durationMs} ms`)
    this.queue.push(slot.stalledUntilMs, { type: 'resume', node: slot.index, incarnation: slot.incarnation })
  }

  /**
   * The loop wakes: as the agent's driver does on a gap between its ticks, the node is told how
   * long it was frozen (before its late timers and queued messages run), then gets what it missed.
   */
  private resume (slot: NodeSlot, incarnation: number): void {
    const node = slot.node
    // A stall extended by another wakes at the later resume only.
    if (node === null || incarnation !== slot.incarnation || this.isStalled(slot) || slot.frozenSinceMs === null) return
    const frozenMs = this.nowMs - slot.frozenSinceMs
    slot.frozenSinceMs = null
    this.trace.add(this.nowMs, 'resume', slot.index, -1, `after ${frozenMs} ms`)
    if (node.resumed !== undefined) {
      const resumed = node.resumed.bind(node)
      this.guard(slot, () => { resumed(frozenMs, slot.clock.nowMs(this.nowMs)) })
    }
    this.cycle(slot)
    if (slot.missedDiscovery) {
      slot.missedDiscovery = false
      this.connect(slot)
    }
  }

  private stepClock (slot: NodeSlot, stepMs: number): void {
    slot.wallStepMs += stepMs
    this.trace.add(this.nowMs, 'clock-step', slot.index, -1, `${stepMs > 0 ? '+' : ''}${stepMs} ms`)
  }

  /** Counts a death declared while the member's process runs and the network joins the two. */
  private noteDeath (slot: NodeSlot, deadId: NodeId): void {
    const dead = this.slotOfNodeId.get(deadId)
    if (dead === undefined || dead.node === null || !this.network.connected(slot.nodeId, deadId)) return
    this.falseDeaths += 1
    this.trace.add(this.nowMs, 'false-death', slot.index, dead.index, '')
  }

  /** The machine comes back as a new node: new identity, empty disk (the old id is gone for good). */
  private wipe (slot: NodeSlot): void {
    const oldId = slot.nodeId
    this.wipedIdentities.set(oldId, this.nowMs)
    wipeSlot(slot, this.recordCodec)
    this.slotOfNodeId.set(slot.nodeId, slot)
    this.trace.add(this.nowMs, 'crash', slot.index, -1, `state dir lost: ${this.label(oldId)} comes back as ${this.label(slot.nodeId)}`)
  }

  private repartition (groups: readonly (readonly number[])[] | null, cuts: ReadonlyArray<readonly [number, number]> = []): void {
    this.truth.partitioned(groups, this.nowMs, cuts)
    const before = this.slots.map((slot) => this.slots.map((peer) => this.network.connected(slot.nodeId, peer.nodeId)))
    if (groups === null) {
      this.network.heal()
      this.trace.add(this.nowMs, 'heal')
    } else {
      this.network.partition(groups.map((group) => group.map((index) => this.slotAt(index).nodeId)))
      this.trace.add(this.nowMs, 'partition', -1, -1, groups.map((group) => group.map((index) => `n${index}`).join(',')).join(' | '))
    }
    this.network.cut(cuts.map(([a, b]) => [this.slotAt(a).nodeId, this.slotAt(b).nodeId] as const))
    if (cuts.length > 0) this.trace.add(this.nowMs, 'partition', -1, -1, `cut ${cuts.map(([a, b]) => `n${a}-n${b}`).join(', ')}`)
    // Peers that can reach each other again find each other again, as mDNS would.
    for (const slot of this.slots) {
      for (const peer of this.slots) {
        if (peer.index <= slot.index || before[slot.index]?.[peer.index] === true) continue
        if (this.visible(slot, peer)) this.discoverPair(slot, peer)
      }
    }
  }

  private checkLiveness (): void {
    const behind = this.slots.filter((slot) => !slot.holdsPlan)
    if (behind.length === 0) return
    const since = this.plan.liveness?.kind === 'at' ? `the heal at ${this.plan.liveness.atMs} ms` : `the last start at ${this.lastStartMs} ms`
    this.checker.fail('L1', this.nowMs, behind.map((slot) => slot.nodeId),
      `${behind.map((slot) => `n${slot.index}${slot.node === null ? ' (down)' : ''}`).join(', ')} hold no committed plan ${this.commitBoundMs} ms after ${since}`)
  }

  private auditAll (): void {
    const running: NodeInspection[] = []
    for (const slot of this.slots) {
      const node = slot.node
      if (node === null) continue
      const inspection = this.guard(slot, () => node.inspect())
      if (inspection === undefined) continue
      running.push(inspection)
      this.guard(slot, () => this.checker.audit(inspection, this.nowMs))
    }
    if (this.checker.ok) this.checker.converged(running, this.nowMs)
  }

  /** Runs a node's code; a throw is a violation of its own (an assertion in the core fired). */
  private guard<T>(slot: NodeSlot, call: () => T): T | undefined {
    try {
      return call()
    } catch (error) {
      if (error instanceof SimError) throw error // the simulator's own setup, not the node's fault
      const why = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      this.fail('NODE_ERROR', [slot.nodeId], `${this.label(slot.nodeId)} threw ${why}`)
      return undefined
    }
  }

  private fail (property: Property, nodes: readonly NodeId[], message: string): void {
    this.checker.fail(property, this.nowMs, nodes, message)
  }

  private slotAt (index: number): NodeSlot {
    const slot = this.slots[index]
    assert(slot !== undefined, 'scenario node indexes are in range')
    return slot
  }

  /** `n2` plus the end of its id: short enough to read, long enough to match a log. */
  private label (nodeId: NodeId): string {
    const slot = this.slotOfNodeId.get(nodeId)
    return slot === undefined ? nodeId : `n${slot.index}(…${nodeId.slice(-4)})`
  }

  private result (): SimulationResult {
    const violations = this.checker.violations
    for (const violation of violations) {
      this.trace.add(violation.timeMs, 'violation', this.slotOfNodeId.get(violation.nodes[0] ?? '')?.index ?? -1, -1, violation.message)
    }
    this.trace.add(this.nowMs, 'end', -1, -1, this.stopReason)
    const traffic = this.slots.map((slot) => ({ nodeId: slot.nodeId, ...this.network.trafficOf(slot.nodeId) }))
    const everyoneMs = this.slots.every((slot) => slot.firstPlanMs !== null)
      ? Math.max(...this.slots.map((slot) => slot.firstPlanMs ?? 0))
      : null
    const nodeCount = this.slots.length
    return {
      scenario: this.scenario.name,
      seed: this.options.seed,
      nodes: nodeCount,
      ok: violations.length === 0,
      violations,
      commitTimeMs: everyoneMs === null ? null : Math.max(0, everyoneMs - this.lastStartMs),
      messagesPerNode: traffic.reduce((sum, count) => sum + count.messagesSent, 0) / nodeCount,
      bytesPerNode: traffic.reduce((sum, count) => sum + count.bytesSent, 0) / nodeCount,
      traffic,
      nodeIds: this.slots.map((slot) => slot.nodeId),
      endTimeMs: this.nowMs,
      events: this.events,
      stopReason: this.stopReason,
      fingerprint: this.trace.fingerprint,
      trace: this.trace.entries(),
      firstStartMs: this.firstStartMs,
      firstCommitMs: this.firstPlanMs,
      allCommittedMs: everyoneMs,
      trafficToAllCommitted: this.trafficToAllCommitted,
      dropped: { ...this.network.dropped },
      latestPlan: this.latestPlanHeld(),
      downAtEnd: this.slots.filter((slot) => slot.node === null).map((slot) => slot.index),
      falseDeaths: this.falseDeaths
    }
  }

  private latestPlanHeld (): Plan | null {
    let latest: Plan | null = null
    for (const slot of this.slots) {
      const plans = slot.node === null ? undefined : this.guard(slot, () => slot.node?.inspect().plans)
      for (const plan of plans?.values() ?? []) if (latest === null || plan.epoch > latest.epoch) latest = plan
    }
    return latest
  }
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && a.every((byte, index) => byte === b[index])
}
