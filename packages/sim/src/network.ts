import { assert, decodeWireMessage, encodeCanonical } from '@p2p-bootstrap/core'
import type { NodeId, Prng } from '@p2p-bootstrap/core'
import { decode } from 'cborg'
import type { Envelope, WireMessage } from './core-types.js'

/** Probabilities are integer ratios out of a thousand (300 ‰ is 30 % loss), never floats. */
export const PER_MILLE = 1_000

/** How messages become bytes and back; injected so a test can swap it and bytes are measured. */
export interface WireCodec {
  encode: (message: WireMessage) => Uint8Array
  decode: (bytes: Uint8Array) => WireMessage
}

/** The core's wire encoding: canonical CBOR out, cborg in. */
/** The real node's codec: strict decoding against every message schema, as a peer would do it. */
export const coreWireCodec: WireCodec = {
  encode: (message) => encodeCanonical(message),
  decode: (bytes) => decodeWireMessage(bytes)
}

/** A permissive codec for stand-in nodes (the strawman) whose messages are not the core's. */
export const cborCodec: WireCodec = {
  encode: (message) => encodeCanonical(message),
  decode: (bytes) => {
    const value: unknown = decode(bytes)
    assert(typeof value === 'object' && value !== null && typeof (value as { kind?: unknown }).kind === 'string',
      'a wire message decodes to an object with a kind')
    return value as WireMessage
  }
}

/** Every link behaves alike; a seed picks the numbers. */
export interface LinkSettings {
  /** Latency every message pays. */
  readonly latencyMsMin: number
  /** Uniform extra latency in [0, max]: differing delays reorder messages. */
  readonly latencyJitterMsMax: number
  /** Chance of a slow message (a retransmit, a busy host), per mille. */
  readonly tailPerMille: number
  /** Extra latency of a slow message, uniform in [0, max]. */
  readonly latencyTailMsMax: number
  readonly lossPerMille: number
  readonly duplicatePerMille: number
}

export const QUIET_LINKS: LinkSettings = {
  latencyMsMin: 1,
  latencyJitterMsMax: 4,
  tailPerMille: 10,
  latencyTailMsMax: 50,
  lossPerMille: 0,
  duplicatePerMille: 0
}

export type DropReason = 'loss' | 'partition' | 'overflow' | 'down'

/** A message on its way: bytes, not the sender's object, so the receiver cannot alias it. */
export interface Delivery {
  readonly atMs: number
  readonly from: NodeId
  readonly to: NodeId
  readonly kind: string
  readonly bytes: Uint8Array
  readonly duplicate: boolean
}

export interface SendOutcome {
  readonly deliveries: readonly Delivery[]
  readonly dropped: DropReason | null
}

/** What one node sent: the L1 cost figures. */
export interface TrafficCount {
  messagesSent: number
  bytesSent: number
}

/**
 * The simulated network: latency, loss, duplication, partitions, and a bound on messages in
 * flight. It decides each message's fate at send time from its own seeded generator; the runner
 * schedules the deliveries and asks `connected` again at delivery, since a partition may have
 * formed meanwhile.
 */
export class Network {
  private readonly traffic = new Map<NodeId, TrafficCount>()
  private readonly sent: TrafficCount = { messagesSent: 0, bytesSent: 0 }
  private groupOfNode: ReadonlyMap<NodeId, number> | null = null
  private cutLinks: ReadonlySet<string> = new Set()
  private inFlight = 0
  readonly dropped: Record<DropReason, number> = { loss: 0, partition: 0, overflow: 0, down: 0 }

  constructor (
    readonly links: LinkSettings,
    private readonly codec: WireCodec,
    private readonly prng: Prng,
    private readonly inFlightMax: number
  ) {
    assert(links.lossPerMille >= 0 && links.lossPerMille <= PER_MILLE, 'loss is a ratio')
    assert(links.duplicatePerMille >= 0 && links.duplicatePerMille <= PER_MILLE, 'duplication is a ratio')
    assert(links.latencyMsMin >= 0, 'latency is not negative')
  }

  /** Splits the nodes into groups that cannot talk to each other; nodes in no group are isolated. */
  partition (groups: readonly (readonly NodeId[])[]): void {
    const groupOfNode = new Map<NodeId, number>()
    groups.forEach((group, index) => {
      for (const nodeId of group) {
        assert(!groupOfNode.has(nodeId), 'a node is in one partition group')
        groupOfNode.set(nodeId, index)
      }
    })
    this.groupOfNode = groupOfNode
  }

  /** Cuts exactly these links, both ways, on top of any groups (a non-transitive partition); [] restores them. */
  cut (pairs: ReadonlyArray<readonly [NodeId, NodeId]>): void {
    this.cutLinks = new Set(pairs.flatMap(([a, b]) => [`${a}>${b}`, `${b}>${a}`]))
  }

  heal (): void {
    this.groupOfNode = null
    this.cutLinks = new Set()
  }

  get partitioned (): boolean {
    return this.groupOfNode !== null || this.cutLinks.size > 0
  }

  connected (source: NodeId, target: NodeId): boolean {
    if (this.cutLinks.size > 0 && this.cutLinks.has(`${source}>${target}`)) return false
    if (this.groupOfNode === null) return true
    const sourceGroup = this.groupOfNode.get(source)
    return sourceGroup !== undefined && sourceGroup === this.groupOfNode.get(target)
  }

  /**
   * `encodedInBatch`, when given, remembers the bytes of each message object within one batch of
   * sends (one `ready()`): a node that hands one object to many peers (a delta to its push
   * fan-out, an accept to every acceptor) has it encoded once. Nothing runs in the node between
   * those sends, so the object cannot change in between; every copy is still counted.
   */
  send (envelope: Envelope, simTimeMs: number, encodedInBatch?: Map<WireMessage, Uint8Array>): SendOutcome {
    let bytes = encodedInBatch?.get(envelope.message)
    if (bytes === undefined) {
      bytes = this.codec.encode(envelope.message)
      encodedInBatch?.set(envelope.message, bytes)
    }
    const count = this.trafficOf(envelope.from)
    count.messagesSent += 1
    count.bytesSent += bytes.byteLength
    this.sent.messagesSent += 1
    this.sent.bytesSent += bytes.byteLength
    if (!this.connected(envelope.from, envelope.to)) return this.drop('partition')
    if (this.prng.chance(this.links.lossPerMille, PER_MILLE)) return this.drop('loss')
    const copies = this.prng.chance(this.links.duplicatePerMille, PER_MILLE) ? 2 : 1
    const deliveries: Delivery[] = []
    for (let copy = 0; copy < copies; copy++) {
      if (this.inFlight >= this.inFlightMax) return { deliveries, dropped: this.countDrop('overflow') }
      this.inFlight += 1
      deliveries.push({
        atMs: simTimeMs + this.latencyMs(),
        from: envelope.from,
        to: envelope.to,
        kind: envelope.message.kind,
        bytes,
        duplicate: copy > 0
      })
    }
    return { deliveries, dropped: null }
  }

  /** The runner calls this once per delivery it pops, delivered or dropped. */
  landed (): void {
    assert(this.inFlight > 0, 'a landing message was in flight')
    this.inFlight -= 1
  }

  countDrop (reason: DropReason): DropReason {
    this.dropped[reason] += 1
    return reason
  }

  decode (bytes: Uint8Array): WireMessage {
    return this.codec.decode(bytes)
  }

  trafficOf (nodeId: NodeId): TrafficCount {
    let count = this.traffic.get(nodeId)
    if (count === undefined) {
      count = { messagesSent: 0, bytesSent: 0 }
      this.traffic.set(nodeId, count)
    }
    return count
  }

  /** What every node sent so far, together. */
  get totals (): Readonly<TrafficCount> {
    return { ...this.sent }
  }

  get messagesInFlight (): number {
    return this.inFlight
  }

  private drop (reason: DropReason): SendOutcome {
    return { deliveries: [], dropped: this.countDrop(reason) }
  }

  private latencyMs (): number {
    const { latencyMsMin, latencyJitterMsMax, tailPerMille, latencyTailMsMax } = this.links
    let latencyMs = latencyMsMin + this.prng.intInclusive(0, latencyJitterMsMax)
    if (this.prng.chance(tailPerMille, PER_MILLE)) latencyMs += this.prng.intInclusive(0, latencyTailMsMax)
    return latencyMs
  }
}
