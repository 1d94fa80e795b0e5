// Goal: a node knows when its ledger has been seen equal to a peer's since it started (the start
// gate of a rebooted server counts only such peers: a ping arrives before the ledger sync that
// would bring a later plan). Method: two real nodes of one cluster; one's digest is stepped into
// the other before and after their ledgers were made equal by a delta of everything.
import { describe, expect, it } from 'vitest'
import { nodeKeyFromSeed, Prng } from '../../src/index.js'
import type { CoreEvent, CoreNodeMachine } from '../../src/index.js'
import { deltaMessages, digestMessage } from '../../src/ledger/sync.js'
import { decodeEntry } from '../../src/ledger/codec.js'
import type { Entry } from '../../src/ledger/entry.js'
import type { LedgerDigest } from '../../src/ledger/messages.js'
import { LedgerReplica } from '../../src/ledger/replica.js'
import { keys, testNode } from './fixture.js'

function makeNode (seed: number): CoreNodeMachine {
  return testNode({ key: nodeKeyFromSeed(new Prng(seed).bytes(32)), prng: new Prng(seed + 100), nowMs: 1_000 })
}

function syncedEvents (node: CoreNodeMachine): CoreEvent[] {
  const events = node.ready().events.filter(event => event.type === 'ledger:synced')
  node.advance(node.ready())
  return events
}

function entriesOf (node: CoreNodeMachine): Entry[] {
  return node.ledgerRecords().map(record => decodeEntry((record as unknown as { entry: Uint8Array }).entry))
}

/** Every entry `from` holds, as deltas stepped into `to`. */
function copyLedger (from: CoreNodeMachine, to: CoreNodeMachine, nowMs: number): void {
  for (const delta of deltaMessages(entriesOf(from))) to.step({ from: from.nodeId, to: to.nodeId, message: delta }, nowMs)
}

/** The digest `node` sends in an anti-entropy round: the root hash of what it holds. */
function digestOf (node: CoreNodeMachine): LedgerDigest {
  const replica = new LedgerReplica({ clusterId: keys.clusterId, validateDecision: () => 'valid', maxClockSkewMs: Number.MAX_SAFE_INTEGER })
  for (const entry of entriesOf(node)) replica.merge(entry)
  return digestMessage(replica)
}

describe('a ledger seen equal to a peer\'s', () => {
  it('is not claimed on a digest that differs, and is claimed, once, on one that matches', () => {
    const a = makeNode(1)
    const b = makeNode(2)
    a.advance(a.ready())
    b.advance(b.ready())
    // Each holds only its own facts and shape: the roots differ.
    b.step({ from: a.nodeId, to: b.nodeId, message: digestOf(a) }, 2_000)
    expect(b.syncedWith(a.nodeId)).toBe(false)
    expect(syncedEvents(b)).toEqual([])

    copyLedger(a, b, 3_000)
    copyLedger(b, a, 3_000)
    syncedEvents(a)
    syncedEvents(b)
    b.step({ from: a.nodeId, to: b.nodeId, message: digestOf(a) }, 4_000)
    expect(b.syncedWith(a.nodeId)).toBe(true)
    expect(syncedEvents(b)).toEqual([{ type: 'ledger:synced', peer: a.nodeId }])
    // Only the first match is news.
    b.step({ from: a.nodeId, to: b.nodeId, message: digestOf(a) }, 5_000)
    expect(syncedEvents(b)).toEqual([])
    expect(a.syncedWith(b.nodeId)).toBe(false)
  })

  // A `--once` agent exits only when each peer holds everything it wrote: a peer that held the plan
  // but not yet the exiting node's facts waited for its node-ip for ever (a fresh-clone CI run).
  it('says a peer holds everything this node wrote only after a match that followed its latest write', () => {
    const a = makeNode(3)
    const b = makeNode(4)
    a.advance(a.ready())
    b.advance(b.ready())
    expect(b.holdsAllWeWrote(a.nodeId)).toBe(false)
    copyLedger(a, b, 2_000)
    copyLedger(b, a, 2_000)
    b.step({ from: a.nodeId, to: b.nodeId, message: digestOf(a) }, 3_000)
    expect(b.holdsAllWeWrote(a.nodeId)).toBe(true)
    syncedEvents(b)

    // b writes something new (its published status): a no longer holds all of it.
    b.publish('status', Uint8Array.of(1, 2, 3), 4_000)
    b.advance(b.ready())
    expect(b.holdsAllWeWrote(a.nodeId)).toBe(false)
    b.step({ from: a.nodeId, to: b.nodeId, message: digestOf(a) }, 5_000)
    expect(b.holdsAllWeWrote(a.nodeId)).toBe(false)
    expect(b.syncedWith(a.nodeId)).toBe(true)

    copyLedger(b, a, 6_000)
    b.step({ from: a.nodeId, to: b.nodeId, message: digestOf(a) }, 7_000)
    expect(b.holdsAllWeWrote(a.nodeId)).toBe(true)
    expect(syncedEvents(b)).toEqual([{ type: 'ledger:synced', peer: a.nodeId }])
  })
})
