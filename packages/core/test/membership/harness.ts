// A tiny in-test network for the membership state machine: every node is a real `Membership`,
// messages travel through a seeded lossy link with a small random latency, and simulated time
// advances in fixed steps. Nothing here sleeps or reads the clock, so a seed replays exactly.
import { encodeCanonical } from '../../src/codec.js'
import { Prng } from '../../src/prng.js'
import { lanProfile, type TimingProfile } from '../../src/profiles.js'
import { Membership, type MembershipEvent } from '../../src/membership/membership.js'
import { decodeMembershipMessage, type MembershipMessage } from '../../src/membership/messages.js'

export interface ClusterOptions {
  readonly size: number
  readonly seed: number
  readonly profile?: TimingProfile
  /** Percent of messages dropped on the link. */
  readonly lossPercent?: number
  /** One-way latency is drawn from [1, latencyMsMax]. */
  readonly latencyMsMax?: number
  readonly stepMs?: number
  /** Peers each node is told about at start, besides node 0 (the "seed" peer every node knows). */
  readonly initialPeers?: number
  /** Encode and strictly decode every message, as the wire would (slower). */
  readonly wire?: boolean
}

interface Flight {
  readonly from: string
  readonly to: string
  readonly message: MembershipMessage
}

export interface ObservedEvent {
  readonly atMs: number
  readonly observer: string
  readonly event: MembershipEvent
}

export class Cluster {
  readonly ids: string[]
  readonly nodes = new Map<string, Membership>()
  readonly up = new Set<string>()
  readonly observed: ObservedEvent[] = []
  /** Messages sent per node, reset by `resetCounters`. */
  readonly sent = new Map<string, number>()
  /** Messages sent by kind, reset by `resetCounters`. */
  readonly sentByKind = new Map<string, number>()
  maxMessageBytes = 0
  nowMs = 0
  private readonly prng: Prng
  private readonly profile: TimingProfile
  private readonly stepMs: number
  lossPercent: number
  private readonly latencyMsMax: number
  private readonly wire: boolean
  private readonly inFlight = new Map<number, Flight[]>()
  private blocked: ((from: string, to: string) => boolean) | null = null

  constructor (options: ClusterOptions) {
    this.prng = new Prng(options.seed)
    this.profile = options.profile ?? lanProfile()
    this.stepMs = options.stepMs ?? 5
    this.lossPercent = options.lossPercent ?? 0
    this.latencyMsMax = options.latencyMsMax ?? 4
    this.wire = options.wire ?? false
    this.ids = Array.from({ length: options.size }, (_, i) => `node-${String(i).padStart(3, '0')}`)
    for (const id of this.ids) this.start(id, 0)
    const initialPeers = options.initialPeers ?? 2
    for (const id of this.ids) {
      const first = this.ids[0]
      if (first !== undefined) this.node(id).addPeer(first, 0)
      for (let i = 0; i < initialPeers; i++) this.node(id).addPeer(this.prng.pick(this.ids), 0)
    }
  }

  node (id: string): Membership {
    const node = this.nodes.get(id)
    if (node === undefined) throw new Error(`no node ${id}`)
    return node
  }

  /** Starts (or restarts, with nothing remembered) a node. */
  start (id: string, initialIncarnation: number): void {
    this.nodes.set(id, new Membership({
      self: id, profile: this.profile, prng: this.prng.fork(), nowMs: this.nowMs, initialIncarnation
    }))
    this.up.add(id)
  }

  crash (id: string): void {
    this.up.delete(id)
  }

  /** Drops every message for which `blocked(from, to)` holds; null heals. */
  partition (blocked: ((from: string, to: string) => boolean) | null): void {
    this.blocked = blocked
  }

  resetCounters (): void {
    this.sent.clear()
    this.sentByKind.clear()
  }

  run (durationMs: number): void {
    const endMs = this.nowMs + durationMs
    while (this.nowMs < endMs) this.step()
  }

  /** Runs until `done()` or `limitMs` passes; returns the simulated time it took, or null. */
  runUntil (done: () => boolean, limitMs: number, checkEveryMs = 50): number | null {
    const startMs = this.nowMs
    while (this.nowMs - startMs < limitMs) {
      this.step()
      if ((this.nowMs - startMs) % checkEveryMs === 0 && done()) return this.nowMs - startMs
    }
    return null
  }

  /** True when every up node sees exactly the up nodes as live. */
  converged (): boolean {
    const expected = [...this.up].sort().join(',')
    for (const id of this.up) if (this.node(id).live().join(',') !== expected) return false
    return true
  }

  private step (): void {
    this.nowMs += this.stepMs
    const due = this.inFlight.get(this.nowMs) ?? []
    this.inFlight.delete(this.nowMs)
    for (const flight of due) {
      if (this.up.has(flight.to)) this.node(flight.to).step(flight.from, flight.message, this.nowMs)
    }
    for (const id of this.up) {
      const node = this.node(id)
      if (node.nextTickMs() <= this.nowMs) node.tick(this.nowMs)
      this.collect(id)
    }
  }

  private collect (id: string): void {
    const { send, events } = this.node(id).drain()
    for (const event of events) this.observed.push({ atMs: this.nowMs, observer: id, event })
    this.sent.set(id, (this.sent.get(id) ?? 0) + send.length)
    for (const { to, message } of send) {
      this.sentByKind.set(message.kind, (this.sentByKind.get(message.kind) ?? 0) + 1)
      const delivered = this.wire ? this.throughWire(message) : message
      if (this.prng.chance(this.lossPercent, 100)) continue
      if (this.blocked?.(id, to) === true) continue
      const latencyMs = this.prng.intInclusive(1, this.latencyMsMax)
      const atMs = Math.ceil((this.nowMs + latencyMs) / this.stepMs) * this.stepMs
      const bucket = this.inFlight.get(atMs)
      const flight = { from: id, to, message: delivered }
      if (bucket === undefined) this.inFlight.set(atMs, [flight])
      else bucket.push(flight)
    }
  }

  private throughWire (message: MembershipMessage): MembershipMessage {
    const bytes = encodeCanonical(message)
    this.maxMessageBytes = Math.max(this.maxMessageBytes, bytes.byteLength)
    return decodeMembershipMessage(bytes)
  }
}

/** Simulated time from `sinceMs` until every observer in `observers` reported `type` about `nodeId`. */
export function timeUntilAll (
  cluster: Cluster, observers: readonly string[], type: MembershipEvent['type'], nodeId: string, sinceMs: number
): number | null {
  let latestMs = -1
  for (const observer of observers) {
    const hit = cluster.observed.find((o) => o.observer === observer && o.atMs >= sinceMs &&
      o.event.type === type && o.event.nodeId === nodeId)
    if (hit === undefined) return null
    latestMs = Math.max(latestMs, hit.atMs)
  }
  return latestMs - sinceMs
}
