// Goal: every membership message survives the wire, and anything malformed, oversized or of the
// wrong shape from a peer is refused with a typed CodecError, never a crash or a partial value.
// Method: round trips of valid messages, an it.each table of bad messages, and fast-check fuzz of
// random bytes and random CBOR values through decodeMembershipMessage.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { encodeCanonical } from '../../src/codec.js'
import { CodecError } from '../../src/errors.js'
import { nodeKeyFromSeed } from '../../src/identity.js'
import { Prng } from '../../src/prng.js'
import {
  GOSSIP_UPDATES_PER_MESSAGE_MAX, INCARNATION_MAX, MEMBERSHIP_MESSAGE_BYTES_MAX, META_BYTES_MAX, NODE_ID_CHARS_MAX, SEQ_MAX
} from '../../src/membership/limits.js'
import {
  decodeMembershipMessage, isMembershipKind, type MembershipMessage, type MemberUpdate
} from '../../src/membership/messages.js'

const nodeId = nodeKeyFromSeed(new Prng(1).bytes(32)).nodeId
const fullUpdate: MemberUpdate = { nodeId, state: 'suspect', incarnation: INCARNATION_MAX, meta: new Uint8Array(META_BYTES_MAX), by: nodeId }

const valid: MembershipMessage[] = [
  { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [] },
  { kind: 'swim/ack', seq: 7, incarnation: 3, gossip: [{ nodeId, state: 'alive', incarnation: 2, meta: Uint8Array.of(1, 2) }] },
  { kind: 'swim/ping-req', seq: 9, target: nodeId, incarnation: 1, gossip: [{ nodeId, state: 'dead', incarnation: 0 }] },
  { kind: 'swim/gossip', incarnation: 4, gossip: [{ nodeId, state: 'suspect', incarnation: 1, by: nodeId }] },
  { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: Array.from({ length: GOSSIP_UPDATES_PER_MESSAGE_MAX }, () => fullUpdate) }
]

function codeOf (run: () => unknown): string {
  try {
    run()
  } catch (err) {
    if (err instanceof CodecError) return err.code
    throw err
  }
  return 'decoded'
}

describe('membership messages', () => {
  it.each(valid.map((message) => [message.kind, message.gossip.length, message] as const))('%s with %d updates round-trips', (_kind, _count, message) => {
    const bytes = encodeCanonical(message)
    expect(bytes.byteLength).toBeLessThanOrEqual(MEMBERSHIP_MESSAGE_BYTES_MAX)
    expect(decodeMembershipMessage(bytes)).toEqual(message)
  })

  it.each<[string, unknown, string]>([
    ['an unknown kind', { kind: 'swim/hello', seq: 1, incarnation: 0, gossip: [] }, 'CODEC_INVALID'],
    ['a negative seq', { kind: 'swim/ping', seq: -1, incarnation: 0, gossip: [] }, 'CODEC_INVALID'],
    ['a fractional incarnation', { kind: 'swim/ack', seq: 1, incarnation: 0.5, gossip: [] }, 'CODEC_INVALID'],
    ['a sender incarnation above INCARNATION_MAX', { kind: 'swim/ack', seq: 1, incarnation: INCARNATION_MAX + 1, gossip: [] }, 'CODEC_INVALID'],
    ['a gossiped incarnation of 2^53 - 1', { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [{ nodeId, state: 'suspect', incarnation: Number.MAX_SAFE_INTEGER }] }, 'CODEC_INVALID'],
    ['a seq above SEQ_MAX', { kind: 'swim/ping', seq: SEQ_MAX + 1, incarnation: 0, gossip: [] }, 'CODEC_INVALID'],
    ['a missing gossip list', { kind: 'swim/ping', seq: 1, incarnation: 0 }, 'CODEC_INVALID'],
    ['an extra field', { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [], extra: 1 }, 'CODEC_INVALID'],
    ['a ping-req without target', { kind: 'swim/ping-req', seq: 1, incarnation: 0, gossip: [] }, 'CODEC_INVALID'],
    ['an empty target', { kind: 'swim/ping-req', seq: 1, target: '', incarnation: 0, gossip: [] }, 'CODEC_INVALID'],
    ['too many updates', { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: Array.from({ length: GOSSIP_UPDATES_PER_MESSAGE_MAX + 1 }, () => ({ nodeId, state: 'alive', incarnation: 0 })) }, 'CODEC_INVALID'],
    ['an unknown state', { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [{ nodeId, state: 'zombie', incarnation: 0 }] }, 'CODEC_INVALID'],
    ['an over-long node id', { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [{ nodeId: 'x'.repeat(NODE_ID_CHARS_MAX + 1), state: 'alive', incarnation: 0 }] }, 'CODEC_INVALID'],
    ['oversized meta', { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [{ nodeId, state: 'alive', incarnation: 0, meta: new Uint8Array(META_BYTES_MAX + 1) }] }, 'CODEC_INVALID'],
    ['meta as text', { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [{ nodeId, state: 'alive', incarnation: 0, meta: 'abc' }] }, 'CODEC_INVALID'],
    ['not a map', [1, 2, 3], 'CODEC_INVALID']
  ])('refuses %s', (_what, value, code) => {
    expect(codeOf(() => decodeMembershipMessage(encodeCanonical(value)))).toBe(code)
  })

  it('refuses oversized and malformed bytes before parsing', () => {
    expect(codeOf(() => decodeMembershipMessage(new Uint8Array(MEMBERSHIP_MESSAGE_BYTES_MAX + 1)))).toBe('CODEC_OVERSIZED')
    expect(codeOf(() => decodeMembershipMessage(Uint8Array.of(0xff)))).toBe('CODEC_MALFORMED')
    const truncated = encodeCanonical(valid[1]).subarray(0, 10)
    expect(codeOf(() => decodeMembershipMessage(truncated))).toBe('CODEC_MALFORMED')
  })

  it('turns random bytes into a CodecError or a valid message, never anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) => {
      expect(['decoded', 'CODEC_MALFORMED', 'CODEC_INVALID']).toContain(codeOf(() => decodeMembershipMessage(bytes)))
    }), { numRuns: 500 })
  })

  it('turns random CBOR values and mutated messages into a CodecError or a valid message', () => {
    const mutated = fc.tuple(fc.constantFrom(...valid), fc.string(), fc.anything()).map(([message, key, value]) => ({ ...message, [key]: value }))
    const values = fc.oneof(fc.jsonValue(), mutated)
    fc.assert(fc.property(values, (value) => {
      let bytes: Uint8Array
      try {
        bytes = encodeCanonical(value)
      } catch {
        return // not encodable at all (e.g. undefined): cannot reach the wire
      }
      expect(['decoded', 'CODEC_MALFORMED', 'CODEC_INVALID', 'CODEC_OVERSIZED']).toContain(codeOf(() => decodeMembershipMessage(bytes)))
    }), { numRuns: 500 })
  })

  it.each([['swim/ping', true], ['swim/ack', true], ['ledger/delta', false], ['paxos/prepare', false]])('routes %s by prefix: %s', (kind, expected) => {
    expect(isMembershipKind(kind)).toBe(expected)
  })
})
