import type { Libp2p, Logger, PeerId, Stream } from '@libp2p/interface'
import { dialError } from '../dial-error.js'
import { countDropped } from './stats.js'
import type { DropReason, MessengerStats } from './stats.js'
import type { ResolvedMessengerOptions } from './options.js'

/** What a peer writer needs from its messenger; one context per `start()`. */
export interface OutboundContext {
  readonly libp2p: Libp2p
  readonly options: Omit<ResolvedMessengerOptions<unknown>, 'encode' | 'decode'>
  readonly stats: MessengerStats
  /** Bytes queued by every writer of this messenger together (bounded by `queueBytesGlobalMax`). */
  readonly queued: { bytes: number }
  readonly log: Logger
  /** Aborted by `stop()`: ends dials, writes and the writer loops. */
  readonly signal: AbortSignal
  unreachable: (peerId: string, reason: string) => void
  /** A stream was opened: the messenger tracks it until it closes, so `stop()` can abort it. */
  opened: (stream: Stream) => void
  /** The writer has nothing queued and nothing in flight (flush waiters re-check). */
  settled: () => void
  /** The writer is idle, has no stream and no back-off: the messenger may forget it. */
  disposable: (writer: PeerWriter) => void
}

function errorText (err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err)
}

/**
 * The sending side for one peer: a FIFO of encoded frames and ONE long-lived outbound stream that
 * carries them all, opened (after a dial if there is no connection) when the first frame is
 * queued, replaced after an error, and closed once idle. The peer reads frames on its inbound
 * streams and we only ever write here, so crossing streams (both peers sending) need no care.
 */
export class PeerWriter {
  readonly id: string
  private readonly frames: Uint8Array[] = []
  private queuedBytes = 0
  private stream: Stream | undefined
  private running = false
  private idleTimer: ReturnType<typeof setTimeout> | undefined
  /**
   * Back-off after a failure, as performance.now() deadlines (0: none). After a failed dial (or no
   * address to dial) nothing is tried while there is no connection, so a dead peer costs one
   * attempt per period; a connection the peer opens to us ends that wait early. After a failed
   * stream open on a live connection (the peer does not run the protocol) nothing is tried at all.
   */
  private dialBackoffUntilMs = 0
  private streamBackoffUntilMs = 0

  constructor (readonly peerId: PeerId, private readonly context: OutboundContext) {
    this.id = peerId.toString()
  }

  /** True while frames wait or one is being written: `flush` waits for this to turn false. */
  get busy (): boolean {
    return this.running || this.frames.length > 0
  }

  /** Queues one encoded frame, dropping the oldest beyond the limits, and wakes the writer. */
  enqueue (frame: Uint8Array): void {
    const { options, stats } = this.context
    if (this.backingOff()) {
      countDropped(stats, 'unreachable')
      return
    }
    const queued = this.context.queued
    while (this.frames.length > 0 && (this.frames.length >= options.queueFramesMax || this.queuedBytes + frame.byteLength > options.queueBytesMax ||
      queued.bytes + frame.byteLength > options.queueBytesGlobalMax)) {
      this.take()
      countDropped(stats, 'queueFull')
    }
    // Other peers' queues hold the global budget: this frame waits for none of it.
    if (queued.bytes + frame.byteLength > options.queueBytesGlobalMax) {
      countDropped(stats, 'queueFull')
      return
    }
    this.frames.push(frame)
    this.queuedBytes += frame.byteLength
    queued.bytes += frame.byteLength
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    if (!this.running) void this.run()
  }

  /** New addresses were learned: the next frame may dial again at once. */
  clearBackoff (): void {
    this.dialBackoffUntilMs = 0
  }

  /** Drops the queue and aborts the stream (messenger stopped). */
  abort (reason: Error): void {
    clearTimeout(this.idleTimer)
    this.idleTimer = undefined
    this.dropQueued('stopped')
    const stream = this.stream
    this.stream = undefined
    stream?.abort(reason)
  }

  /** Writes queued frames in order until the queue is empty; never throws. */
  private async run (): Promise<void> {
    this.running = true
    try {
      while (this.frames.length > 0 && !this.context.signal.aborted) {
        const stream = await this.writableStream()
        if (stream === undefined) break
        const frame = this.take()
        if (frame === undefined) break
        await this.write(stream, frame)
      }
    } catch (err) {
      // Only a bug gets here (every network failure is handled below); keep the process alive.
      this.context.log.error('writer to %s failed: %e', this.id, err)
      this.dropQueued('streamError')
    } finally {
      this.running = false
      if (this.context.signal.aborted) this.dropQueued('stopped')
      this.scheduleIdle()
      this.context.settled()
    }
  }

  private async write (stream: Stream, frame: Uint8Array): Promise<void> {
    const { stats, options } = this.context
    try {
      // send() false means the muxer's window is full: wait for drain, within the write budget.
      if (!stream.send(frame)) {
        await stream.onDrain({ signal: AbortSignal.any([this.context.signal, AbortSignal.timeout(options.writeTimeoutMs)]) })
      }
      stats.framesOut += 1
      stats.bytesOut += frame.byteLength
    } catch (err) {
      if (this.context.signal.aborted) {
        countDropped(stats, 'stopped')
        return
      }
      stats.streamErrors += 1
      countDropped(stats, 'streamError')
      this.context.log('stream to %s failed, the next frame opens another: %s', this.id, errorText(err))
      if (this.stream === stream) this.stream = undefined
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /** The current stream if it can still take frames, else a new one; undefined (queue dropped) if the peer cannot be reached. */
  private async writableStream (): Promise<Stream | undefined> {
    const current = this.stream
    if (current !== undefined && current.status === 'open' && current.writeStatus === 'writable') return current
    this.stream = undefined
    if (this.backingOff()) {
      this.dropQueued('unreachable')
      return undefined
    }
    const { libp2p, options, stats } = this.context
    if (!this.connected() && !(await this.hasAddress())) {
      this.dialBackoffUntilMs = performance.now() + options.redialBackoffMs
      this.dropQueued('noRoute')
      this.context.unreachable(this.id, 'no connection and no known address; add its addresses with addPeerAddresses')
      return undefined
    }
    const signal = AbortSignal.any([this.context.signal, AbortSignal.timeout(options.dialTimeoutMs)])
    let connection
    try {
      // Returns the open connection if there is one; otherwise dials the peer store's addresses.
      connection = await libp2p.dial(this.peerId, { signal })
    } catch (err) {
      if (this.context.signal.aborted) return undefined
      stats.dialFailures += 1
      this.dialBackoffUntilMs = performance.now() + options.redialBackoffMs
      return this.failed(dialError(this.id, err).message)
    }
    let stream: Stream
    try {
      stream = await connection.newStream(options.protocol, { signal, maxOutboundStreams: options.maxInboundStreams })
    } catch (err) {
      if (this.context.signal.aborted) return undefined
      stats.streamErrors += 1
      this.streamBackoffUntilMs = performance.now() + options.redialBackoffMs
      return this.failed(`cannot open a ${options.protocol} stream (${errorText(err)}); is the peer running the messenger?`)
    }
    if (this.context.signal.aborted) {
      stream.abort(new Error('messenger stopped'))
      return undefined
    }
    stats.streamsOpened += 1
    this.context.opened(stream)
    this.attach(stream)
    return stream
  }

  private failed (reason: string): undefined {
    this.dropQueued('unreachable')
    this.context.unreachable(this.id, reason)
    return undefined
  }

  private connected (): boolean {
    return this.context.libp2p.getConnections(this.peerId).some(connection => connection.status === 'open')
  }

  private backingOff (): boolean {
    const nowMs = performance.now()
    return nowMs < this.streamBackoffUntilMs || (nowMs < this.dialBackoffUntilMs && !this.connected())
  }

  private backoffEndMs (): number {
    return Math.max(this.dialBackoffUntilMs, this.streamBackoffUntilMs)
  }

  private async hasAddress (): Promise<boolean> {
    try {
      const peer = await this.context.libp2p.peerStore.get(this.peerId, { signal: this.context.signal })
      return peer.addresses.length > 0
    } catch {
      // NotFoundError: the peer store has never heard of this peer.
      return false
    }
  }

  private attach (stream: Stream): void {
    this.stream = stream
    // We never read here; consuming what a peer might write keeps it out of the stream's buffer.
    stream.addEventListener('message', () => {})
    stream.addEventListener('close', (event) => {
      if (this.stream !== stream) return
      this.stream = undefined
      if (event.error !== undefined) {
        this.context.stats.streamErrors += 1
        this.context.log('stream to %s closed by the peer: %s', this.id, errorText(event.error))
      }
    }, { once: true })
  }

  private dropQueued (reason: DropReason): void {
    if (this.frames.length > 0) countDropped(this.context.stats, reason, this.frames.length)
    this.frames.length = 0
    this.context.queued.bytes -= this.queuedBytes
    this.queuedBytes = 0
  }

  /** Takes the oldest queued frame off both byte counts. */
  private take (): Uint8Array | undefined {
    const frame = this.frames.shift()
    if (frame === undefined) return undefined
    this.queuedBytes -= frame.byteLength
    this.context.queued.bytes -= frame.byteLength
    return frame
  }

  /**
   * Once idle for `idleStreamTimeoutMs`, closes the stream (a half-close: the peer's reader sees
   * the end and closes its side), and offers this writer for disposal once any back-off is over.
   */
  private scheduleIdle (): void {
    clearTimeout(this.idleTimer)
    if (this.context.signal.aborted) return
    const delayMs = Math.max(this.context.options.idleStreamTimeoutMs, this.backoffEndMs() - performance.now())
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined
      if (this.busy) return
      const stream = this.stream
      this.stream = undefined
      if (stream !== undefined) void closeStream(stream, this.context.options.writeTimeoutMs)
      // Forgetting the writer would forget its back-off too: keep it until that is over.
      if (performance.now() < this.backoffEndMs()) {
        this.scheduleIdle()
        return
      }
      this.context.disposable(this)
    }, delayMs)
    this.idleTimer.unref()
  }
}

/**
 * Half-closes an outbound stream we are done with, then waits for the peer to close its end; a
 * peer that does neither within `timeoutMs` gets the stream aborted, so nothing stays half-open.
 */
export async function closeStream (stream: Stream, timeoutMs: number): Promise<void> {
  try {
    await stream.close({ signal: AbortSignal.timeout(timeoutMs) })
    if (stream.status === 'open' || stream.status === 'closing') {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`the peer did not close its end within ${timeoutMs} ms`)) }, timeoutMs)
        stream.addEventListener('close', () => {
          clearTimeout(timer)
          resolve()
        }, { once: true })
      })
    }
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}
