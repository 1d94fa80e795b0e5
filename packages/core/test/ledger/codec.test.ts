// Goal: every byte string from outside either decodes to a well-formed entry, message or snapshot,
// or fails with a typed error (CodecError, SnapshotError), never another exception; and the bounds
// in limits.ts really hold for the largest entry. Method: round trips, fast-check fuzzing of random
// bytes, truncations and bit flips, and hand-made damaged snapshots.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { sha256 } from '@noble/hashes/sha2.js'
import { encodeCanonical } from '../../src/codec.js'
import { CodecError } from '../../src/errors.js'
import { ENTRY_ENCODED_BYTES_MAX, ENTRY_KEY_BYTES_MAX, ENTRY_VALUE_BYTES_MAX, FRAME_BYTES_MAX } from '../../src/limits.js'
import { decodeEntry, decodeLedgerMessage, encodeEntry, encodeLedgerMessage } from '../../src/ledger/codec.js'
import { SnapshotError } from '../../src/ledger/errors.js'
import { nodeEntryKey } from '../../src/ledger/keys.js'
import { decodeSnapshot, encodeSnapshot } from '../../src/ledger/snapshot.js'
import { alice, bob, bytesOf, entryBy } from './fixtures.js'

const sample = entryBy(alice, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('hello'), 1234, 5)
const tombstone = entryBy(bob, nodeEntryKey(bob.nodeId, 'gone'), null, 99)

function typedOrOk (decode: () => unknown, errorClass: typeof CodecError | typeof SnapshotError): void {
  try {
    decode()
  } catch (err) {
    expect(err).toBeInstanceOf(errorClass)
  }
}

describe('entry codec', () => {
  it.each([['live', sample], ['tombstone', tombstone]])('round-trips a %s entry', (_name, entry) => {
    expect(decodeEntry(encodeEntry(entry))).toEqual(entry)
  })

  it('keeps the largest possible entry within ENTRY_ENCODED_BYTES_MAX', () => {
    const key = `node/${alice.nodeId}/${'n'.repeat(ENTRY_KEY_BYTES_MAX - alice.nodeId.length - 6)}`
    expect(key.length).toBe(ENTRY_KEY_BYTES_MAX)
    const entry = entryBy(alice, key, new Uint8Array(ENTRY_VALUE_BYTES_MAX), Number.MAX_SAFE_INTEGER, 0xffff_ffff)
    expect(encodeEntry(entry).byteLength).toBeLessThanOrEqual(ENTRY_ENCODED_BYTES_MAX)
    expect(decodeEntry(encodeEntry(entry)).key).toBe(key)
  })

  it.each([
    ['unknown field', { ...sample, extra: 1 }, 'CODEC_INVALID'],
    ['short signature', { ...sample, signature: new Uint8Array(63) }, 'CODEC_INVALID'],
    ['negative wall time', { ...sample, stamp: { wallMs: -1, counter: 0 } }, 'CODEC_INVALID'],
    ['value as text', { ...sample, value: 'hello' }, 'CODEC_INVALID'],
    ['value one byte over its bound', { ...sample, value: new Uint8Array(ENTRY_VALUE_BYTES_MAX + 1) }, 'CODEC_INVALID'],
    ['encoding over the entry bound', { ...sample, value: new Uint8Array(ENTRY_ENCODED_BYTES_MAX) }, 'CODEC_OVERSIZED']
  ])('rejects an entry with %s', (_name, value, code) => {
    expect(() => decodeEntry(encodeCanonical(value))).toThrow(expect.objectContaining({ code }) as CodecError)
  })

  it('never throws anything but CodecError on random bytes, truncations or bit flips', () => {
    const encoded = encodeEntry(sample)
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 300 }),
        fc.nat(encoded.byteLength - 1).map((cut) => encoded.subarray(0, cut)),
        fc.tuple(fc.nat(encoded.byteLength - 1), fc.integer({ min: 1, max: 255 })).map(([at, mask]) => {
          const copy = encoded.slice()
          copy[at] = (copy[at] ?? 0) ^ mask
          return copy
        })
      ),
      (bytes) => { typedOrOk(() => decodeEntry(bytes), CodecError) }
    ), { numRuns: 500 })
  })
})

describe('message codec', () => {
  it('round-trips each message kind', () => {
    const messages = [
      { kind: 'ledger/delta' as const, entries: [sample, tombstone] },
      { kind: 'ledger/digest' as const, root: new Uint8Array(16) },
      { kind: 'ledger/buckets' as const, buckets: new Uint8Array(256 * 16) },
      { kind: 'ledger/summary' as const, ranges: [{ bucket: 3, after: null, through: 'node/x', items: [{ key: 'k', stamp: { wallMs: 1, counter: 0 }, writer: alice.nodeId, hash: new Uint8Array(16) }] }] },
      { kind: 'ledger/pull' as const, keys: ['a', 'b'] }
    ]
    for (const message of messages) expect(decodeLedgerMessage(encodeLedgerMessage(message))).toEqual(message)
  })

  it.each([
    ['unknown kind', { kind: 'ledger/what' }],
    ['bucket out of range', { kind: 'ledger/summary', ranges: [{ bucket: 256, after: null, through: null, items: [] }] }],
    ['short root', { kind: 'ledger/digest', root: new Uint8Array(15) }],
    ['too many pull keys', { kind: 'ledger/pull', keys: Array.from({ length: 1025 }, () => 'k') }]
  ])('rejects a message with %s', (_name, message) => {
    expect(() => decodeLedgerMessage(encodeCanonical(message))).toThrow(CodecError)
  })

  it('rejects a frame over FRAME_BYTES_MAX before parsing it', () => {
    expect(() => decodeLedgerMessage(new Uint8Array(FRAME_BYTES_MAX + 1))).toThrow(expect.objectContaining({ code: 'CODEC_OVERSIZED' }) as CodecError)
  })

  it('never throws anything but CodecError on fuzzed frames', () => {
    const frame = encodeLedgerMessage({ kind: 'ledger/delta', entries: [sample] })
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        fc.nat(frame.byteLength - 1).map((cut) => frame.subarray(0, cut)),
        fc.nat(frame.byteLength - 1).map((at) => { const copy = frame.slice(); copy[at] = (copy[at] ?? 0) ^ 0x5a; return copy })
      ),
      (bytes) => { typedOrOk(() => decodeLedgerMessage(bytes), CodecError) }
    ), { numRuns: 500 })
  })
})

describe('snapshot', () => {
  const entries = [sample, tombstone]

  it('round-trips', () => {
    expect(decodeSnapshot(encodeSnapshot(entries))).toEqual(entries)
    expect(decodeSnapshot(encodeSnapshot([]))).toEqual([])
  })

  it.each<[string, (bytes: Uint8Array) => Uint8Array, string]>([
    ['truncated to its header', (bytes) => bytes.subarray(0, 20), 'SNAPSHOT_TRUNCATED'],
    ['cut short', (bytes) => bytes.subarray(0, bytes.byteLength - 1), 'SNAPSHOT_CHECKSUM'],
    ['a flipped payload byte', (bytes) => { const copy = bytes.slice(); copy[20] = (copy[20] ?? 0) ^ 1; return copy }, 'SNAPSHOT_CHECKSUM'],
    ['another file', (bytes) => { const copy = bytes.slice(); copy[0] = 0x7b; return copy }, 'SNAPSHOT_BAD_MAGIC'],
    ['a future version', (bytes) => { const copy = bytes.slice(); copy[9] = 2; return copy }, 'SNAPSHOT_UNSUPPORTED_VERSION']
  ])('reports a snapshot with %s as %s', (_name, damage, code) => {
    expect(() => decodeSnapshot(damage(encodeSnapshot(entries)))).toThrow(expect.objectContaining({ code }) as SnapshotError)
  })

  it('reports bad contents under a valid checksum as SNAPSHOT_MALFORMED', () => {
    // Re-seal a snapshot whose payload is not an array of entries.
    const good = encodeSnapshot(entries)
    const payload = encodeCanonical(['not an entry'])
    const body = new Uint8Array(10 + payload.byteLength)
    body.set(good.subarray(0, 10))
    body.set(payload, 10)
    const resealed = new Uint8Array(body.byteLength + 32)
    resealed.set(body)
    resealed.set(sha256(body), body.byteLength)
    expect(() => decodeSnapshot(resealed)).toThrow(expect.objectContaining({ code: 'SNAPSHOT_MALFORMED' }) as SnapshotError)
  })

  it('never throws anything but SnapshotError on fuzzed snapshots', () => {
    const good = encodeSnapshot(entries)
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }),
        fc.nat(good.byteLength - 1).map((cut) => good.subarray(0, cut))
      ),
      (bytes) => { typedOrOk(() => decodeSnapshot(bytes), SnapshotError) }
    ), { numRuns: 300 })
  })
})
