import { assert } from '@p2p-bootstrap/core'

export type TraceType =
  | 'start' | 'restart' | 'crash' | 'deliver' | 'drop' | 'partition' | 'heal' | 'discover'
  | 'commit' | 'violation' | 'end' | 'leave' | 'stall' | 'resume' | 'clock-step' | 'false-death' | 'server-ready'

/** One thing that happened; nodes are indexes into the run's node list (n0 has the lowest id). */
export interface TraceEntry {
  readonly timeMs: number
  readonly type: TraceType
  readonly node: number
  readonly peer: number
  readonly detail: string
}

const NO_NODE = -1
const FNV_OFFSET = 0x811c9dc5
const FNV_PRIME = 0x01000193

/**
 * The run's story: a ring of the last events (what a failing run prints) and a running hash of
 * every event, so two runs of one seed can be compared in full at the cost of a few multiplies.
 * Entries are formatted only when printed.
 */
export class Trace {
  private readonly ring: TraceEntry[] = []
  private next = 0
  private hash = FNV_OFFSET
  count = 0

  constructor (private readonly capacity: number) {
    assert(Number.isSafeInteger(capacity) && capacity >= 0, 'trace capacity is a count')
  }

  add (timeMs: number, type: TraceType, node: number = NO_NODE, peer: number = NO_NODE, detail = ''): void {
    this.mix(timeMs)
    this.mix(node + 1)
    this.mix(peer + 1)
    for (let i = 0; i < type.length; i++) this.mix(type.charCodeAt(i))
    for (let i = 0; i < detail.length; i++) this.mix(detail.charCodeAt(i))
    this.count += 1
    if (this.capacity === 0) return
    const entry: TraceEntry = { timeMs, type, node, peer, detail }
    if (this.ring.length < this.capacity) {
      this.ring.push(entry)
    } else {
      this.ring[this.next] = entry
      this.next = (this.next + 1) % this.capacity
    }
  }

  /** The kept entries, oldest first. */
  entries (): TraceEntry[] {
    return [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)]
  }

  /** A hash of every event ever added, as hex. */
  get fingerprint (): string {
    return this.hash.toString(16).padStart(8, '0')
  }

  private mix (value: number): void {
    this.hash = Math.imul(this.hash ^ (value & 0xffff), FNV_PRIME) >>> 0
    this.hash = Math.imul(this.hash ^ ((value / 0x10000) & 0xffff), FNV_PRIME) >>> 0
  }
}

/** One line per entry: `   1234 ms  deliver  n3 → n1  paxos/promise`. */
export function formatTraceEntry (entry: TraceEntry): string {
  const time = `${entry.timeMs} ms`.padStart(10)
  const who = entry.node === NO_NODE
    ? ''
    : entry.peer === NO_NODE ? `n${entry.node}` : `n${entry.node} → n${entry.peer}`
  return `${time}  ${entry.type.padEnd(9)}  ${who.padEnd(12)}  ${entry.detail}`.trimEnd()
}

export function formatTrace (entries: readonly TraceEntry[]): string {
  return entries.map(formatTraceEntry).join('\n')
}
