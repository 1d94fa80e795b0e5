// Goal: checking signatures costs a misbehaving peer its own budget, not the node's event loop.
// Finding reproduced: a 1 MB `ledger/delta` of 4,000 entries with random signatures blocked a node
// for about 5 s. Method: a victim node with a counting signature verifier receives, through the
// wire codec, deltas of entries the attacker owns (so every cheap check passes) with random
// signatures. At most BAD_SIGNATURES_PER_MESSAGE_MAX are verified per message; past
// BAD_SIGNATURES_PER_PEER_MAX in a window the peer is penalised (one `peer:misbehaving` event) and
// its messages are not verified at all until the penalty ends; then a good entry is accepted.
import { describe, expect, it } from 'vitest'
import {
  BAD_SIGNATURES_PER_MESSAGE_MAX, BAD_SIGNATURES_PER_PEER_MAX, PEER_PENALTY_MS, Prng,
  decodeWireMessage, encodeWireMessage, nodeKeyFromSeed, signEntry, verifyNodeSignature
} from '../../src/index.js'
import type { CoreEvent, CoreMessage, CoreNodeMachine, Entry } from '../../src/index.js'
import { keys, testNode } from './fixture.js'

const victimKey = nodeKeyFromSeed(new Prng(31).bytes(32))
const attackerKey = nodeKeyFromSeed(new Prng(32).bytes(32))
const START_MS = 1_760_000_000_000
const ENTRIES_PER_DELTA = 40

describe('bad signatures from a token holder', () => {
  it('are verified a few per message, then the peer is penalised and not verified at all', () => {
    let verifications = 0
    const prng = new Prng(3)
    const node: CoreNodeMachine = testNode({
      key: victimKey,
      prng,
      nowMs: START_MS,
      verify: (nodeId, message, signature) => { verifications++; return verifyNodeSignature(nodeId, message, signature) }
    })
    const events: CoreEvent[] = []
    const flush = (): void => { const ready = node.ready(); events.push(...ready.events); node.advance(ready) }
    flush()
    let nowMs = START_MS
    let serial = 0
    const forged = (): Entry => ({
      key: `node/${attackerKey.nodeId}/junk-${serial++}`,
      value: Uint8Array.of(1),
      stamp: { wallMs: nowMs, counter: 0 },
      writer: attackerKey.nodeId,
      signature: prng.bytes(64)
    })
    const deliver = (message: CoreMessage): void => {
      node.step({ from: attackerKey.nodeId, to: victimKey.nodeId, message: decodeWireMessage(encodeWireMessage(message)) }, nowMs)
      flush()
    }

    const messagesToPenalty = Math.ceil((BAD_SIGNATURES_PER_PEER_MAX + 1) / BAD_SIGNATURES_PER_MESSAGE_MAX)
    for (let index = 0; index < messagesToPenalty; index++) {
      const before = verifications
      deliver({ kind: 'ledger/delta', entries: Array.from({ length: ENTRIES_PER_DELTA }, forged) })
      expect(verifications - before).toBeLessThanOrEqual(BAD_SIGNATURES_PER_MESSAGE_MAX)
    }
    const penalties = events.filter(event => event.type === 'peer:misbehaving')
    expect(penalties).toEqual([{ type: 'peer:misbehaving', peer: attackerKey.nodeId, reason: expect.stringMatching(/bad signatures/), untilMs: nowMs + PEER_PENALTY_MS }])

    // Penalised: nothing it sends is verified, reported or kept, good entries included.
    const reportedBefore = events.length
    const verifiedBefore = verifications
    const good = signEntry(keys.clusterId, { key: `node/${attackerKey.nodeId}/status`, value: Uint8Array.of(7), stamp: { wallMs: nowMs, counter: 0 } }, attackerKey)
    for (let index = 0; index < 10; index++) deliver({ kind: 'ledger/delta', entries: Array.from({ length: ENTRIES_PER_DELTA }, forged) })
    deliver({ kind: 'ledger/delta', entries: [good] })
    expect(verifications).toBe(verifiedBefore)
    expect(events.length).toBe(reportedBefore)
    expect(node.lookup(good.key)).toBeUndefined()

    // After the penalty it is heard again.
    nowMs += PEER_PENALTY_MS
    node.tick(nowMs)
    flush()
    const later = signEntry(keys.clusterId, { key: `node/${attackerKey.nodeId}/status`, value: Uint8Array.of(8), stamp: { wallMs: nowMs, counter: 0 } }, attackerKey)
    deliver({ kind: 'ledger/delta', entries: [later] })
    expect(node.lookup(later.key)).toEqual(Uint8Array.of(8))
  })
})
