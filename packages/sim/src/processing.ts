import { assert } from '@p2p-bootstrap/core'

/**
 * Slow processing: reading a message (decoding it, checking signatures, the core's step) and
 * running a timer take CPU time, and a node's event loop does one thing at a time. Work that
 * arrives while the loop is busy waits its turn, in arrival order, so a burst of traffic delays
 * everything behind it: the more a protocol sends when it is slow, the slower it gets. With
 * `shared`, every node runs on one event loop, as N agents in one process (the in-process
 * formation benchmark) on a machine whose other load leaves it a fraction of a core.
 */
export interface ProcessingFault {
  /** CPU time of one message read, in ms of simulated time. */
  readonly messageCostMs: number
  /** CPU time of one timer tick, in ms of simulated time. */
  readonly tickCostMs: number
  /** One event loop for every node; otherwise one each. */
  readonly shared: boolean
}

/**
 * A tick this much later than due is seen by the agent's driver as its own loop frozen, and the
 * node is told before the tick runs (the bootstrapper's `STALL_GAP_MS`, mirrored here since the
 * simulator imports only the core).
 */
export const DRIVER_STALL_GAP_MS = 100

/** The event loops of a run: when each is free again. */
export class EventLoops {
  private readonly freeAtMs = new Map<number, number>()

  constructor (private readonly fault: ProcessingFault) {
    assert(Number.isSafeInteger(fault.messageCostMs) && fault.messageCostMs >= 0, 'a message costs a whole number of ms')
    assert(Number.isSafeInteger(fault.tickCostMs) && fault.tickCostMs >= 0, 'a tick costs a whole number of ms')
  }

  /** When a message arriving now at `node` is read: after everything that arrived before it. */
  admitMessage (node: number, nowMs: number): number {
    return this.admit(node, nowMs, this.fault.messageCostMs)
  }

  /** When a timer due now at `node` runs. */
  admitTick (node: number, nowMs: number): number {
    return this.admit(node, nowMs, this.fault.tickCostMs)
  }

  private admit (node: number, nowMs: number, costMs: number): number {
    const loop = this.fault.shared ? 0 : node
    const startMs = Math.max(nowMs, this.freeAtMs.get(loop) ?? 0)
    this.freeAtMs.set(loop, startMs + costMs)
    return startMs
  }
}
