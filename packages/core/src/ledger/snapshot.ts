import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { z } from 'zod'
import { decodeStrict, encodeCanonical } from '../codec.js'
import { CodecError } from '../errors.js'
import { ENTRY_ENCODED_BYTES_MAX, LEDGER_ENTRIES_MAX, SNAPSHOT_BYTES_MAX } from '../limits.js'
import { compareBytes } from './entry.js'
import { decodeEntry, encodeEntry } from './codec.js'
import { SnapshotError } from './errors.js'
import type { Entry } from './entry.js'

/**
 * The ledger snapshot file of the state dir:
 *
 *   magic "P2PBLDGR" (8 bytes) | version (u16, big-endian) | payload | SHA-256 of all before it
 *
 * The payload is a canonical CBOR array of encoded entries. Entries are re-verified when merged
 * back, so a snapshot is trusted for nothing but convenience: a damaged one is reported and the
 * ledger is re-fetched from peers.
 */
const SNAPSHOT_MAGIC = utf8ToBytes('P2PBLDGR')
const SNAPSHOT_VERSION = 1
const VERSION_BYTES = 2
const CHECKSUM_BYTES = 32
const HEADER_BYTES = SNAPSHOT_MAGIC.byteLength + VERSION_BYTES

const payloadSchema = z.array(
  z.instanceof(Uint8Array).refine((bytes) => bytes.byteLength <= ENTRY_ENCODED_BYTES_MAX, `an entry is at most ${ENTRY_ENCODED_BYTES_MAX} bytes`)
).max(LEDGER_ENTRIES_MAX)

export function encodeSnapshot (entries: readonly Entry[]): Uint8Array {
  const payload = encodeCanonical(entries.map(encodeEntry))
  const out = new Uint8Array(HEADER_BYTES + payload.byteLength + CHECKSUM_BYTES)
  out.set(SNAPSHOT_MAGIC)
  new DataView(out.buffer).setUint16(SNAPSHOT_MAGIC.byteLength, SNAPSHOT_VERSION)
  out.set(payload, HEADER_BYTES)
  out.set(sha256(out.subarray(0, HEADER_BYTES + payload.byteLength)), HEADER_BYTES + payload.byteLength)
  return out
}

/** Reads a snapshot; throws `SnapshotError` naming the problem for anything damaged or foreign. */
export function decodeSnapshot (bytes: Uint8Array): Entry[] {
  if (bytes.byteLength > SNAPSHOT_BYTES_MAX) {
    throw new SnapshotError('SNAPSHOT_OVERSIZED', `ledger snapshot is ${bytes.byteLength} bytes, over the limit of ${SNAPSHOT_BYTES_MAX}: delete it, peers will resend the ledger`)
  }
  if (bytes.byteLength < HEADER_BYTES + CHECKSUM_BYTES) {
    throw new SnapshotError('SNAPSHOT_TRUNCATED', `ledger snapshot is only ${bytes.byteLength} bytes: it was cut short; delete it, peers will resend the ledger`)
  }
  if (compareBytes(bytes.subarray(0, SNAPSHOT_MAGIC.byteLength), SNAPSHOT_MAGIC) !== 0) {
    throw new SnapshotError('SNAPSHOT_BAD_MAGIC', 'file is not a p2p-bootstrap ledger snapshot (bad magic): check the state dir path')
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint16(SNAPSHOT_MAGIC.byteLength)
  if (version !== SNAPSHOT_VERSION) {
    throw new SnapshotError('SNAPSHOT_UNSUPPORTED_VERSION', `ledger snapshot version ${version} is not supported (this build reads ${SNAPSHOT_VERSION}): upgrade p2p-bootstrap or delete the snapshot`)
  }
  const bodyEnd = bytes.byteLength - CHECKSUM_BYTES
  if (compareBytes(sha256(bytes.subarray(0, bodyEnd)), bytes.subarray(bodyEnd)) !== 0) {
    throw new SnapshotError('SNAPSHOT_CHECKSUM', 'ledger snapshot is damaged (checksum mismatch): delete it, peers will resend the ledger')
  }
  try {
    const encoded = decodeStrict(bytes.subarray(HEADER_BYTES, bodyEnd), payloadSchema, { maxBytes: SNAPSHOT_BYTES_MAX, what: 'ledger snapshot payload' })
    return encoded.map(decodeEntry)
  } catch (err) {
    if (!(err instanceof CodecError)) throw err
    throw new SnapshotError('SNAPSHOT_MALFORMED', `ledger snapshot has a valid checksum but bad contents (${err.message}): delete it, peers will resend the ledger`, { cause: err })
  }
}
