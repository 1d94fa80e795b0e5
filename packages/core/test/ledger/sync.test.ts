// Goal: push and anti-entropy bring two replicas to the same entries in one bounded session, with
// every message a valid frame under FRAME_BYTES_MAX, and an idle round costing one small digest.
// Method: an in-test exchange loop passes every message through the real codec; fast-check draws
// divergent replicas from the entry pool; a 1,100-entry case forces summaries split across frames.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FRAME_BYTES_MAX, SUMMARY_ITEMS_MAX } from '../../src/limits.js'
import { decodeLedgerMessage, encodeLedgerMessage } from '../../src/ledger/codec.js'
import { nodeEntryKey } from '../../src/ledger/keys.js'
import { answerLedgerMessage, deltaMessages, digestMessage, summaryMessages } from '../../src/ledger/sync.js'
import { alice, bytesOf, dump, entryBy, makeReplica, SignatureCache, testKey } from './fixtures.js'
import { POOL } from './pool.js'
import type { Entry } from '../../src/ledger/entry.js'
import type { LedgerMessage } from '../../src/ledger/messages.js'
import type { LedgerReplica } from '../../src/ledger/replica.js'

const signatureCache = new SignatureCache()
const DELIVERIES_MAX = 200

function replicaOf (entries: readonly Entry[]): LedgerReplica {
  const replica = makeReplica({ signatureCache })
  for (const entry of entries) replica.merge(entry)
  return replica
}

/** Every message crosses the wire: encoded, size-checked, decoded strictly. */
function wire (message: LedgerMessage): LedgerMessage {
  const frame = encodeLedgerMessage(message)
  expect(frame.byteLength).toBeLessThanOrEqual(FRAME_BYTES_MAX)
  return decodeLedgerMessage(frame)
}

/**
 * One anti-entropy session started by `initiator`, run until no message is left. Like the node,
 * each side pushes the entries that were new to it to its (only) peer. Returns the round trips.
 */
function session (initiator: LedgerReplica, responder: LedgerReplica): { deliveries: number, roundTrips: number } {
  let queue: Array<{ to: LedgerReplica, message: LedgerMessage, depth: number }> = [{ to: responder, message: digestMessage(initiator), depth: 1 }]
  let deliveries = 0
  let depthMax = 0
  while (queue.length > 0) {
    const next: typeof queue = []
    for (const { to, message, depth } of queue) {
      deliveries++
      expect(deliveries).toBeLessThanOrEqual(DELIVERIES_MAX)
      depthMax = Math.max(depthMax, depth)
      const other = to === initiator ? responder : initiator
      const answer = answerLedgerMessage(to, wire(message))
      const pushes = deltaMessages(answer.accepted)
      for (const reply of [...answer.send, ...pushes]) next.push({ to: other, message: reply, depth: depth + 1 })
    }
    queue = next
  }
  return { deliveries, roundTrips: Math.ceil(depthMax / 2) }
}

describe('anti-entropy', () => {
  it('costs one digest and no reply between equal replicas', () => {
    const a = replicaOf(POOL)
    const b = replicaOf([...POOL].reverse())
    expect(answerLedgerMessage(b, wire(digestMessage(a))).send).toEqual([])
  })

  // Digest, buckets, summary, delta + pull, delta: 2.5 round trips; a decision released by the
  // last delta is pushed on, which may take one more (plan 3 waiting on plan 2 waiting on plan 1).
  it('converges two divergent replicas in one session of at most 4 round trips', () => {
    const indexes = fc.array(fc.nat(POOL.length - 1), { maxLength: 50 })
    fc.assert(fc.property(indexes, indexes, (x, y) => {
      const a = replicaOf(x.map((i) => POOL[i] as Entry))
      const b = replicaOf(y.map((i) => POOL[i] as Entry))
      const { roundTrips } = session(a, b)
      expect(dump(a)).toEqual(dump(b))
      expect(roundTrips).toBeLessThanOrEqual(4)
      expect(answerLedgerMessage(b, wire(digestMessage(a))).send).toEqual([])
    }), { numRuns: 100 })
  })

  it('splits large summaries into frames of bounded items and still converges', () => {
    // Spread over writers: one node may hold only WRITER_NODE_ENTRIES_MAX entries.
    const writers = Array.from({ length: 40 }, (_, i) => testKey(500 + i))
    const many = Array.from({ length: SUMMARY_ITEMS_MAX + 76 }, (_, i) => {
      const writer = writers[i % writers.length] ?? alice
      return entryBy(writer, nodeEntryKey(writer.nodeId, `k${i}`), bytesOf(`v${i}`), 1 + i)
    })
    const full = replicaOf(many)
    const summaries = summaryMessages(full, Array.from({ length: 256 }, (_, bucket) => bucket))
    expect(summaries.length).toBeGreaterThanOrEqual(2)
    for (const summary of summaries) {
      expect(summary.ranges.reduce((sum, range) => sum + range.items.length, 0)).toBeLessThanOrEqual(SUMMARY_ITEMS_MAX)
      wire(summary)
    }
    const partial = replicaOf(many.filter((_, i) => i % 3 === 0))
    session(partial, full)
    expect(dump(partial)).toEqual(dump(full))
    expect(partial.size).toBe(many.length)
  })

  it('repairs in both directions: newer versions flow from each side', () => {
    const key = nodeEntryKey(alice.nodeId, 'facts')
    const a = replicaOf([entryBy(alice, key, bytesOf('new'), 200), entryBy(alice, nodeEntryKey(alice.nodeId, 'only-a'), bytesOf('a'), 1)])
    const b = replicaOf([entryBy(alice, key, bytesOf('old'), 100), entryBy(alice, nodeEntryKey(alice.nodeId, 'only-b'), bytesOf('b'), 1)])
    session(b, a)
    expect(b.value(key)).toEqual(bytesOf('new'))
    expect(dump(a)).toEqual(dump(b))
  })
})

describe('push', () => {
  it('merges a delta and names what was new and what was refused', () => {
    const replica = makeReplica({ signatureCache })
    const good = entryBy(alice, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('v'), 1)
    // Newer than the held copy, so it would win if it verified.
    const forged = { ...good, stamp: { wallMs: 5, counter: 0 } }
    const [delta] = deltaMessages([good, good, forged])
    expect(delta).toBeDefined()
    if (delta === undefined) return
    const answer = answerLedgerMessage(replica, wire(delta))
    expect(answer.accepted).toEqual([good])
    expect(answer.rejected.map((item) => item.reason)).toEqual(['bad-signature'])
    expect(answer.send).toEqual([])
  })

  it('splits pushes so that every frame fits', () => {
    const big = Array.from({ length: 6 }, (_, i) => entryBy(alice, nodeEntryKey(alice.nodeId, `big${i}`), new Uint8Array(200 * 1024), 1))
    const deltas = deltaMessages(big)
    expect(deltas.length).toBeGreaterThanOrEqual(2)
    expect(deltas.flatMap((delta) => wire(delta).kind === 'ledger/delta' ? delta.entries : [])).toHaveLength(6)
  })
})
