import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import type { Prng } from '../prng.js'
import { validateProfile, type TimingProfile } from '../profiles.js'
import { MembershipError } from './errors.js'
import { GossipQueue, retransmitLimit } from './gossip.js'
import {
  DEAD_PROBE_PERIODS, GOSSIP_FANOUT_MAX, GOSSIP_UPDATES_PER_MESSAGE_MAX, INDIRECT_PROBES_MAX, ANNOUNCE_FANOUT, LOCAL_HEALTH_MAX, META_BYTES_MAX,
  NODE_ID_CHARS_MAX
} from './limits.js'
import { MemberList, isLiveState, type MemberRecord, type Transition } from './member-list.js'
import type { MemberState, MemberUpdate, MembershipMessage, PingRequest } from './messages.js'
import { ProbeOrder, type Probe } from './probe.js'
import { Relays } from './relays.js'
import { Suspicion, expectedConfirmations, suspicionTimeoutMs } from './suspicion.js'

export interface MembershipInit {
  readonly self: NodeId
  readonly profile: TimingProfile
  readonly prng: Prng
  readonly nowMs: number
  /** Start here after a restart (e.g. a persisted restart counter): nothing else is persisted. */
  readonly initialIncarnation?: number
  /** Small opaque bytes gossiped with our `alive` (e.g. a shape hash); at most META_BYTES_MAX. */
  readonly meta?: Uint8Array
}

export type MembershipEvent =
  | { readonly type: 'member:join', readonly nodeId: NodeId }
  | { readonly type: 'member:alive', readonly nodeId: NodeId }
  | { readonly type: 'member:suspect', readonly nodeId: NodeId }
  | { readonly type: 'member:dead', readonly nodeId: NodeId }
  | { readonly type: 'member:left', readonly nodeId: NodeId }

export interface MembershipOutbound {
  readonly to: NodeId
  readonly message: MembershipMessage
}

/** Everything produced since the last `drain()`, in order. */
export interface MembershipOutput {
  readonly send: MembershipOutbound[]
  readonly events: MembershipEvent[]
}

/** One member as this node sees it (self included, with `lastSeenMs` null). */
export interface MemberView {
  readonly nodeId: NodeId
  readonly state: MemberState
  readonly incarnation: number
  readonly lastSeenMs: number | null
  readonly meta?: Uint8Array
}

const PROBEABLE = new Set<MemberState>(['alive', 'suspect'])
const ALIVE = new Set<MemberState>(['alive'])
const DEAD = new Set<MemberState>(['dead'])

/**
 * SWIM membership and failure detection as a pure state machine (Das, Gupta, Motivala 2002, with
 * memberlist's refinements: incarnations, suspicion, randomised round-robin probing).
 *
 * Driving it: call `tick(nowMs)` at least by `nextTickMs()`, `step(from, message, nowMs)` for each
 * received `swim/…` message, `addPeer(id, nowMs)` when discovery or the ledger names a peer, and
 * `leave(nowMs)` before a clean shutdown; after any of them, `drain()` hands out the messages to
 * send (best effort: loss is expected) and the events, in order. Time must not go backwards.
 *
 * Traffic per node per probe period is constant in N: one ping (plus `indirectProbes` ping-reqs
 * when it fails), one ack per ping received, one ping to a dead member every DEAD_PROBE_PERIODS
 * periods, each with at most GOSSIP_UPDATES_PER_MESSAGE_MAX updates; and while news is queued, a
 * gossip message to `gossipFanout` members every `gossipIntervalMs` (each update is sent a
 * bounded number of times, so news costs a bounded burst and an idle cluster sends none).
 */
export class Membership {
  readonly self: NodeId
  private readonly profile: TimingProfile
  private readonly prng: Prng
  private readonly list = new MemberList()
  private readonly gossip = new GossipQueue()
  private readonly order = new ProbeOrder()
  private readonly relays = new Relays()
  private readonly suspicions = new Map<NodeId, Suspicion>()
  private incarnation: number
  private meta: Uint8Array | undefined
  private hasLeft = false
  private probe: Probe | null = null
  private nextProbeAtMs: number
  private nextGossipAtMs: number
  private nextSweepMs: number
  private periods = 0
  /**
   * Lifeguard's local health multiplier (Dadgar et al. 2018): 0 when healthy, up by one for each
   * probe of ours that fails and each suspicion of us we must refute, down by one for each probe
   * answered. A node whose own event loop is starved sees its probes fail and its timers fire
   * late; stretching its probe interval and probe timeout by (health + 1) keeps it from suspecting
   * live members for its own slowness. The suspicion timeout is left alone, as in memberlist: a
   * healthy node whose probe of a dead member failed would otherwise be slow to declare it.
   */
  private health = 0
  private seq = 0
  private lastNowMs: number
  private outbox: MembershipOutbound[] = []
  private events: MembershipEvent[] = []
  /**
   * `live()` and `members()` are asked on every input by the node (its proposer and live-set
   * checks), and sorting thousands of ids each time dominated large simulations. Each answer is
   * kept until the table (or our own record) changes; callers get a copy of the array.
   */
  private liveCache: { readonly version: number, readonly ids: readonly NodeId[] } | null = null
  private membersCache: { readonly version: number, readonly selfVersion: number, readonly views: readonly MemberView[] } | null = null
  /** Bumped whenever our own view (incarnation, meta, left) changes. */
  private selfVersion = 0

  constructor (init: MembershipInit) {
    validateInit(init)
    this.self = init.self
    this.profile = validateProfile(init.profile)
    this.prng = init.prng
    this.incarnation = init.initialIncarnation ?? 0
    this.meta = init.meta?.slice()
    this.lastNowMs = init.nowMs
    // A random phase, so nodes booted together do not probe in lockstep.
    this.nextProbeAtMs = init.nowMs + this.prng.intInclusive(0, this.profile.probeIntervalMs - 1)
    this.nextGossipAtMs = init.nowMs + this.prng.intInclusive(0, this.profile.gossipIntervalMs - 1)
    this.nextSweepMs = init.nowMs + this.profile.probeIntervalMs
    this.gossip.enqueue(this.selfUpdate())
  }

  // ---- inputs ----

  /** A peer became known (discovery, a connection, the ledger). A dead one is pinged to check. */
  addPeer (nodeId: NodeId, nowMs: number): void {
    this.advanceClock(nowMs)
    if (nodeId === this.self || nodeId.length === 0 || nodeId.length > NODE_ID_CHARS_MAX) return
    const record = this.list.get(nodeId)
    if (record === undefined) {
      this.applyUpdate({ nodeId, state: 'alive', incarnation: 0 }, nowMs, false)
      return
    }
    if (!isLiveState(record.state)) this.sendPing(nodeId)
  }

  tick (nowMs: number): void {
    this.advanceClock(nowMs)
    this.relays.expire(nowMs)
    if (!this.hasLeft) this.advanceProbe(nowMs)
    this.expireSuspicions(nowMs)
    if (nowMs >= this.nextGossipAtMs) {
      this.nextGossipAtMs = nowMs + this.profile.gossipIntervalMs
      this.gossipRound()
    }
    if (nowMs >= this.nextSweepMs) {
      this.list.forgetBefore(nowMs - this.profile.deadRetentionMs)
      this.nextSweepMs = nowMs + this.profile.probeIntervalMs
    }
  }

  step (from: NodeId, message: MembershipMessage, nowMs: number): void {
    this.advanceClock(nowMs)
    if (from === this.self) return
    this.noteDirect(from, message.incarnation, nowMs)
    for (const update of message.gossip) this.applyUpdate(update, nowMs, true)
    switch (message.kind) {
      case 'swim/ping':
        this.send(from, { kind: 'swim/ack', seq: message.seq, incarnation: this.incarnation, gossip: this.gossipFor(from) })
        return
      case 'swim/ack':
        this.onAck(message.seq)
        return
      case 'swim/ping-req':
        this.onPingRequest(from, message, nowMs)
        return
      case 'swim/gossip':
        // Its news is applied above; nothing answers it.
    }
  }

  /**
   * Our own event loop was frozen for `frozenMs` (the driver saw a gap between its ticks): every
   * deadline we run is moved on by that much, so the time we could not read our inbox is not
   * counted against others (Lifeguard). Without this a one-second stall fails the probe whose ack
   * sits unread in our own inbox and runs out suspicions their refutations would have ended.
   * A stall long enough to have failed a probe is evidence of our own trouble: local health goes
   * up, as for a failed probe (shorter ones, frequent on a busy machine, would pin it at its maximum).
   */
  resumed (frozenMs: number, nowMs: number): void {
    this.advanceClock(nowMs)
    if (!Number.isSafeInteger(frozenMs) || frozenMs <= 0) return
    if (this.probe !== null) this.probe.startedMs += frozenMs
    this.nextProbeAtMs += frozenMs
    for (const suspicion of this.suspicions.values()) suspicion.postpone(frozenMs)
    if (frozenMs >= this.profile.probeTimeoutMs) this.adjustHealth(1)
  }

  /** Announces that this node leaves for good (at this incarnation) and stops probing. */
  leave (nowMs: number): void {
    this.advanceClock(nowMs)
    if (this.hasLeft) return
    this.hasLeft = true
    // We drop out of our own live set and our view says 'left'.
    this.liveCache = null
    this.selfVersion++
    this.probe = null
    this.gossip.enqueue(this.selfUpdate())
    this.announce()
  }

  /** Changes the meta gossiped with our alive; a new incarnation carries it. */
  setMeta (meta: Uint8Array, nowMs: number): void {
    this.advanceClock(nowMs)
    checkMeta(meta)
    this.meta = meta.slice()
    this.selfVersion++
    if (this.hasLeft) return
    this.bumpIncarnation(this.incarnation + 1)
  }

  // ---- outputs ----

  drain (): MembershipOutput {
    const output = { send: this.outbox, events: this.events }
    this.outbox = []
    this.events = []
    return output
  }

  /** The earliest time at which `tick` has work to do. */
  nextTickMs (): number {
    let next = this.nextSweepMs
    if (!this.hasLeft) next = Math.min(next, this.nextProbeAtMs)
    if (this.probe !== null && !this.probe.indirectSent && !this.probe.acked) {
      next = Math.min(next, this.probe.startedMs + this.probeTimeoutMs())
    }
    next = Math.min(next, this.relays.nextExpiryMs())
    // Only news wakes the gossip rounds: an idle node is not ticked for them.
    if (this.gossip.size > 0) next = Math.min(next, this.nextGossipAtMs)
    const maxMs = this.suspicionTimeoutMs()
    const expected = expectedConfirmations(this.list.liveMembers + 1)
    for (const suspicion of this.suspicions.values()) next = Math.min(next, suspicion.deadlineMs(maxMs, expected))
    return next
  }

  // ---- queries ----

  members (): MemberView[] {
    const cached = this.membersCache
    if (cached !== null && cached.version === this.list.version && cached.selfVersion === this.selfVersion) return cached.views.slice()
    const views: MemberView[] = [this.selfView()]
    for (const record of this.list.all()) views.push(viewOf(record))
    views.sort((a, b) => compareIds(a.nodeId, b.nodeId))
    this.membersCache = { version: this.list.version, selfVersion: this.selfVersion, views }
    return views.slice()
  }

  /** One member's view (self included), or null if it is not in the table. */
  member (nodeId: NodeId): MemberView | null {
    if (nodeId === this.self) return this.selfView()
    const record = this.list.get(nodeId)
    return record === undefined ? null : viewOf(record)
  }

  /** Alive and suspect members, self included unless it left, sorted. */
  live (): NodeId[] {
    const cached = this.liveCache
    if (cached !== null && cached.version === this.list.liveVersion) return cached.ids.slice()
    const ids = this.list.idsIn(PROBEABLE)
    if (!this.hasLeft) ids.push(this.self)
    ids.sort(compareIds)
    this.liveCache = { version: this.list.liveVersion, ids }
    return ids.slice()
  }

  /**
   * Grows whenever `live()` or any member's meta (ours included) may have changed; while it holds
   * still, anything derived from them is still good. Cheaper than comparing the lists.
   */
  get liveOrMetaVersion (): number {
    return this.list.liveVersion + this.list.metaVersion + this.selfVersion
  }

  /** True if the member counts as live (alive or suspect): it has not been declared dead or left. */
  isAlive (nodeId: NodeId): boolean {
    const state = this.stateOf(nodeId)
    return state !== null && isLiveState(state)
  }

  stateOf (nodeId: NodeId): MemberState | null {
    if (nodeId === this.self) return this.hasLeft ? 'left' : 'alive'
    return this.list.get(nodeId)?.state ?? null
  }

  get currentIncarnation (): number {
    return this.incarnation
  }

  /** Lifeguard's local health score, 0 (healthy) to LOCAL_HEALTH_MAX: our probe interval and timeout run (score + 1) times their base. */
  get localHealth (): number {
    return this.health
  }

  // ---- probing ----

  private advanceProbe (nowMs: number): void {
    const probe = this.probe
    if (probe !== null && !probe.acked && !probe.indirectSent && nowMs >= probe.startedMs + this.probeTimeoutMs()) {
      probe.indirectSent = true
      this.sendPingRequests(probe)
    }
    if (nowMs < this.nextProbeAtMs) return
    if (probe !== null) {
      // No nacks in this protocol: every failed probe counts against our own health (memberlist does the same without nackers).
      this.adjustHealth(probe.acked ? -1 : 1)
      if (!probe.acked) this.suspectAfterProbe(probe.target, nowMs)
    }
    this.probe = null
    this.nextProbeAtMs = nowMs + this.probeIntervalMs()
    this.periods++
    const target = this.order.next(this.prng, (id) => this.isProbeable(id), () => this.list.idsIn(PROBEABLE))
    if (target !== null) this.probe = { target, seq: this.sendPing(target), startedMs: nowMs, indirectSent: false, acked: false }
    if (this.periods % DEAD_PROBE_PERIODS === 0) this.pingOneDead()
  }

  private sendPingRequests (probe: Probe): void {
    const helpers = this.list.idsIn(ALIVE).filter((id) => id !== probe.target)
    for (const helper of this.prng.shuffle(helpers).slice(0, this.profile.indirectProbes)) {
      this.send(helper, {
        kind: 'swim/ping-req', seq: probe.seq, target: probe.target, incarnation: this.incarnation, gossip: this.gossipFor(helper)
      })
    }
  }

  /** No ack, direct or indirect, by the end of the period: suspect (SWIM §4.2). */
  private suspectAfterProbe (target: NodeId, nowMs: number): void {
    const record = this.list.get(target)
    if (record === undefined || !isLiveState(record.state)) return
    const wasSuspect = record.state === 'suspect'
    // Already suspect: our failed probe is an independent confirmation (Lifeguard).
    this.applyUpdate({ nodeId: target, state: 'suspect', incarnation: record.incarnation, by: this.self }, nowMs, record.heard)
    // Lifeguard's buddy system: the suspect is told at once (the ping carries our suspicion of it,
    // see gossipFor), so a live one refutes within a round trip instead of waiting to be probed.
    if (!wasSuspect) this.tellSuspect(target)
  }

  /** Pings a suspect once per suspicion; the ping carries the suspicion, so a live one refutes. */
  private tellSuspect (nodeId: NodeId): void {
    const suspicion = this.suspicions.get(nodeId)
    if (suspicion === undefined || suspicion.told) return
    suspicion.told = true
    this.sendPing(nodeId)
  }

  /**
   * memberlist's gossip: queued news goes to a few random live members now, not only on the next
   * probes. A suspect among them is told of its suspicion first (`gossipFor`) and can refute.
   */
  private gossipRound (): void {
    if (this.gossip.size === 0) return
    const targets = this.prng.shuffle(this.list.idsIn(PROBEABLE)).slice(0, this.profile.gossipFanout)
    for (const target of targets) {
      const gossip = this.gossipFor(target)
      if (gossip.length > 0) this.send(target, { kind: 'swim/gossip', incarnation: this.incarnation, gossip })
    }
  }

  /** Heals partitions: two sides that declared each other dead would otherwise never talk again. */
  private pingOneDead (): void {
    const dead = this.list.idsIn(DEAD)
    if (dead.length > 0) this.sendPing(this.prng.pick(dead))
  }

  private expireSuspicions (nowMs: number): void {
    const maxMs = this.suspicionTimeoutMs()
    const expected = expectedConfirmations(this.list.liveMembers + 1)
    const expired: MemberRecord[] = []
    for (const [nodeId, suspicion] of this.suspicions) {
      const record = this.list.get(nodeId)
      assert(record?.state === 'suspect', 'a running suspicion belongs to a suspect member')
      if (nowMs >= suspicion.deadlineMs(maxMs, expected)) expired.push(record)
    }
    for (const record of expired) {
      this.applyUpdate({ nodeId: record.nodeId, state: 'dead', incarnation: record.incarnation }, nowMs, record.heard)
    }
  }

  /** Pings a few random live members now, so our leave rides on them at once. */
  private announce (): void {
    const targets = this.prng.shuffle(this.list.idsIn(PROBEABLE)).slice(0, ANNOUNCE_FANOUT)
    for (const target of targets) this.sendPing(target)
  }

  private suspicionTimeoutMs (): number {
    return suspicionTimeoutMs(this.profile.suspicionTimeoutMs, this.list.liveMembers + 1)
  }

  private probeTimeoutMs (): number {
    return this.profile.probeTimeoutMs * (this.health + 1)
  }

  private probeIntervalMs (): number {
    return this.profile.probeIntervalMs * (this.health + 1)
  }

  private adjustHealth (delta: number): void {
    this.health = Math.min(LOCAL_HEALTH_MAX, Math.max(0, this.health + delta))
  }

  private isProbeable (nodeId: NodeId): boolean {
    const state = this.list.get(nodeId)?.state
    return state !== undefined && isLiveState(state)
  }

  // ---- receiving ----

  /** A direct message is an alive update about its sender at the incarnation it carries. */
  private noteDirect (from: NodeId, incarnation: number, nowMs: number): void {
    const wasHeard = this.list.get(from)?.heard ?? false
    this.applyUpdate({ nodeId: from, state: 'alive', incarnation }, nowMs, true)
    const record = this.list.get(from)
    if (record === undefined) return
    this.list.markSeen(from, nowMs)
    // Known only from addPeer until now: tell the others, as for any join.
    if (!wasHeard && record.state === 'alive') this.gossip.enqueue(updateOf(record))
    // A member we suspect talks to us without having refuted (say it answers a ping sent before
    // it stalled): it does not know, so tell it; its refutation then reaches us directly rather
    // than by gossip that may come too late.
    if (record.state === 'suspect') this.tellSuspect(from)
  }

  private onAck (seq: number): void {
    if (this.probe !== null && this.probe.seq === seq) this.probe.acked = true
    const relay = this.relays.take(seq)
    if (relay === undefined) return
    this.send(relay.requester, {
      kind: 'swim/ack', seq: relay.requesterSeq, incarnation: this.incarnation, gossip: this.gossipFor(relay.requester)
    })
  }

  private onPingRequest (from: NodeId, message: PingRequest, nowMs: number): void {
    if (message.target === this.self) {
      this.send(from, { kind: 'swim/ack', seq: message.seq, incarnation: this.incarnation, gossip: this.gossipFor(from) })
      return
    }
    const seq = this.nextSeq()
    const expiresMs = nowMs + this.profile.probeIntervalMs
    if (!this.relays.add(seq, { requester: from, requesterSeq: message.seq, expiresMs })) return
    this.send(message.target, { kind: 'swim/ping', seq, incarnation: this.incarnation, gossip: this.gossipFor(message.target) })
  }

  /** Applies one update (from gossip, a probe outcome or a direct message) and its effects. */
  private applyUpdate (update: MemberUpdate, nowMs: number, heard: boolean): void {
    if (update.nodeId === this.self) {
      this.refute(update)
      return
    }
    const transition = this.list.apply(update, nowMs, heard)
    if (transition === null) {
      this.confirmSuspicion(update)
      return
    }
    const record = this.list.get(update.nodeId)
    assert(record !== undefined, 'an applied update leaves a record')
    if (transition.current === 'suspect') this.suspicions.set(update.nodeId, new Suspicion(nowMs, suspecterOf(update)))
    else this.suspicions.delete(update.nodeId)
    // What we only guessed from addPeer stays local; everything else spreads.
    if (record.heard) this.gossip.enqueue(withSuspecter(updateOf(record), suspecterOf(update)))
    if (isLiveState(transition.current) && (transition.previous === null || !isLiveState(transition.previous))) {
      this.order.insert(this.prng, update.nodeId)
    }
    this.events.push(...eventsOf(transition))
  }

  /** A suspect update of the version we hold, from a new suspecter, shortens our timer and spreads. */
  private confirmSuspicion (update: MemberUpdate): void {
    const by = suspecterOf(update)
    if (update.state !== 'suspect' || by === undefined) return
    const record = this.list.get(update.nodeId)
    if (record?.state !== 'suspect' || record.incarnation !== update.incarnation) return
    const suspicion = this.suspicions.get(update.nodeId)
    assert(suspicion !== undefined, 'a suspect member has a running suspicion')
    if (suspicion.confirm(by) && record.heard) this.gossip.enqueue(withSuspecter(updateOf(record), by))
  }

  /** Someone says we are suspect, dead or left: outbid it (SWIM §4.2), unless we did leave. */
  private refute (update: MemberUpdate): void {
    if (this.hasLeft) return
    if (update.state === 'alive') {
      if (update.incarnation > this.incarnation) {
        this.incarnation = update.incarnation
        this.selfVersion++
      }
      return
    }
    if (update.incarnation < this.incarnation) return
    // Others could not reach us in time: likely our own slowness, so judge others more patiently.
    this.adjustHealth(1)
    this.bumpIncarnation(update.incarnation + 1)
  }

  private bumpIncarnation (incarnation: number): void {
    assert(Number.isSafeInteger(incarnation), 'an incarnation stays a safe integer')
    assert(incarnation > this.incarnation, 'incarnations only grow')
    this.incarnation = incarnation
    this.selfVersion++
    this.gossip.enqueue(this.selfUpdate())
  }

  // ---- sending ----

  private sendPing (to: NodeId): number {
    const seq = this.nextSeq()
    this.send(to, { kind: 'swim/ping', seq, incarnation: this.incarnation, gossip: this.gossipFor(to) })
    return seq
  }

  /**
   * Gossip for one message: first what we believe about the recipient if it is not alive (so it
   * refutes at once, or learns it was declared dead), then the least-sent queued updates.
   */
  private gossipFor (to: NodeId): MemberUpdate[] {
    const out: MemberUpdate[] = []
    const record = this.list.get(to)
    if (record !== undefined && record.state !== 'alive') out.push(updateOf(record))
    const limit = retransmitLimit(this.list.liveMembers + 1)
    out.push(...this.gossip.take(GOSSIP_UPDATES_PER_MESSAGE_MAX - out.length, to, limit))
    return out
  }

  private send (to: NodeId, message: MembershipMessage): void {
    assert(message.gossip.length <= GOSSIP_UPDATES_PER_MESSAGE_MAX, 'piggyback stays bounded')
    this.outbox.push({ to, message })
  }

  private nextSeq (): number {
    this.seq++
    assert(Number.isSafeInteger(this.seq), 'probe sequence numbers stay safe integers')
    return this.seq
  }

  private advanceClock (nowMs: number): void {
    assert(Number.isSafeInteger(nowMs), 'time is a whole number of ms')
    assert(nowMs >= this.lastNowMs, 'time does not go backwards')
    this.lastNowMs = nowMs
  }

  private selfUpdate (): MemberUpdate {
    const state: MemberState = this.hasLeft ? 'left' : 'alive'
    return this.meta === undefined
      ? { nodeId: this.self, state, incarnation: this.incarnation }
      : { nodeId: this.self, state, incarnation: this.incarnation, meta: this.meta }
  }

  private selfView (): MemberView {
    return { ...this.selfUpdate(), lastSeenMs: null }
  }
}

function validateInit (init: MembershipInit): void {
  const fail = (why: string): never => {
    throw new MembershipError('MEMBERSHIP_BAD_CONFIG', `membership: ${why}`)
  }
  if (init.self.length === 0 || init.self.length > NODE_ID_CHARS_MAX) fail(`self must be a node id of 1 to ${NODE_ID_CHARS_MAX} characters`)
  const incarnation = init.initialIncarnation ?? 0
  if (!Number.isSafeInteger(incarnation) || incarnation < 0) fail(`initialIncarnation must be a non-negative safe integer, got ${String(incarnation)}`)
  if (!Number.isSafeInteger(init.nowMs)) fail(`nowMs must be a whole number of ms, got ${String(init.nowMs)}`)
  const { indirectProbes, probeIntervalMs } = init.profile
  if (!Number.isSafeInteger(indirectProbes) || indirectProbes < 0 || indirectProbes > INDIRECT_PROBES_MAX) {
    fail(`profile.indirectProbes must be a whole number from 0 to ${INDIRECT_PROBES_MAX}, got ${String(indirectProbes)}`)
  }
  if (!Number.isSafeInteger(probeIntervalMs) || probeIntervalMs < 1) fail(`profile.probeIntervalMs must be a positive whole number, got ${String(probeIntervalMs)}`)
  const { gossipFanout, gossipIntervalMs } = init.profile
  if (!Number.isSafeInteger(gossipFanout) || gossipFanout < 0 || gossipFanout > GOSSIP_FANOUT_MAX) {
    fail(`profile.gossipFanout must be a whole number from 0 to ${GOSSIP_FANOUT_MAX}, got ${String(gossipFanout)}`)
  }
  if (!Number.isSafeInteger(gossipIntervalMs) || gossipIntervalMs < 1) fail(`profile.gossipIntervalMs must be a positive whole number, got ${String(gossipIntervalMs)}`)
  if (init.meta !== undefined) checkMeta(init.meta)
}

function checkMeta (meta: Uint8Array): void {
  if (meta.byteLength > META_BYTES_MAX) {
    throw new MembershipError('MEMBERSHIP_BAD_CONFIG', `membership: meta is ${meta.byteLength} bytes, over the limit of ${META_BYTES_MAX}: gossip a hash instead`)
  }
}

function updateOf (record: MemberRecord): MemberUpdate {
  const { nodeId, state, incarnation, meta } = record
  return meta === undefined ? { nodeId, state, incarnation } : { nodeId, state, incarnation, meta }
}

/** The suspecter named by a suspect update, unless it names the suspect itself (meaningless). */
function suspecterOf (update: MemberUpdate): NodeId | undefined {
  return update.state === 'suspect' && update.by !== update.nodeId ? update.by : undefined
}

function withSuspecter (update: MemberUpdate, by: NodeId | undefined): MemberUpdate {
  return update.state === 'suspect' && by !== undefined ? { ...update, by } : update
}

function viewOf (record: MemberRecord): MemberView {
  return { ...updateOf(record), lastSeenMs: record.lastSeenMs }
}

/** Events for one transition; a member never seen live that arrives dead or left is silent. */
function eventsOf (transition: Transition): MembershipEvent[] {
  const { nodeId, previous, current } = transition
  if (previous === current) return []
  const events: MembershipEvent[] = []
  if (previous === null) {
    if (!isLiveState(current)) return []
    events.push({ type: 'member:join', nodeId })
  } else if (current === 'alive' || (current === 'suspect' && !isLiveState(previous))) {
    // Back to alive (a refutation, a restart), or a dead member back and already under suspicion.
    events.push({ type: 'member:alive', nodeId })
  }
  if (current === 'suspect') events.push({ type: 'member:suspect', nodeId })
  if (current === 'dead') events.push({ type: 'member:dead', nodeId })
  if (current === 'left') events.push({ type: 'member:left', nodeId })
  return events
}

function compareIds (a: NodeId, b: NodeId): number {
  return a < b ? -1 : a > b ? 1 : 0
}
