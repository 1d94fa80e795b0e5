import { assert } from '../assert.js'
import type { NodeId } from '../identity.js'
import type { ParsedKey } from './keys.js'

/**
 * What each writer holds in the ledger, so one identity cannot fill it: its `node/<id>/…` entries
 * (count and encoded bytes) and its votes (count). The replica asks before storing and tells after
 * storing or removing; plans are nobody's (they carry a quorum certificate) and are not counted.
 */

export interface WriterBounds {
  /** `node/<id>/…` entries one node may hold (an honest node writes about ten names). */
  readonly nodeEntriesMax: number
  /** Encoded bytes of one node's `node/<id>/…` entries (its largest is a sealed kubeconfig). */
  readonly nodeBytesMax: number
  /** Votes one voter may hold (one per ballot it accepted, over every epoch). */
  readonly votesMax: number
}

interface Usage {
  entries: number
  bytes: number
  votes: number
}

/** The counted owner of a key: the node of a `node/` key, the voter of a vote; null for a plan. */
export function countedWriter (parsed: ParsedKey): NodeId | null {
  switch (parsed.family) {
    case 'node': return parsed.owner
    case 'vote': return parsed.voter
    case 'plan': return null
  }
}

export class WriterUsage {
  readonly #usage = new Map<NodeId, Usage>()

  constructor (readonly bounds: WriterBounds) {
    assert(bounds.nodeEntriesMax > 0 && bounds.nodeBytesMax > 0 && bounds.votesMax > 0, 'writer bounds are positive')
  }

  /**
   * Why storing this entry would put its writer over a bound, or null. `replacedBytes` is the
   * encoded size of the version it replaces (0 for a new key): a replacement adds no entry.
   */
  problem (parsed: ParsedKey, bytes: number, replacedBytes: number | null): string | null {
    const writer = countedWriter(parsed)
    if (writer === null) return null
    const usage = this.#usage.get(writer) ?? { entries: 0, bytes: 0, votes: 0 }
    const added = replacedBytes === null ? 1 : 0
    if (parsed.family === 'vote') {
      if (usage.votes + added > this.bounds.votesMax) return `${writer} already holds ${usage.votes} votes, the most one voter may`
      return null
    }
    if (usage.entries + added > this.bounds.nodeEntriesMax) return `${writer} already holds ${usage.entries} node entries, the most one node may`
    const bytesAfter = usage.bytes - (replacedBytes ?? 0) + bytes
    if (bytesAfter > this.bounds.nodeBytesMax) return `${writer}'s node entries would take ${bytesAfter} bytes, over the ${this.bounds.nodeBytesMax} one node may hold`
    return null
  }

  /** Counts a stored entry of `bytes` (replacing one of `replacedBytes`, or a new key when null). */
  add (parsed: ParsedKey, bytes: number, replacedBytes: number | null): void {
    const writer = countedWriter(parsed)
    if (writer === null) return
    const usage = this.#usage.get(writer) ?? { entries: 0, bytes: 0, votes: 0 }
    const added = replacedBytes === null ? 1 : 0
    if (parsed.family === 'vote') usage.votes += added
    else {
      usage.entries += added
      usage.bytes += bytes - (replacedBytes ?? 0)
    }
    this.#usage.set(writer, usage)
  }

  /** Uncounts a removed entry of `bytes`. */
  remove (parsed: ParsedKey, bytes: number): void {
    const writer = countedWriter(parsed)
    if (writer === null) return
    const usage = this.#usage.get(writer)
    assert(usage !== undefined, 'a removed entry was counted')
    if (parsed.family === 'vote') usage.votes -= 1
    else {
      usage.entries -= 1
      usage.bytes -= bytes
    }
    assert(usage.entries >= 0 && usage.bytes >= 0 && usage.votes >= 0, 'writer usage stays non-negative')
    if (usage.entries === 0 && usage.votes === 0) this.#usage.delete(writer)
  }

  /** What `writer` holds now, for status and tests. */
  of (writer: NodeId): Readonly<Usage> {
    return { ...(this.#usage.get(writer) ?? { entries: 0, bytes: 0, votes: 0 }) }
  }
}
