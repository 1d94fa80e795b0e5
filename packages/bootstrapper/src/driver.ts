import type { CoreEvent, CoreNode, Envelope, PersistBatch } from '@p2p-bootstrap/core'

/**
 * The two clocks a node runs on (the core contract's `nowMs` and `wallMs`). Injectable, so a test
 * can step the wall clock or freeze time without touching the machine's.
 */
export interface DriverClock {
  /** Whole milliseconds that never go back and do not follow wall-clock steps: timers, windows, the fail-over delay (S7). */
  monotonicMs: () => number
  /** Whole milliseconds of wall time (HLC stamps compare across nodes); NTP may step it either way. */
  wallMs: () => number
}

/** The machine's clocks: `performance.now()` (monotonic since the process started) and `Date.now()`. */
export function systemClock (): DriverClock {
  return {
    monotonicMs: () => Math.floor(performance.now()),
    wallMs: () => Date.now()
  }
}

/**
 * A tick this much later than its interval means our own event loop was frozen (a busy CPU at
 * boot, k3s starting, a long GC): the node is told before the late tick runs, so it does not hold
 * its own lateness against its peers (Lifeguard). Below it, timer jitter is not worth a word: it
 * is far inside the 500-ms probe timeout.
 */
export const STALL_GAP_MS = 100

/** Where the driver puts what the node wants done. */
export interface DriverPorts {
  /** Durable append; must resolve only once the batch is on disk (fsync when `sync`). */
  persist: (batch: PersistBatch) => Promise<void>
  /** Hands messages to the network; must not block. */
  send: (envelopes: readonly Envelope[]) => void
  /** Core events for the application, after their cause is on disk. */
  events: (events: readonly CoreEvent[]) => void
  /** A persist failed: the driver has stopped and nothing after the failure was sent. */
  fatal: (error: unknown) => void
  /** The two clocks; `systemClock()` in production. */
  clock: DriverClock
  /** Our own event loop was frozen this long (a late tick); for the log. Optional. */
  stalled?: (frozenMs: number) => void
}

/** One input, applied at the monotonic `nowMs`; `wallMs` is for the node's HLC only. */
type Input = (nowMs: number, wallMs: number) => void

/**
 * Peer messages waiting for the node, all peers together and per peer. The network delivers while
 * a persist is in flight (an fsync can take a while), so without a bound a flood would queue at
 * network speed; past it new messages are dropped, which every protocol above tolerates (SWIM
 * probes again, anti-entropy repairs, a ballot is retried). Per peer, so one peer's flood leaves
 * room for the others.
 */
export interface DriverLimits {
  readonly stepsWaitingMax: number
  readonly stepsWaitingPerPeerMax: number
}

export const DRIVER_LIMITS_DEFAULT: DriverLimits = { stepsWaitingMax: 1024, stepsWaitingPerPeerMax: 128 }

/**
 * Runs a core node against real time: inputs are applied in arrival order, and after each run of
 * inputs the node's output is persisted, then sent, then announced (the S6 order), then
 * acknowledged. Inputs that arrive while a persist is in flight wait in the inbox, so no input
 * ever lands between `ready()` and `advance()`.
 */
export class NodeDriver<Node extends CoreNode = CoreNode> {
  readonly node: Node
  private readonly ports: DriverPorts
  private readonly tickIntervalMs: number
  private inbox: Input[] = []
  private pumping = false
  private stopped = false
  private timer: ReturnType<typeof setInterval> | undefined
  /** Monotonic time of the last tick, to see our own stalls. */
  private lastTickMs: number | undefined
  /** Inputs taken, and inputs whose output is persisted and sent: `settled()` waits on the second. */
  private taken = 0
  private finished = 0
  private settleWaiters: Array<{ readonly upTo: number, readonly resolve: () => void }> = []
  private readonly stepsWaitingByPeer = new Map<string, number>()
  private stepsWaiting = 0
  /** Peer messages dropped because too many already waited (see `DriverLimits`). */
  stepsDropped = 0

  constructor (node: Node, ports: DriverPorts, tickIntervalMs: number, private readonly limits: DriverLimits = DRIVER_LIMITS_DEFAULT) {
    this.node = node
    this.ports = ports
    this.tickIntervalMs = tickIntervalMs
  }

  /** Flushes what construction produced (boot record, facts), then ticks on an interval. */
  start (): void {
    if (this.timer !== undefined || this.stopped) return
    this.timer = setInterval(() => { this.tick() }, this.tickIntervalMs)
    this.timer.unref?.()
    // An empty input: its round flushes what construction produced, and settled() waits for it.
    this.input(() => {})
  }

  /** No more inputs are taken; an in-flight persist completes (and its output is sent). */
  stop (): void {
    this.stopped = true
    clearInterval(this.timer)
    this.timer = undefined
    this.inbox = []
    this.stepsWaitingByPeer.clear()
    this.stepsWaiting = 0
    // Nothing queued will run; an in-flight round releases the waiters when its persist is done.
    if (!this.pumping) this.releaseWaiters(Number.POSITIVE_INFINITY)
  }

  get running (): boolean {
    return !this.stopped
  }

  tick (): void {
    const tickMs = this.ports.clock.monotonicMs()
    const frozenMs = this.lastTickMs === undefined ? 0 : tickMs - this.lastTickMs - this.tickIntervalMs
    this.lastTickMs = tickMs
    if (frozenMs >= STALL_GAP_MS && this.node.resumed !== undefined) {
      // First, before the late tick and the messages that queued meanwhile (Lifeguard).
      const resumed = this.node.resumed.bind(this.node)
      this.input((nowMs) => { resumed(frozenMs, nowMs) })
      this.ports.stalled?.(frozenMs)
    }
    this.input((nowMs, wallMs) => { this.node.tick(nowMs, wallMs) })
  }

  /** Queues a peer's message for the node; false (dropped, counted) when too many already wait. */
  step (envelope: Envelope): boolean {
    if (this.stopped) return false
    const from = envelope.from
    const fromPeer = this.stepsWaitingByPeer.get(from) ?? 0
    if (this.stepsWaiting >= this.limits.stepsWaitingMax || fromPeer >= this.limits.stepsWaitingPerPeerMax) {
      this.stepsDropped++
      return false
    }
    this.stepsWaitingByPeer.set(from, fromPeer + 1)
    this.stepsWaiting++
    this.input((nowMs, wallMs) => {
      this.stepTaken(from)
      this.node.step(envelope, nowMs, wallMs)
    })
    return true
  }

  private stepTaken (from: string): void {
    const waiting = this.stepsWaitingByPeer.get(from) ?? 0
    if (waiting <= 1) this.stepsWaitingByPeer.delete(from)
    else this.stepsWaitingByPeer.set(from, waiting - 1)
    this.stepsWaiting = Math.max(0, this.stepsWaiting - 1)
  }

  discover (peer: string): void {
    this.input((nowMs, wallMs) => { this.node.discover(peer, nowMs, wallMs) })
  }

  /** Any other change of the node's state (a publish), applied in order with the rest. */
  input (apply: Input): void {
    if (this.stopped) return
    this.inbox.push(apply)
    this.taken++
    this.schedule()
  }

  /**
   * Resolves once every input taken so far has been applied and its output persisted and sent
   * (or the driver stopped). Inputs that arrive later do not delay it: on a busy node the inbox is
   * rarely empty, and a caller waiting for its own write must not wait for the node to fall idle.
   */
  async settled (): Promise<void> {
    const upTo = this.taken
    if (this.finished >= upTo || (this.stopped && !this.pumping)) return
    await new Promise<void>((resolve) => { this.settleWaiters.push({ upTo, resolve }) })
  }

  private schedule (): void {
    if (this.pumping) return
    this.pumping = true
    // A microtask later, so inputs arriving in one burst share one persist.
    queueMicrotask(() => { void this.pump() })
  }

  private async pump (): Promise<void> {
    try {
      while (!this.stopped) {
        const inputs = this.inbox
        this.inbox = []
        const nowMs = this.ports.clock.monotonicMs()
        const wallMs = this.ports.clock.wallMs()
        for (const apply of inputs) apply(nowMs, wallMs)
        const ready = this.node.ready()
        if (ready.persist.records.length > 0) await this.ports.persist(ready.persist)
        if (ready.send.length > 0) this.ports.send(ready.send)
        if (ready.events.length > 0) this.ports.events(ready.events)
        this.node.advance(ready)
        this.finished += inputs.length
        this.releaseWaiters(this.finished)
        if (this.inbox.length === 0) break
      }
    } catch (err) {
      this.stop()
      this.ports.fatal(err)
    } finally {
      this.pumping = false
      if (this.stopped) this.releaseWaiters(Number.POSITIVE_INFINITY)
      else if (this.inbox.length > 0) this.schedule()
    }
  }

  /** Resolves the `settled()` calls whose inputs are all done (`upTo` finished inputs). */
  private releaseWaiters (finished: number): void {
    const waiters = this.settleWaiters.filter(waiter => waiter.upTo <= finished)
    if (waiters.length === 0) return
    this.settleWaiters = this.settleWaiters.filter(waiter => waiter.upTo > finished)
    for (const waiter of waiters) waiter.resolve()
  }
}
