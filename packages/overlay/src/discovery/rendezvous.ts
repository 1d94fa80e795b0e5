/**
 * DHT rendezvous: how nodes on other subnets, out of mDNS reach, find each other. Every node
 * provides the current time slot's rendezvous CID in the private DHT and looks up the providers
 * of the current and previous slots' CIDs (the previous one so clocks that straddle a slot
 * boundary still meet). Each provider found is emitted as a `peer` event, for the PeerDialer.
 * Rounds run every interval (jittered) and at once when the DHT's routing table gets its first
 * peer. Failures (no DHT peers yet, timeouts) are the normal state of a lone node: they are
 * counted and logged, never thrown.
 */
import { TypedEventEmitter } from '@libp2p/interface'
import type { ComponentLogger, ContentRouting, Logger, PeerDiscoveryEvents, PeerId } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { RENDEZVOUS_SLOT_MS_DEFAULT, assert, rendezvousSlots } from '@p2p-bootstrap/core'
import { RENDEZVOUS_PROVIDERS_MAX } from '../limits.js'
import { rendezvousCid } from './rendezvous-cid.js'
import { jitteredMs, startDelayMs } from './query-schedule.js'

export interface RendezvousInit {
  /** The token-derived key of a slot (`deriveKeys(token).rendezvousKey`). */
  readonly rendezvousKey: (slot: number) => Uint8Array
  /** Base interval between rounds (jittered ±20 %). */
  readonly intervalMs: number
  /** Budget of one round: provide, then both lookups. */
  readonly timeoutMs: number
  /** Length of a slot; default the core's (one hour). Every node of a network must agree. */
  readonly slotMs?: number
  /** Wall-clock Unix time in ms; default Date.now. Slots are shared, so they need a shared clock. */
  readonly nowMs?: () => number
  /** Chance for jitter; default Math.random. */
  readonly random?: () => number
}

/** The part of the kad-dht routing table we watch: its size, and when a peer is added. */
export interface RoutingTableView {
  readonly size: number
  addEventListener: (type: 'peer:add', listener: () => void) => void
  removeEventListener: (type: 'peer:add', listener: () => void) => void
}

/** What the rendezvous uses from libp2p. */
export interface RendezvousComponents {
  readonly peerId: PeerId
  readonly contentRouting: Pick<ContentRouting, 'provide' | 'findProviders' | 'cancelReprovide'>
  /** Absent when the DHT does not expose one; rounds then only run on the interval. */
  readonly routingTable?: RoutingTableView
  readonly logger: ComponentLogger
}

/** Counters for tests and benchmarks. */
export interface RendezvousStats {
  readonly rounds: number
  /** Rounds skipped because the routing table was empty (nobody to ask). */
  readonly roundsWithoutPeers: number
  readonly provides: number
  readonly provideFailures: number
  readonly lookups: number
  readonly lookupFailures: number
  /** Providers other than this node emitted, counted once per round. */
  readonly providersFound: number
}

type Counters = { -readonly [Key in keyof RendezvousStats]: number }

function isRoutingTableView (value: unknown): value is RoutingTableView {
  return typeof value === 'object' && value !== null &&
    'size' in value && typeof value.size === 'number' &&
    'addEventListener' in value && typeof value.addEventListener === 'function' &&
    'removeEventListener' in value && typeof value.removeEventListener === 'function'
}

/**
 * The routing table of a kad-dht instance. kad-dht's `KadDHT` type does not promise one (its
 * implementation has it), so it is checked at run time; without it rounds only run on the interval.
 */
export function routingTableOf (dht: object | undefined): RoutingTableView | undefined {
  if (dht === undefined || !('routingTable' in dht)) return undefined
  return isRoutingTableView(dht.routingTable) ? dht.routingTable : undefined
}

function errorText (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

export class RendezvousDiscovery extends TypedEventEmitter<PeerDiscoveryEvents> {
  private readonly log: Logger
  private readonly random: () => number
  private readonly nowMs: () => number
  private readonly counters: Counters = {
    rounds: 0, roundsWithoutPeers: 0, provides: 0, provideFailures: 0, lookups: 0, lookupFailures: 0, providersFound: 0
  }

  private controller: AbortController | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private inFlight: Promise<void> | undefined
  private rerunRequested = false
  /** False until a round sees a DHT peer, and again after one sees none; the next peer:add runs a round. */
  private metRoutingPeer = false
  private provided: { readonly slot: number, readonly cid: CID } | undefined

  constructor (private readonly components: RendezvousComponents, private readonly init: RendezvousInit) {
    super()
    assert(init.intervalMs > 0 && init.timeoutMs > 0, 'rendezvous timings are positive')
    this.log = components.logger.forComponent('p2p-bootstrap:overlay:rendezvous')
    this.random = init.random ?? Math.random
    this.nowMs = init.nowMs ?? Date.now
  }

  /** Starts the rounds; idempotent. */
  start (): void {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    this.components.routingTable?.addEventListener('peer:add', this.onRoutingPeerAdded)
    // With a routing table to watch, its first peer starts the first useful round.
    const firstDelayMs = this.components.routingTable === undefined
      ? startDelayMs(this.random)
      : jitteredMs(this.init.intervalMs, this.random)
    this.timer = setTimeout(() => { this.runRound() }, firstDelayMs)
  }

  /** Stops the rounds and waits for the one in flight to give up; idempotent. */
  async stop (): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    this.controller = undefined
    this.components.routingTable?.removeEventListener('peer:add', this.onRoutingPeerAdded)
    clearTimeout(this.timer)
    this.timer = undefined
    controller.abort(new Error('rendezvous stopped'))
    await this.inFlight
    this.rerunRequested = false
    this.metRoutingPeer = false
    this.provided = undefined
  }

  stats (): RendezvousStats {
    return { ...this.counters }
  }

  private readonly onRoutingPeerAdded = (): void => {
    if (this.metRoutingPeer) return
    this.metRoutingPeer = true
    this.runRound()
  }

  /** Runs a round now, or right after the one in flight; then schedules the next. */
  private runRound (): void {
    if (this.controller === undefined) return
    if (this.inFlight !== undefined) {
      this.rerunRequested = true
      return
    }
    clearTimeout(this.timer)
    this.timer = undefined
    this.inFlight = this.round(this.controller.signal)
      .catch((err: unknown) => { this.log.error('rendezvous round failed - %s', errorText(err)) })
      .finally(() => {
        this.inFlight = undefined
        if (this.controller === undefined) return
        if (this.rerunRequested) {
          this.rerunRequested = false
          this.runRound()
          return
        }
        this.timer = setTimeout(() => { this.runRound() }, jitteredMs(this.init.intervalMs, this.random))
      })
  }

  private async round (stopSignal: AbortSignal): Promise<void> {
    this.counters.rounds++
    const table = this.components.routingTable
    if (table !== undefined && table.size === 0) {
      this.counters.roundsWithoutPeers++
      this.metRoutingPeer = false
      return
    }
    this.metRoutingPeer = true
    const signal = AbortSignal.any([stopSignal, AbortSignal.timeout(this.init.timeoutMs)])
    const { current, previous } = rendezvousSlots(this.nowMs(), this.init.slotMs ?? RENDEZVOUS_SLOT_MS_DEFAULT)
    const currentCid = rendezvousCid(this.init.rendezvousKey(current))
    await this.provide(current, currentCid, signal)
    const cids = current === previous ? [currentCid] : [currentCid, rendezvousCid(this.init.rendezvousKey(previous))]
    const seen = new Set<string>()
    for (const cid of cids) {
      if (signal.aborted) break
      await this.lookup(cid, seen, signal)
    }
  }

  private async provide (slot: number, cid: CID, signal: AbortSignal): Promise<void> {
    const previous = this.provided
    if (previous !== undefined && previous.slot !== slot) {
      // Records of a past slot need no republishing; they expire on their own.
      this.components.contentRouting.cancelReprovide(previous.cid, { signal })
        .catch((err: unknown) => { this.log('cancelling the reprovide of slot %d failed: %s', previous.slot, errorText(err)) })
    }
    try {
      await this.components.contentRouting.provide(cid, { signal })
      this.counters.provides++
      this.provided = { slot, cid }
    } catch (err) {
      this.counters.provideFailures++
      this.log('rendezvous provide failed (expected while the DHT has no peers): %s', errorText(err))
    }
  }

  /** Emits each provider of `cid` other than us and those already emitted this round, bounded. */
  private async lookup (cid: CID, seen: Set<string>, signal: AbortSignal): Promise<void> {
    this.counters.lookups++
    let taken = 0
    try {
      // libp2p's content routing has already merged each provider's addresses into the peer store.
      for await (const provider of this.components.contentRouting.findProviders(cid, { signal })) {
        const id = provider.id.toString()
        if (provider.id.equals(this.components.peerId) || seen.has(id)) continue
        seen.add(id)
        this.counters.providersFound++
        this.safeDispatchEvent('peer', { detail: { id: provider.id, multiaddrs: provider.multiaddrs } })
        taken++
        if (taken >= RENDEZVOUS_PROVIDERS_MAX) break
      }
    } catch (err) {
      this.counters.lookupFailures++
      this.log('rendezvous lookup failed (expected while the DHT has no peers): %s', errorText(err))
    }
  }
}
