// Goal: consensus wire messages survive the canonical codec unchanged, and strict decoding refuses
// anything malformed, oversized or of the wrong shape. Method: a round-trip table of one message
// per kind, then a table of broken messages that must fail with a CodecError.
import { describe, expect, it } from 'vitest'
import { decodeStrict, encodeCanonical } from '../../src/codec.js'
import { CodecError } from '../../src/errors.js'
import { consensusMessageSchema } from '../../src/consensus/messages.js'
import { MESSAGE_BYTES_MAX, VALUE_BYTES_MAX } from '../../src/consensus/limits.js'
import { idAt } from './fixtures.js'

/** The cluster shape every proposer and acceptor of these tests holds. */
const SHAPE = { expect: 3, controlPlanes: 1 }

const ballot = { round: 3, proposer: idAt(0) }
const hash = new Uint8Array(32).fill(7)
const signature = new Uint8Array(64).fill(9)
const decode = (bytes: Uint8Array): unknown => decodeStrict(bytes, consensusMessageSchema, { maxBytes: MESSAGE_BYTES_MAX, what: 'consensus message' })

describe('consensus messages', () => {
  it.each([
    { kind: 'paxos/prepare', epoch: 1, ballot, shape: SHAPE },
    { kind: 'paxos/promise', epoch: 1, ballot, accepted: null },
    { kind: 'paxos/promise', epoch: 2, ballot, accepted: { ballot: { round: 1, proposer: idAt(1) }, value: Uint8Array.of(1, 2) } },
    { kind: 'paxos/accept', epoch: 1, ballot, value: Uint8Array.of(1, 2, 3), shape: SHAPE },
    { kind: 'paxos/accepted', epoch: 1, ballot, valueHash: hash, signature },
    { kind: 'paxos/nack', epoch: 1, ballot, promised: { round: 4, proposer: idAt(1) } },
    { kind: 'paxos/decided', epoch: 1, decision: Uint8Array.of(5) }
  ])('round-trips $kind', (message) => {
    expect(decode(encodeCanonical(message))).toEqual(message)
  })

  it.each<[string, unknown]>([
    ['an unknown kind', { kind: 'paxos/commit', epoch: 1, ballot }],
    ['epoch 0', { kind: 'paxos/prepare', epoch: 0, ballot, shape: SHAPE }],
    ['round 0', { kind: 'paxos/prepare', epoch: 1, ballot: { round: 0, proposer: idAt(0) }, shape: SHAPE }],
    ['a fractional round', { kind: 'paxos/prepare', epoch: 1, ballot: { round: 1.5, proposer: idAt(0) }, shape: SHAPE }],
    ['an extra field', { kind: 'paxos/prepare', epoch: 1, ballot, shape: SHAPE, note: 'x' }],
    ['a prepare without the proposer\'s shape', { kind: 'paxos/prepare', epoch: 1, ballot }],
    ['a shape with 9 control planes', { kind: 'paxos/prepare', epoch: 1, ballot, shape: { controlPlanes: 9 } }],
    ['a short value hash', { kind: 'paxos/accepted', epoch: 1, ballot, valueHash: new Uint8Array(31), signature }],
    ['a long node id', { kind: 'paxos/prepare', epoch: 1, ballot: { round: 1, proposer: 'x'.repeat(200) }, shape: SHAPE }],
    ['an oversized value', { kind: 'paxos/accept', epoch: 1, ballot, value: new Uint8Array(VALUE_BYTES_MAX + 1), shape: SHAPE }]
  ])('refuses %s', (_name, message) => {
    expect(() => decode(encodeCanonical(message))).toThrow(CodecError)
  })

  it('refuses a frame over MESSAGE_BYTES_MAX before parsing it', () => {
    expect(() => decode(new Uint8Array(MESSAGE_BYTES_MAX + 1))).toThrow(/over the limit/)
  })
})
