import { utf8ToBytes } from '@noble/hashes/utils.js'
import { encodeCanonical } from '../codec.js'
import { verifyNodeSignature } from '../identity.js'
import type { NodeId, NodeKey } from '../identity.js'
import type { Stamp } from './hlc.js'

/**
 * One ledger entry: a key, its value (null is a tombstone: the key was deleted), the writer's HLC
 * stamp, the writer, and the writer's Ed25519 signature (S5). Entries are immutable values and may
 * be shared between replicas (the simulator does), so nothing here ever mutates one.
 */
export interface Entry {
  readonly key: string
  readonly value: Uint8Array | null
  readonly stamp: Stamp
  readonly writer: NodeId
  readonly signature: Uint8Array
}

/** Domain separation tag of entry signatures; bump the version if the signed fields change. */
const ENTRY_SIGNATURE_DOMAIN = 'p2pb/entry/v1'

/**
 * The bytes a writer signs. The cluster id makes an entry from another cluster (another token)
 * fail verification here, even between nodes that share a key.
 */
export function entrySigningBytes (clusterId: string, entry: Omit<Entry, 'signature'>): Uint8Array {
  return encodeCanonical([
    ENTRY_SIGNATURE_DOMAIN,
    clusterId,
    entry.key,
    entry.value,
    entry.stamp.wallMs,
    entry.stamp.counter,
    entry.writer
  ])
}

/** Signs a new entry with the local node key; the writer is the key's node id. */
export function signEntry (
  clusterId: string,
  fields: { key: string, value: Uint8Array | null, stamp: Stamp },
  nodeKey: NodeKey
): Entry {
  const unsigned = { key: fields.key, value: fields.value, stamp: { wallMs: fields.stamp.wallMs, counter: fields.stamp.counter }, writer: nodeKey.nodeId }
  return { ...unsigned, signature: nodeKey.sign(entrySigningBytes(clusterId, unsigned)) }
}

/** True if the writer signed exactly this entry for this cluster (S5). */
export function verifyEntrySignature (
  clusterId: string,
  entry: Entry,
  verify: (nodeId: NodeId, message: Uint8Array, signature: Uint8Array) => boolean = verifyNodeSignature
): boolean {
  return verify(entry.writer, entrySigningBytes(clusterId, entry), entry.signature)
}

/** Byte-wise order of two byte strings (shorter first when one is a prefix of the other). */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.byteLength, b.byteLength)
  for (let i = 0; i < length; i++) {
    const x = a[i] as number
    const y = b[i] as number
    if (x !== y) return x < y ? -1 : 1
  }
  return a.byteLength === b.byteLength ? 0 : (a.byteLength < b.byteLength ? -1 : 1)
}

/** Order of values: a tombstone (null) before any bytes. */
export function compareValues (a: Uint8Array | null, b: Uint8Array | null): number {
  if (a === null || b === null) return a === b ? 0 : (a === null ? -1 : 1)
  return compareBytes(a, b)
}

/** True if two entries are the same write (every field equal). */
export function sameEntry (a: Entry, b: Entry): boolean {
  return a.key === b.key && a.writer === b.writer &&
    a.stamp.wallMs === b.stamp.wallMs && a.stamp.counter === b.stamp.counter &&
    compareValues(a.value, b.value) === 0 && compareBytes(a.signature, b.signature) === 0
}

/** The plain, CBOR-able object of an entry (drops anything else a caller's object may carry). */
export function entryObject (entry: Entry): Entry {
  return {
    key: entry.key,
    value: entry.value,
    stamp: { wallMs: entry.stamp.wallMs, counter: entry.stamp.counter },
    writer: entry.writer,
    signature: entry.signature
  }
}

/** UTF-8 bytes of a key (keys are ASCII, but hashing goes through bytes). */
export function keyBytes (key: string): Uint8Array {
  return utf8ToBytes(key)
}
