/**
 * mDNS peer discovery that stays quiet once the LAN is known. Compared with a fixed-interval
 * querier where every node answers every query (O(N²) packets per interval):
 * - the query interval backs off (doubling to a maximum) while the node has connections, and
 *   goes back to the initial interval when it has none;
 * - a node that hears another node's query for the tag skips its own next query (duplicate
 *   question suppression, RFC 6762 §7.3): the answers are multicast, so it hears them too, and a
 *   settled LAN sends about one query per interval in all;
 * - answers are coalesced to one per node per `MDNS_ANSWER_INTERVAL_MS` (see AnswerLimiter);
 * - a node announces itself once at start (an unsolicited answer), so the others learn of it
 *   without waiting for their next query.
 * It is a libp2p service: libp2p finds it by `peerDiscoverySymbol`, starts and stops it, and puts
 * each peer it emits into the peer store (which raises `peer:discovery`).
 */
import multicastDns from 'multicast-dns'
import { TypedEventEmitter, peerDiscoverySymbol, serviceCapabilities } from '@libp2p/interface'
import type {
  ComponentLogger, Connection, Libp2pEvents, Logger, PeerDiscovery, PeerDiscoveryEvents, PeerId, PeerInfo,
  Startable, TypedEventTarget
} from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { assert } from '@p2p-bootstrap/core'
import { DNS_LABEL_BYTES_MAX, KNOWN_PEERS_MAX, MDNS_ANSWER_INTERVAL_MS, MDNS_OWN_QUERY_IDS_MAX } from '../limits.js'
import { AnswerLimiter } from './answer-limiter.js'
import { advertisedAddresses, answerPacket, isQueryFor, parseAnswer, queryPacket } from './mdns-records.js'
import { jitteredMs, nextQueryDelayMs, startDelayMs } from './query-schedule.js'

const MDNS_PORT = 5353
const MDNS_GROUP_IPV4 = '224.0.0.251'
/** Largest DNS message id; ours are 1..this, so a query with id 0 is never mistaken for ours. */
const QUERY_ID_MAX = 0xffff

export interface MdnsDiscoveryInit {
  /** `_<token-derived name>._udp.local` (see `mdnsServiceTag`). */
  readonly serviceTag: string
  /** Interval after the first query and whenever the node has no connection. */
  readonly queryIntervalInitialMs: number
  /** The interval doubles up to this while the node has connections. */
  readonly queryIntervalMaxMs: number
  /** UDP port; default 5353 (tests of the wire format may use another). */
  readonly port?: number
  /** Multicast group; default 224.0.0.251. */
  readonly group?: string
  /** Chance for jitter and query ids; default Math.random. */
  readonly random?: () => number
}

/** What the service uses from libp2p, and nothing else. */
export interface MdnsDiscoveryComponents {
  readonly peerId: PeerId
  readonly addressManager: { getAddresses: () => Multiaddr[] }
  readonly connectionManager: { getConnections: () => Connection[] }
  readonly events: TypedEventTarget<Libp2pEvents>
  readonly logger: ComponentLogger
}

/** Counters for tests and benchmarks, and the current query interval. */
export interface MdnsDiscoveryStats {
  readonly queriesSent: number
  /** Our queries skipped because another node asked the same question first. */
  readonly queriesSuppressed: number
  /** Answers sent, the start-up announcement included. */
  readonly answersSent: number
  /** Queries for our tag served by an answer already sent or scheduled in the window. */
  readonly queriesCoalesced: number
  /** Peers handed to libp2p (new, changed, or not reported for a maximum interval). */
  readonly peersFound: number
  /** Packets about other services or other tokens. */
  readonly packetsForeign: number
  /** Packets about our tag that broke a rule of the format or a bound. */
  readonly packetsMalformed: number
  /** Undecodable packets and socket warnings reported by multicast-dns. */
  readonly warnings: number
  /** The base of the current interval between queries (before jitter); 0 before the first. */
  readonly queryIntervalMs: number
  /** True while a coalesced answer waits for the end of its window. */
  readonly answerPending: boolean
}

type Counters = { -readonly [Key in keyof Omit<MdnsDiscoveryStats, 'queryIntervalMs' | 'answerPending'>]: number }

export class MdnsDiscovery extends TypedEventEmitter<PeerDiscoveryEvents> implements PeerDiscovery, Startable {
  readonly [peerDiscoverySymbol] = this
  readonly [Symbol.toStringTag] = 'p2p-bootstrap:mdns'
  readonly [serviceCapabilities]: string[] = ['@libp2p/peer-discovery']

  private readonly log: Logger
  private readonly random: () => number
  private readonly limiter = new AnswerLimiter(MDNS_ANSWER_INTERVAL_MS)
  private readonly ownQueryIds: number[] = []
  /** Peers reported, oldest first, so an unchanged answer is not re-merged into the peer store. */
  private readonly reported = new Map<string, { readonly addressesKey: string, readonly atMs: number }>()
  private readonly counters: Counters = {
    queriesSent: 0, queriesSuppressed: 0, answersSent: 0, queriesCoalesced: 0, peersFound: 0,
    packetsForeign: 0, packetsMalformed: 0, warnings: 0
  }

  private socket: multicastDns.MulticastDNS | undefined
  private queryTimer: ReturnType<typeof setTimeout> | undefined
  private answerTimer: ReturnType<typeof setTimeout> | undefined
  /** Base interval of the last scheduled query; undefined until the start-up query is sent. */
  private intervalMs: number | undefined

  constructor (private readonly components: MdnsDiscoveryComponents, private readonly init: MdnsDiscoveryInit) {
    super()
    assert(init.queryIntervalInitialMs > 0, 'the initial mDNS interval is positive')
    assert(init.queryIntervalMaxMs >= init.queryIntervalInitialMs, 'the mDNS interval can only grow')
    assert(components.peerId.toString().length <= DNS_LABEL_BYTES_MAX, 'the peer id fits one DNS label')
    this.log = components.logger.forComponent('p2p-bootstrap:overlay:mdns')
    this.random = init.random ?? Math.random
  }

  isStarted (): boolean {
    return this.socket !== undefined
  }

  /** Opens the socket; queries start in afterStart, once our listen addresses exist. */
  start (): void {
    if (this.socket !== undefined) return
    const socket = multicastDns({ port: this.init.port ?? MDNS_PORT, ip: this.init.group ?? MDNS_GROUP_IPV4 })
    socket.on('query', (packet: { id?: unknown, questions?: unknown }) => { this.guard(() => { this.onQuery(packet) }) })
    socket.on('response', (packet: { answers?: unknown, additionals?: unknown }) => { this.guard(() => { this.onResponse(packet) }) })
    // Undecodable packets arrive here; they are counted, never thrown.
    socket.on('warning', (err: Error) => {
      this.counters.warnings++
      this.log('mdns warning: %s', err.message)
    })
    // Without a listener an 'error' (port taken, no permission) would crash the process.
    socket.on('error', (err: Error) => { this.log.error('mdns socket error, discovery by mDNS is off: %e', err) })
    this.socket = socket
    this.components.events.addEventListener('peer:disconnect', this.onPeerDisconnect)
  }

  afterStart (): void {
    if (this.socket === undefined || this.queryTimer !== undefined) return
    this.queryTimer = setTimeout(() => {
      this.announce()
      this.sendQuery()
    }, startDelayMs(this.random))
  }

  async stop (): Promise<void> {
    const socket = this.socket
    if (socket === undefined) return
    this.socket = undefined
    this.components.events.removeEventListener('peer:disconnect', this.onPeerDisconnect)
    clearTimeout(this.queryTimer)
    clearTimeout(this.answerTimer)
    this.queryTimer = undefined
    this.answerTimer = undefined
    this.intervalMs = undefined
    this.limiter.cancel()
    this.reported.clear()
    await new Promise<void>(resolve => { socket.destroy(resolve) })
  }

  stats (): MdnsDiscoveryStats {
    return { ...this.counters, queryIntervalMs: this.intervalMs ?? 0, answerPending: this.limiter.isPending }
  }

  /** Runs a socket handler; nothing a packet does may throw out of the socket's event. */
  private guard (handle: () => void): void {
    try {
      handle()
    } catch (err) {
      this.counters.packetsMalformed++
      this.log.error('mdns packet handler failed - %e', err)
    }
  }

  private hasPeers (): boolean {
    return this.components.connectionManager.getConnections().length > 0
  }

  private sendQuery (): void {
    const socket = this.socket
    if (socket === undefined) return
    const id = 1 + Math.floor(this.random() * QUERY_ID_MAX)
    this.ownQueryIds.push(id)
    if (this.ownQueryIds.length > MDNS_OWN_QUERY_IDS_MAX) this.ownQueryIds.shift()
    socket.query(queryPacket(this.init.serviceTag, id), (err) => { this.sent('query', err) })
    this.counters.queriesSent++
    this.scheduleNextQuery()
  }

  private scheduleNextQuery (): void {
    const schedule = { initialMs: this.init.queryIntervalInitialMs, maxMs: this.init.queryIntervalMaxMs }
    const next = nextQueryDelayMs(this.intervalMs, this.hasPeers(), schedule, this.random)
    this.intervalMs = next.intervalMs
    clearTimeout(this.queryTimer)
    this.queryTimer = setTimeout(() => { this.sendQuery() }, next.delayMs)
  }

  /** A node cut off from every peer queries again at the initial interval, not after the long one. */
  private readonly onPeerDisconnect = (): void => {
    if (this.socket === undefined || this.intervalMs === undefined) return
    if (this.intervalMs <= this.init.queryIntervalInitialMs || this.hasPeers()) return
    this.intervalMs = this.init.queryIntervalInitialMs
    clearTimeout(this.queryTimer)
    this.queryTimer = setTimeout(() => { this.sendQuery() }, jitteredMs(this.intervalMs, this.random))
  }

  private onQuery (packet: { id?: unknown, questions?: unknown }): void {
    if (!isQueryFor(packet, this.init.serviceTag)) {
      this.counters.packetsForeign++
      return
    }
    // Our own query, looped back by multicast: we neither answer it nor let it suppress us.
    if (typeof packet.id === 'number' && this.ownQueryIds.includes(packet.id)) return
    if (this.intervalMs !== undefined) {
      // Its answers reach us too, so our own next query would only repeat it.
      this.counters.queriesSuppressed++
      this.scheduleNextQuery()
    }
    const waitMs = this.limiter.onQuery(performance.now())
    if (waitMs === 0) {
      this.answer()
      return
    }
    this.counters.queriesCoalesced++
    if (waitMs !== undefined) {
      this.answerTimer = setTimeout(() => {
        this.answerTimer = undefined
        this.answer()
      }, waitMs)
    }
  }

  /** The start-up announcement: an answer nobody asked for, so peers learn of us at once. */
  private announce (): void {
    this.answer()
  }

  private answer (): void {
    const socket = this.socket
    if (socket === undefined) return
    const ownId = this.components.peerId.toString()
    const addresses = advertisedAddresses(this.components.addressManager.getAddresses(), ownId)
    if (addresses.length === 0) {
      // Not listening yet: nothing to say; the next query is answered as usual.
      this.limiter.cancel()
      return
    }
    socket.respond(answerPacket(this.init.serviceTag, ownId, addresses), (err) => { this.sent('answer', err) })
    this.counters.answersSent++
    this.limiter.answered(performance.now())
  }

  private sent (what: string, err: Error | null): void {
    // No multicast route fails every send; discovery by mDNS is then silent (see LIBP2P-NOTES).
    if (err !== null) this.log('mdns %s not sent: %s', what, err.message)
  }

  private onResponse (packet: { answers?: unknown, additionals?: unknown }): void {
    const parsed = parseAnswer(packet, this.init.serviceTag)
    if (parsed.kind === 'foreign') {
      this.counters.packetsForeign++
      return
    }
    if (parsed.kind === 'malformed') {
      this.counters.packetsMalformed++
      this.log('ignored a malformed mDNS answer: %s', parsed.reason)
      return
    }
    // Our own answer, looped back by multicast.
    if (parsed.peer.id.equals(this.components.peerId)) return
    if (!this.isNewOrChanged(parsed.peer)) return
    this.counters.peersFound++
    this.safeDispatchEvent('peer', { detail: parsed.peer })
  }

  /**
   * True if the peer was not reported, its addresses changed, or its report is older than the
   * maximum interval (the peer store may have dropped it since). Remembers the report, bounded.
   */
  private isNewOrChanged (peer: PeerInfo): boolean {
    const id = peer.id.toString()
    const addressesKey = peer.multiaddrs.map(address => address.toString()).sort().join(' ')
    const nowMs = performance.now()
    const previous = this.reported.get(id)
    if (previous !== undefined && previous.addressesKey === addressesKey && nowMs - previous.atMs < this.init.queryIntervalMaxMs) {
      return false
    }
    this.reported.delete(id)
    if (this.reported.size >= KNOWN_PEERS_MAX) {
      const oldest = this.reported.keys().next()
      if (oldest.done !== true) this.reported.delete(oldest.value)
    }
    this.reported.set(id, { addressesKey, atMs: nowMs })
    return true
  }
}

/** The libp2p service factory: `services: { mdns: mdnsDiscovery({ serviceTag, ... }) }`. */
export function mdnsDiscovery (init: MdnsDiscoveryInit): (components: MdnsDiscoveryComponents) => MdnsDiscovery {
  return (components) => new MdnsDiscovery(components, init)
}
