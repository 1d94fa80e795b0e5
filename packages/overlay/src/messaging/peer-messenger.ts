import { TypedEventEmitter } from '@libp2p/interface'
import type { AbortOptions, Connection, EventHandler, Libp2p, Logger, PeerId, Stream } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { OverlayError } from '../errors.js'
import type { FrameRejection, FrameRejectionCode } from './errors.js'
import { encodeFrame } from './frame-codec.js'
import { readInboundStream } from './inbound.js'
import type { InboundContext } from './inbound.js'
import { PEER_WRITERS_MAX } from './limits.js'
import { resolveMessengerOptions } from './options.js'
import type { MessengerOptions, ResolvedMessengerOptions } from './options.js'
import { PeerWriter } from './outbound.js'
import type { OutboundContext } from './outbound.js'
import { checkPeerAddresses } from './peer-addresses.js'
import { copyStats, countDropped, emptyStats } from './stats.js'
import type { MessengerStats } from './stats.js'

export interface MessageDetail<Message> {
  /** The authenticated remote peer of the connection the frame came on (never a field of the frame). */
  readonly from: string
  readonly message: Message
}

export interface FrameRejectedDetail {
  readonly from: string
  readonly code: FrameRejectionCode
  readonly reason: string
}

export interface PeerUnreachableDetail {
  readonly peerId: string
  readonly reason: string
}

export interface MessengerEvents<Message> {
  /** A frame arrived and decoded. A listener that throws is caught and counted; reading goes on. */
  'message': CustomEvent<MessageDetail<Message>>
  /** A frame was refused (oversized, bad length, truncated, undecodable); its stream was aborted. */
  'frame:rejected': CustomEvent<FrameRejectedDetail>
  /** Frames to a peer were dropped because it could not be reached (no address, dial or stream failed). */
  'peer:unreachable': CustomEvent<PeerUnreachableDetail>
}

/** What `addPeerAddresses` did with the addresses it was given. */
export interface PeerAddressesResult {
  /** Addresses merged into the peer store (after removing duplicates). */
  readonly merged: number
  /** Addresses refused: malformed, not TCP, another peer's id, or beyond the per-call limit. */
  readonly skipped: number
}

/** The DOM's AddEventListenerOptions, which the ES library types do not declare. */
interface ListenerOptions extends EventListenerOptions {
  once?: boolean
  passive?: boolean
  signal?: AbortSignal
}

const LOG_COMPONENT = 'p2p-bootstrap:overlay:messaging'

/**
 * Delivers a node's messages to other peers over one stream protocol, and hands it theirs.
 *
 * Each message is encoded by the injected `encode` and sent as one length-prefixed frame on a
 * single long-lived outbound stream per peer (FIFO, opened after a dial if there is no
 * connection); received frames are decoded by `decode` and emitted as 'message' events whose
 * `from` is the connection's authenticated remote peer. Delivery is best effort: `send` never
 * throws for the network's reasons, and what cannot leave is dropped and counted, because the
 * protocols above (SWIM, ledger anti-entropy, consensus retries) already tolerate loss. Frames
 * from peers are bounded by `maxFrameBytes`; a bad one aborts its stream, never the connection.
 */
export class PeerMessenger<Message> extends TypedEventEmitter<MessengerEvents<Message>> {
  readonly protocol: string
  private readonly options: ResolvedMessengerOptions<Message>
  private readonly counters = emptyStats()
  /** Bytes queued for every peer together; writers add and take, the global bound reads it. */
  private readonly queued = { bytes: 0 }
  private readonly log: Logger
  private readonly writers = new Map<string, PeerWriter>()
  /** Every stream of the protocol we hold, inbound and outbound, so `stop()` can abort them all. */
  private readonly streams = new Set<Stream>()
  private readonly flushChecks = new Set<() => void>()
  private readonly guards = new WeakMap<object, (event: Event) => void>()
  /** Set while started; aborted by `stop()`. */
  private controller: AbortController | undefined
  private outbound: OutboundContext | undefined
  private inbound: InboundContext<Message> | undefined

  constructor (private readonly libp2p: Libp2p, options: MessengerOptions<Message>) {
    super()
    this.options = resolveMessengerOptions(options)
    this.protocol = this.options.protocol
    this.log = libp2p.logger.forComponent(LOG_COMPONENT)
  }

  get isStarted (): boolean {
    return this.controller !== undefined
  }

  /**
   * Registers the protocol handler; idempotent. The handler and the send path are in place when
   * this returns its promise (libp2p registers synchronously; only its peer store update is
   * awaited), so `send` works at once. Rejects with `OVERLAY_BAD_OPTION` if the protocol is
   * already handled on this node.
   */
  async start (): Promise<void> {
    if (this.controller !== undefined) return
    const controller = new AbortController()
    this.controller = controller
    this.outbound = this.outboundContext(controller.signal)
    this.inbound = this.inboundContext(controller.signal)
    try {
      await this.libp2p.handle(this.protocol, (stream, connection) => { this.accept(stream, connection) }, {
        maxInboundStreams: this.options.maxInboundStreams,
        maxOutboundStreams: this.options.maxInboundStreams
      })
    } catch (err) {
      // The handler was not registered: undo the start, so a later start() can try again.
      if (this.controller === controller) this.teardown(controller)
      throw new OverlayError('OVERLAY_BAD_OPTION',
        `messenger option protocol: libp2p refused to handle ${this.protocol} (${err instanceof Error ? err.message : String(err)}); each protocol takes one messenger per node: stop the other one or use another protocol`,
        { cause: err })
    }
  }

  /**
   * Unregisters the handler, aborts every stream of the protocol and drops every queue (counted as
   * 'stopped'); idempotent. Everything but the peer store update is done before the first await.
   */
  async stop (): Promise<void> {
    const controller = this.controller
    if (controller === undefined) return
    this.teardown(controller)
    try {
      await this.libp2p.unhandle(this.protocol)
    } catch (err) {
      // libp2p may already be stopped; its registrar is gone with it, which is what we wanted.
      this.log('unhandle %s failed: %e', this.protocol, err)
    }
  }

  /**
   * Queues `message` for `to` (a peer id) and returns at once. Never throws for the network's
   * reasons: a frame that cannot leave (no route, unreachable, queue full, too large, stopped) is
   * dropped and counted in `stats()`. A throw from `encode` is our bug and does reach the caller.
   */
  send (to: string, message: Message): void {
    const context = this.outbound
    if (context === undefined) {
      countDropped(this.counters, 'stopped')
      return
    }
    const payload = this.options.encode(message)
    if (payload.byteLength > this.options.maxFrameBytes) {
      countDropped(this.counters, 'oversized')
      this.log.error('refused a %d-byte frame to %s: above the limit of %d bytes', payload.byteLength, to, this.options.maxFrameBytes)
      return
    }
    this.writerFor(to, context)?.enqueue(encodeFrame(payload))
  }

  /**
   * Adds addresses learned for a peer (from the ledger, say) to libp2p's peer store, so a later
   * `send` can dial it. Each address must be TCP, optionally ending in `/p2p/<that peer id>`;
   * others are skipped and counted, never thrown: they come from the network. Our own id is ignored.
   */
  async addPeerAddresses (peerId: string, addresses: readonly string[], options: AbortOptions = {}): Promise<PeerAddressesResult> {
    const values: readonly unknown[] = Array.isArray(addresses) ? addresses : []
    const id = parsePeerId(peerId)
    if (id === undefined) {
      this.counters.addressesSkipped += values.length
      return { merged: 0, skipped: values.length }
    }
    if (id.equals(this.libp2p.peerId)) return { merged: 0, skipped: 0 }
    const checked = checkPeerAddresses(id.toString(), values)
    this.counters.addressesSkipped += checked.skipped
    if (checked.addresses.length > 0) {
      await this.libp2p.peerStore.merge(id, { multiaddrs: [...checked.addresses] }, options)
      // A peer that failed may answer on the new addresses: let the next frame try at once.
      this.writers.get(id.toString())?.clearBackoff()
    }
    return { merged: checked.addresses.length, skipped: checked.skipped }
  }

  /**
   * Resolves once every queue is empty and every frame taken from one has been handed to its
   * stream (or dropped), e.g. before a clean exit so the last messages leave. Rejects with the
   * signal's reason if it aborts first.
   */
  async flush (options: AbortOptions = {}): Promise<void> {
    const signal = options.signal
    signal?.throwIfAborted()
    if (this.isFlushed()) return
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.flushChecks.delete(check)
        reject(signal?.reason)
      }
      const check = (): void => {
        if (!this.isFlushed()) return
        this.flushChecks.delete(check)
        signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      this.flushChecks.add(check)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** A copy of the counters since construction. */
  stats (): MessengerStats {
    return copyStats(this.counters)
  }

  /** Bytes waiting to be written to all peers together (at most `queueBytesGlobalMax`). */
  queuedBytes (): number {
    return this.queued.bytes
  }

  /** Listeners are guarded: one that throws is caught and counted, so it cannot kill a reader or the process. */
  override addEventListener<K extends keyof MessengerEvents<Message>> (
    type: K,
    listener: EventHandler<MessengerEvents<Message>[K]> | null,
    options?: boolean | ListenerOptions
  ): void {
    if (listener === null) return
    super.addEventListener(type, this.guard(listener), options)
  }

  override removeEventListener<K extends keyof MessengerEvents<Message>> (
    type: K,
    listener?: EventHandler<MessengerEvents<Message>[K]> | null,
    options?: boolean | EventListenerOptions
  ): void {
    const guard = listener === null || listener === undefined ? undefined : this.guards.get(listener)
    super.removeEventListener(type, guard ?? listener, options)
  }

  private guard<E extends Event> (listener: EventHandler<E>): (event: Event) => void {
    const existing = this.guards.get(listener)
    if (existing !== undefined) return existing
    const guard = (event: Event): void => {
      try {
        if (typeof listener === 'function') {
          listener(event as E)
        } else {
          listener.handleEvent(event as E)
        }
      } catch (err) {
        this.counters.listenerErrors += 1
        this.log.error('a %s listener threw: %e', event.type, err)
      }
    }
    this.guards.set(listener, guard)
    return guard
  }

  private teardown (controller: AbortController): void {
    this.controller = undefined
    this.outbound = undefined
    this.inbound = undefined
    const reason = new Error('messenger stopped')
    controller.abort(reason)
    for (const writer of this.writers.values()) writer.abort(reason)
    this.writers.clear()
    for (const stream of this.streams) stream.abort(reason)
    this.streams.clear()
    this.settled()
  }

  private accept (stream: Stream, connection: Connection): void {
    const context = this.inbound
    if (context === undefined) {
      stream.abort(new Error('messenger stopped'))
      return
    }
    this.counters.streamsAccepted += 1
    this.track(stream)
    readInboundStream(stream, connection.remotePeer.toString(), context).catch((err: unknown) => {
      this.log.error('inbound reader failed: %e', err)
    })
  }

  private track (stream: Stream): void {
    this.streams.add(stream)
    stream.addEventListener('close', () => { this.streams.delete(stream) }, { once: true })
  }

  /** The writer for `to`, made on first use; undefined (frame dropped and counted) if `to` cannot be one. */
  private writerFor (to: string, context: OutboundContext): PeerWriter | undefined {
    const known = this.writers.get(to)
    if (known !== undefined) return known
    const peerId = parsePeerId(to)
    if (peerId === undefined || peerId.equals(this.libp2p.peerId)) {
      countDropped(this.counters, 'badPeer')
      return undefined
    }
    const id = peerId.toString()
    const canonical = this.writers.get(id)
    if (canonical !== undefined) return canonical
    if (this.writers.size >= PEER_WRITERS_MAX) {
      countDropped(this.counters, 'tooManyPeers')
      return undefined
    }
    const writer = new PeerWriter(peerId, context)
    this.writers.set(id, writer)
    return writer
  }

  private isFlushed (): boolean {
    for (const writer of this.writers.values()) {
      if (writer.busy) return false
    }
    return true
  }

  private settled (): void {
    for (const check of [...this.flushChecks]) check()
  }

  private outboundContext (signal: AbortSignal): OutboundContext {
    return {
      libp2p: this.libp2p,
      options: this.options,
      stats: this.counters,
      queued: this.queued,
      log: this.log,
      signal,
      unreachable: (peerId, reason) => {
        this.log('peer %s unreachable: %s', peerId, reason)
        this.safeDispatchEvent('peer:unreachable', { detail: { peerId, reason } })
      },
      opened: (stream) => { this.track(stream) },
      settled: () => { this.settled() },
      disposable: (writer) => {
        if (this.writers.get(writer.id) === writer && !writer.busy) this.writers.delete(writer.id)
      }
    }
  }

  private inboundContext (signal: AbortSignal): InboundContext<Message> {
    return {
      maxFrameBytes: this.options.maxFrameBytes,
      idleStreamTimeoutMs: this.options.idleStreamTimeoutMs,
      closeTimeoutMs: this.options.writeTimeoutMs,
      decode: this.options.decode,
      stats: this.counters,
      log: this.log,
      signal,
      deliver: (from, message) => {
        this.safeDispatchEvent('message', { detail: { from, message } })
      },
      reject: (from: string, rejection: FrameRejection) => {
        this.counters.framesRejected += 1
        this.log('rejected a frame from %s: %s', from, rejection.message)
        this.safeDispatchEvent('frame:rejected', { detail: { from, code: rejection.code, reason: rejection.message } })
      }
    }
  }
}

function parsePeerId (text: unknown): PeerId | undefined {
  if (typeof text !== 'string') return undefined
  try {
    return peerIdFromString(text)
  } catch {
    return undefined
  }
}
