import type { CoreEvent, CoreNode, Envelope, PersistBatch } from '@p2p-bootstrap/core'

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
  /** Wall-clock milliseconds (HLC stamps compare across nodes, so not a monotonic clock). */
  now: () => number
}

type Input = (nowMs: number) => void

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
  private idleWaiters: Array<() => void> = []

  constructor (node: Node, ports: DriverPorts, tickIntervalMs: number) {
    this.node = node
    this.ports = ports
    this.tickIntervalMs = tickIntervalMs
  }

  /** Flushes what construction produced (boot record, facts), then ticks on an interval. */
  start (): void {
    if (this.timer !== undefined || this.stopped) return
    this.timer = setInterval(() => { this.tick() }, this.tickIntervalMs)
    this.timer.unref?.()
    this.schedule()
  }

  /** No more inputs are taken; an in-flight persist completes (and its output is sent). */
  stop (): void {
    this.stopped = true
    clearInterval(this.timer)
    this.timer = undefined
    this.inbox = []
  }

  get running (): boolean {
    return !this.stopped
  }

  tick (): void {
    this.input((nowMs) => { this.node.tick(nowMs) })
  }

  step (envelope: Envelope): void {
    this.input((nowMs) => { this.node.step(envelope, nowMs) })
  }

  discover (peer: string): void {
    this.input((nowMs) => { this.node.discover(peer, nowMs) })
  }

  /** Any other change of the node's state (a publish), applied in order with the rest. */
  input (apply: Input): void {
    if (this.stopped) return
    this.inbox.push(apply)
    this.schedule()
  }

  /** Resolves once every input so far has been applied and its output persisted and sent. */
  async settled (): Promise<void> {
    if (!this.pumping && this.inbox.length === 0) return
    await new Promise<void>((resolve) => { this.idleWaiters.push(resolve) })
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
        const nowMs = this.ports.now()
        for (const apply of inputs) apply(nowMs)
        const ready = this.node.ready()
        if (ready.persist.records.length > 0) await this.ports.persist(ready.persist)
        if (ready.send.length > 0) this.ports.send(ready.send)
        if (ready.events.length > 0) this.ports.events(ready.events)
        this.node.advance(ready)
        if (this.inbox.length === 0) break
      }
    } catch (err) {
      this.stop()
      this.ports.fatal(err)
    } finally {
      this.pumping = false
      if (this.inbox.length > 0 && !this.stopped) this.schedule()
      else this.releaseWaiters()
    }
  }

  private releaseWaiters (): void {
    const waiters = this.idleWaiters
    this.idleWaiters = []
    for (const resolve of waiters) resolve()
  }
}
