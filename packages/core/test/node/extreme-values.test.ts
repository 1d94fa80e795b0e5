// Goal: no value a token holder can put in a frame makes a node fail an assertion, now or at its
// next start. Method: an attacker key builds each poisoned frame found against the real binary
// (a ballot at the schema's old maximum, an incarnation of 2^53 - 1 gossiped about a third node,
// a vote entry keyed beyond the epoch range); the victim receives it through the real wire codec
// (encode, then decode as the messenger does), runs on, and then restarts from every record it
// persisted. A state dir written before the bounds existed (a promise at the old maximum) is
// loaded too: the poisoned record is dropped with a notice and the node can still propose.
import { describe, expect, it } from 'vitest'
import {
  BALLOT_ROUND_MAX, BALLOT_ROUND_WIRE_MAX, CodecError, ConsensusInstance,
  Prng, decodeWireMessage, encodeWireMessage, nodeKeyFromSeed,
  quorumRuleFor, restoreAcceptors, signEntry, testProfile
} from '../../src/index.js'
import { INCARNATION_MAX } from '../../src/membership/limits.js'
import type { CoreMessage, CoreNodeMachine, CoreEvent, NodeKey, PersistRecord } from '../../src/index.js'
import { keys, testNode } from './fixture.js'

const victimKey = nodeKeyFromSeed(new Prng(11).bytes(32))
const attackerKey = nodeKeyFromSeed(new Prng(12).bytes(32))
const thirdKey = nodeKeyFromSeed(new Prng(13).bytes(32))
/** The cluster shape every honest node here runs with (prepare and accept carry it). */
const SHAPE = { expect: 3, controlPlanes: 1 }

function decodedPrepare (round: number): Extract<CoreMessage, { kind: 'paxos/prepare' }> {
  const decoded = overTheWire({ kind: 'paxos/prepare', epoch: 1, ballot: { round, proposer: attackerKey.nodeId }, shape: SHAPE })
  if (decoded instanceof CodecError || decoded.kind !== 'paxos/prepare') throw new Error(`a prepare at round ${round} decodes`)
  return decoded
}

/** What the messenger does with a frame: decode it, or refuse it (a CodecError, counted against the sender). */
function overTheWire (message: CoreMessage): CoreMessage | CodecError {
  try {
    return decodeWireMessage(encodeWireMessage(message))
  } catch (err) {
    if (err instanceof CodecError) return err
    throw err
  }
}

function startNode (key: NodeKey, restored: readonly PersistRecord[], nowMs: number): CoreNodeMachine {
  return testNode({ key, prng: new Prng(5), restored, nowMs })
}

/** Runs a node like the driver does, keeping what it persisted and the events it raised. */
class Harness {
  readonly records: PersistRecord[] = []
  readonly events: CoreEvent[] = []
  node: CoreNodeMachine
  nowMs = 1_000

  constructor (readonly key: NodeKey) {
    this.node = startNode(key, [], this.nowMs)
    this.flush()
  }

  flush (): void {
    const ready = this.node.ready()
    this.records.push(...ready.persist.records)
    this.events.push(...ready.events)
    this.node.advance(ready)
  }

  receive (from: NodeKey, message: CoreMessage): CodecError | null {
    const decoded = overTheWire(message)
    if (decoded instanceof CodecError) return decoded
    this.node.step({ from: from.nodeId, to: this.key.nodeId, message: decoded }, this.nowMs)
    this.flush()
    return null
  }

  /** Ticks for a while: probes, suspicions, refutations and proposals all get their turn. */
  run (durationMs: number): void {
    const endMs = this.nowMs + durationMs
    while (this.nowMs < endMs) {
      this.nowMs += 50
      this.node.tick(this.nowMs)
      this.flush()
    }
  }

  restart (): void {
    this.node = startNode(this.key, this.records, this.nowMs)
    this.flush()
  }
}

describe('extreme values from a token holder', () => {
  it('finding 1: a prepare at the largest round is refused at decode, and the next proposer can go higher', () => {
    const poisoned: CoreMessage = { kind: 'paxos/prepare', epoch: 1, ballot: { round: BALLOT_ROUND_MAX, proposer: attackerKey.nodeId }, shape: SHAPE }
    expect(overTheWire(poisoned)).toBeInstanceOf(CodecError)
    const request = { acceptors: [victimKey.nodeId, thirdKey.nodeId], rule: quorumRuleFor(1, { expect: 3, controlPlanes: 1 }), value: () => Uint8Array.of(1) }
    // Below the wire bound the victim proposes above what it was sent, now and after a restart.
    const records: PersistRecord[] = []
    const instance = new ConsensusInstance({ key: victimKey, clusterId: keys.clusterId, epoch: 1, profile: testProfile(), prng: new Prng(3), shape: SHAPE })
    records.push(...instance.step(attackerKey.nodeId, decodedPrepare(BALLOT_ROUND_WIRE_MAX - 1), 0).persist)
    const proposed = instance.propose(0, request)
    records.push(...proposed.persist)
    const prepare = proposed.send.find(envelope => envelope.message.kind === 'paxos/prepare')
    expect(prepare?.message.kind === 'paxos/prepare' && prepare.message.ballot.round).toBe(BALLOT_ROUND_WIRE_MAX)
    const restored = restoreAcceptors(records).get(1)
    expect(restored?.promised?.round).toBe(BALLOT_ROUND_WIRE_MAX)
    // At the wire bound itself no ballot of ours could be read by others: the epoch stalls, nothing throws.
    const again = new ConsensusInstance({ key: victimKey, clusterId: keys.clusterId, epoch: 1, profile: testProfile(), prng: new Prng(4), shape: SHAPE, ...(restored === undefined ? {} : { restored }) })
    expect(again.propose(0, request).send).toEqual([])
    expect(again.tick(60_000).send).toEqual([])
  })

  it('finding 1 after the fact: a promise at the old maximum on disk is dropped with a notice, the one before it kept', () => {
    const honest = { kind: 'acceptor', state: { epoch: 1, promised: { round: 3, proposer: thirdKey.nodeId }, accepted: null } }
    const poisoned = { kind: 'acceptor', state: { epoch: 1, promised: { round: BALLOT_ROUND_MAX, proposer: attackerKey.nodeId }, accepted: null } }
    const notices: string[] = []
    const restored = restoreAcceptors([honest, poisoned], (notice) => { notices.push(notice) }).get(1)
    expect(restored?.promised).toEqual({ round: 3, proposer: thirdKey.nodeId })
    expect(notices).toHaveLength(1)
    expect(notices[0]).toMatch(new RegExp(`acceptor record 1 of epoch 1: its ballot round ${BALLOT_ROUND_MAX} is above ${BALLOT_ROUND_WIRE_MAX}`))
    // The whole node starts from such a state dir, tells why, and can still propose.
    const node = startNode(victimKey, [honest, poisoned], 0)
    const events = node.ready().events
    expect(events).toContainEqual({ type: 'state:dropped', detail: notices[0] })
  })

  it('finding 2: an incarnation of 2^53 - 1 gossiped about a node is refused, the victim and its peers run on and restart', () => {
    const victim = new Harness(victimKey)
    const peer = new Harness(thirdKey)
    victim.receive(thirdKey, { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [] })
    const gossip = [{ nodeId: victimKey.nodeId, state: 'suspect' as const, incarnation: Number.MAX_SAFE_INTEGER }]
    const refused = peer.receive(attackerKey, { kind: 'swim/ping', seq: 1, incarnation: 0, gossip })
    expect(refused).toBeInstanceOf(CodecError)
    expect(victim.receive(attackerKey, { kind: 'swim/ack', seq: 1, incarnation: 0, gossip })).toBeInstanceOf(CodecError)
    // The largest incarnation still accepted: the victim refutes one above it, and keeps running.
    const highest = [{ nodeId: victimKey.nodeId, state: 'suspect' as const, incarnation: INCARNATION_MAX }]
    expect(victim.receive(attackerKey, { kind: 'swim/ping', seq: 2, incarnation: 0, gossip: highest })).toBeNull()
    victim.run(5_000)
    victim.restart()
    victim.run(5_000)
    expect(victim.node.nodeId).toBe(victimKey.nodeId)
  })

  it('a vote or plan entry keyed beyond the epoch or round range is refused by the ledger, and the node restarts', () => {
    const victim = new Harness(victimKey)
    const stamp = { wallMs: victim.nowMs, counter: 0 }
    const keysOutOfRange = [
      `vote/2000000000/1.${attackerKey.nodeId}/${attackerKey.nodeId}`,
      `vote/1/${BALLOT_ROUND_MAX}.${attackerKey.nodeId}/${attackerKey.nodeId}`,
      'plan/9007199254740991'
    ]
    for (const key of keysOutOfRange) {
      const entry = signEntry(keys.clusterId, { key, value: Uint8Array.of(1), stamp }, attackerKey)
      expect(victim.receive(attackerKey, { kind: 'ledger/delta', entries: [entry] })).toBeNull()
    }
    const rejected = victim.events.filter(event => event.type === 'ledger:rejected')
    expect(rejected).toHaveLength(keysOutOfRange.length)
    victim.run(1_000)
    victim.restart()
    expect(victim.node.ledgerRecords().some(record => JSON.stringify(record).includes('2000000000'))).toBe(false)
  })
})
