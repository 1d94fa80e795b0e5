// Goal: no frame a token holder can send makes a node throw, now or at its next start. Method: for
// every wire message kind, fast-check builds messages whose numbers are drawn from the extremes
// (0, -1, fractions, 2^32, 2^40, 2^48, 2^53 - 1, the schema's own maxima and one above them) and
// whose byte strings and lists have extreme sizes; each goes through the real wire codec (refused
// with a CodecError, or decoded) and into a victim node that already knows the attacker and a
// third member. The victim then ticks, restarts from every record it persisted, and ticks again:
// any exception anywhere fails the run, with fast-check's shrunk counterexample.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  BALLOT_ROUND_MAX, BALLOT_ROUND_WIRE_MAX, BUCKET_HASH_BYTES, CodecError, DIGEST_BUCKETS, ENTRY_KEY_BYTES_MAX,
  EPOCH_MAX, FRAME_BYTES_MAX, HLC_COUNTER_MAX, Prng, VALUE_BYTES_MAX, decodeWireMessage,
  encodeCanonical, nodeKeyFromSeed, signEntry
} from '../../src/index.js'
import type { CoreNodeMachine, NodeKey, PersistRecord } from '../../src/index.js'
import { INCARNATION_MAX, SEQ_MAX } from '../../src/membership/limits.js'
import { keys, testNode } from './fixture.js'

const victimKey = nodeKeyFromSeed(new Prng(21).bytes(32))
const attackerKey = nodeKeyFromSeed(new Prng(22).bytes(32))
const thirdKey = nodeKeyFromSeed(new Prng(23).bytes(32))
const START_MS = 1_760_000_000_000
const RUNS = 60

/** Numbers at and around every bound a field might have. */
const extremeNumber = fc.constantFrom(
  0, 1, 2, -1, 0.5, -0.5, 2 ** 31, 2 ** 32, 2 ** 32 - 1, 2 ** 40, 2 ** 40 + 1, 2 ** 48, 2 ** 48 + 1,
  Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER - 1, -Number.MAX_SAFE_INTEGER, 2 ** 53, 2 ** 64,
  EPOCH_MAX, EPOCH_MAX + 1, BALLOT_ROUND_MAX, BALLOT_ROUND_WIRE_MAX, BALLOT_ROUND_WIRE_MAX + 1,
  INCARNATION_MAX, INCARNATION_MAX + 1, SEQ_MAX, HLC_COUNTER_MAX, HLC_COUNTER_MAX + 1,
  START_MS, START_MS + 1_000, START_MS + 10 ** 9, DIGEST_BUCKETS, DIGEST_BUCKETS - 1
)

/** Byte strings of the sizes fields have (hashes, signatures, metas) and far beyond. */
const extremeBytes = fc.constantFrom(0, 1, 16, 31, 32, 33, 63, 64, 65, 4096, VALUE_BYTES_MAX, VALUE_BYTES_MAX + 1, FRAME_BYTES_MAX)
  .map(size => new Uint8Array(size).fill(size & 0xff))

const someNodeId = fc.constantFrom(victimKey.nodeId, attackerKey.nodeId, thirdKey.nodeId, 'x', 'x'.repeat(129), '')

const ballot = fc.record({ round: extremeNumber, proposer: someNodeId })

/**
 * The proposer's shape on prepare and accept: mostly the victim's own (so the message gets past
 * the shape check into the acceptor), else another shape or extreme values.
 */
const wireShape = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ expect: 3, controlPlanes: 1 }) },
  { weight: 1, arbitrary: fc.record({ expect: extremeNumber, controlPlanes: extremeNumber, name: fc.constantFrom('typo', 'x'.repeat(10_000)) }, { requiredKeys: ['controlPlanes'] }) }
)

const memberUpdate = fc.record({
  nodeId: someNodeId,
  state: fc.constantFrom('alive', 'suspect', 'dead', 'left'),
  incarnation: extremeNumber,
  meta: fc.option(extremeBytes, { nil: undefined }),
  by: fc.option(someNodeId, { nil: undefined })
}, { requiredKeys: ['nodeId', 'state', 'incarnation'] })

const swim = fc.record({
  kind: fc.constantFrom('swim/ping', 'swim/ack', 'swim/ping-req', 'swim/gossip'),
  seq: extremeNumber,
  incarnation: extremeNumber,
  gossip: fc.array(memberUpdate, { maxLength: 10 }),
  target: someNodeId
}).map(({ target, ...message }) => message.kind === 'swim/ping-req' ? { ...message, target } : message)

const paxos = fc.oneof(
  fc.record({ kind: fc.constant('paxos/prepare'), epoch: extremeNumber, ballot, shape: wireShape }),
  fc.record({ kind: fc.constant('paxos/promise'), epoch: extremeNumber, ballot, accepted: fc.option(fc.record({ ballot, value: extremeBytes }), { nil: null }) }),
  fc.record({ kind: fc.constant('paxos/accept'), epoch: extremeNumber, ballot, value: extremeBytes, shape: wireShape }),
  fc.record({ kind: fc.constant('paxos/accepted'), epoch: extremeNumber, ballot, valueHash: extremeBytes, signature: extremeBytes }),
  fc.record({ kind: fc.constant('paxos/nack'), epoch: extremeNumber, ballot, promised: ballot }),
  fc.record({ kind: fc.constant('paxos/decided'), epoch: extremeNumber, decision: extremeBytes })
)

/** Keys of every family, with extreme numbers where the family has numbers. */
const entryKey = fc.oneof(
  fc.tuple(extremeNumber, extremeNumber).map(([epoch, round]) => `vote/${epoch}/${round}.${attackerKey.nodeId}/${attackerKey.nodeId}`),
  extremeNumber.map(epoch => `plan/${epoch}`),
  fc.constantFrom('facts', 'status', 'leaving', 'cluster-hash', 'x'.repeat(ENTRY_KEY_BYTES_MAX)).map(name => `node/${attackerKey.nodeId}/${name}`),
  fc.constantFrom(`node/${victimKey.nodeId}/facts`, 'other/key', '')
)

/** Entries the attacker signs (so they get past the signature check) or forges. */
const entry = fc.record({
  key: entryKey,
  value: fc.option(extremeBytes, { nil: null }),
  wallMs: extremeNumber,
  counter: extremeNumber,
  signed: fc.boolean()
}).map(({ key, value, wallMs, counter, signed }) => {
  if (signed && Number.isSafeInteger(wallMs) && Number.isSafeInteger(counter)) {
    return signEntry(keys.clusterId, { key, value, stamp: { wallMs, counter } }, attackerKey)
  }
  return { key, value, stamp: { wallMs, counter }, writer: attackerKey.nodeId, signature: new Uint8Array(64) }
})

const ledger = fc.oneof(
  fc.record({ kind: fc.constant('ledger/delta'), entries: fc.array(entry, { maxLength: 4 }) }),
  fc.record({ kind: fc.constant('ledger/digest'), root: extremeBytes }),
  fc.record({ kind: fc.constant('ledger/buckets'), buckets: extremeBytes }),
  fc.record({
    kind: fc.constant('ledger/summary'),
    ranges: fc.array(fc.record({
      bucket: extremeNumber,
      after: fc.option(entryKey, { nil: null }),
      through: fc.option(entryKey, { nil: null }),
      items: fc.array(fc.record({ key: entryKey, stamp: fc.record({ wallMs: extremeNumber, counter: extremeNumber }), writer: someNodeId, hash: fc.constant(new Uint8Array(BUCKET_HASH_BYTES)) }), { maxLength: 4 })
    }), { maxLength: 3 })
  }),
  fc.record({ kind: fc.constant('ledger/pull'), keys: fc.array(entryKey, { maxLength: 4 }) })
)

function startNode (restored: readonly PersistRecord[], nowMs: number): CoreNodeMachine {
  return testNode({ key: victimKey, prng: new Prng(9), restored, nowMs })
}

/** A victim that knows the attacker and a third member, with what it persisted so far. */
class Victim {
  readonly records: PersistRecord[] = []
  node: CoreNodeMachine
  nowMs = START_MS

  constructor () {
    this.node = startNode([], this.nowMs)
    this.flush()
    for (const peer of [attackerKey, thirdKey]) this.deliver(peer, { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [] })
  }

  flush (): void {
    const ready = this.node.ready()
    this.records.push(...ready.persist.records)
    this.node.advance(ready)
  }

  deliver (from: NodeKey, message: unknown): void {
    let bytes: Uint8Array
    try {
      bytes = encodeCanonical(message)
    } catch {
      return // not even encodable (NaN in a field): nothing an attacker can send
    }
    let decoded
    try {
      decoded = decodeWireMessage(bytes)
    } catch (err) {
      expect(err).toBeInstanceOf(CodecError)
      return
    }
    this.node.step({ from: from.nodeId, to: victimKey.nodeId, message: decoded }, this.nowMs)
    this.flush()
  }

  tick (durationMs: number): void {
    const endMs = this.nowMs + durationMs
    while (this.nowMs < endMs) {
      this.nowMs += 100
      this.node.tick(this.nowMs)
      this.flush()
    }
  }

  restart (): void {
    this.node = startNode(this.records, this.nowMs)
    this.flush()
  }
}

function survives (messages: readonly unknown[]): void {
  const victim = new Victim()
  for (const message of messages) victim.deliver(attackerKey, message)
  victim.tick(1_000)
  victim.restart()
  victim.tick(1_000)
  expect(victim.node.nodeId).toBe(victimKey.nodeId)
}

describe('extreme frames of every kind', () => {
  it.each<[string, fc.Arbitrary<unknown>]>([
    ['membership (swim/ping, swim/ack, swim/ping-req)', swim],
    ['consensus (paxos/prepare … paxos/decided)', paxos],
    ['ledger (delta, digest, buckets, summary, pull)', ledger]
  ])('%s: the node neither throws nor persists anything that fails its next start', (_what, message) => {
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 4 }), (messages) => { survives(messages) }), { numRuns: RUNS })
  }, 120_000)
})
