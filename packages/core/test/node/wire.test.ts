// Goal: every frame a node receives is decoded strictly: a well-formed message of each module
// round-trips, and garbage, truncations, oversized frames and messages of the wrong shape are
// refused with a typed CodecError, never another exception. Method: encode real messages, then
// mutate them (random bytes, truncation, wrong fields) and decode.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CodecError } from '../../src/errors.js'
import { FRAME_BYTES_MAX } from '../../src/limits.js'
import { decodeWireMessage, encodeWireMessage } from '../../src/node/wire.js'
import type { CoreMessage } from '../../src/node/wire.js'
import { encodeCanonical } from '../../src/codec.js'
import { nodeKeyFromSeed } from '../../src/identity.js'
import { Prng } from '../../src/prng.js'

/** The cluster shape every proposer and acceptor of these tests holds. */
const SHAPE = { expect: 3, controlPlanes: 1 }

const proposer = nodeKeyFromSeed(new Prng(1).bytes(32)).nodeId

const samples: CoreMessage[] = [
  { kind: 'paxos/prepare', epoch: 1, ballot: { round: 1, proposer }, shape: SHAPE },
  { kind: 'paxos/accept', epoch: 1, ballot: { round: 2, proposer }, value: Uint8Array.of(1, 2, 3), shape: SHAPE },
  { kind: 'ledger/digest', root: new Uint8Array(16).fill(7) }
]

function isCodecError (run: () => unknown): boolean {
  try {
    run()
    return false
  } catch (err) {
    if (err instanceof CodecError) return true
    throw err
  }
}

describe('wire codec', () => {
  it.each(samples.map(message => [message.kind, message] as const))('round-trips %s', (_kind, message) => {
    expect(decodeWireMessage(encodeWireMessage(message))).toEqual(message)
  })

  it.each([
    ['an unknown kind', { kind: 'gossip/everything', payload: 1 }],
    ['a paxos message without its ballot', { kind: 'paxos/prepare', epoch: 1 }],
    ['a ledger message with a wrong field type', { kind: 'ledger/digest', root: 'not bytes' }],
    ['a message with an extra field', { kind: 'paxos/prepare', epoch: 1, ballot: { round: 1, proposer }, extra: true }],
    ['a value that is not a map', [1, 2, 3]]
  ])('refuses %s with a CodecError', (_what, value) => {
    expect(isCodecError(() => decodeWireMessage(encodeCanonical(value)))).toBe(true)
  })

  it('refuses an oversized frame before parsing it', () => {
    const frame = new Uint8Array(FRAME_BYTES_MAX + 1)
    expect(() => decodeWireMessage(frame)).toThrow(/over the limit/)
  })

  it('refuses random bytes and every truncation of a valid frame with a CodecError only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      try {
        decodeWireMessage(bytes)
      } catch (err) {
        if (!(err instanceof CodecError)) throw err
      }
    }), { numRuns: 500 })
    for (const message of samples) {
      const bytes = encodeWireMessage(message)
      for (let length = 0; length < bytes.byteLength; length++) {
        expect(isCodecError(() => decodeWireMessage(bytes.subarray(0, length)))).toBe(true)
      }
    }
  })
})
