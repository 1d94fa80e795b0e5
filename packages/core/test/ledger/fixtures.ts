// Shared fixtures of the ledger tests: deterministic node keys, a toy decision validator and a
// replica factory. The validator stands in for consensus: a decision is valid when its value says
// so, and plan e > 1 waits ('defer') until plan e-1 is held, as the real one will.
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { nodeKeyFromSeed } from '../../src/identity.js'
import { Prng } from '../../src/prng.js'
import { LedgerReplica } from '../../src/ledger/replica.js'
import { SignatureCache } from '../../src/ledger/signature-cache.js'
import { signEntry } from '../../src/ledger/entry.js'
import { encodeEntry } from '../../src/ledger/codec.js'
import type { NodeKey } from '../../src/identity.js'
import type { DecisionValidator, LedgerReplicaInit } from '../../src/ledger/replica.js'
import type { Entry } from '../../src/ledger/entry.js'

export const CLUSTER_ID = 'cluster-test'
export const OTHER_CLUSTER_ID = 'cluster-other'
export const SKEW_MS = 60_000

export function testKey (seed: number): NodeKey {
  return nodeKeyFromSeed(new Prng(seed).bytes(32))
}

export const alice = testKey(1)
export const bob = testKey(2)
export const carol = testKey(3)

export const validDecision = (text: string): Uint8Array => utf8ToBytes(`valid:${text}`)
export const invalidDecision = (): Uint8Array => utf8ToBytes('invalid')

export const toyValidator: DecisionValidator = (key, value, lookup) => {
  const text = new TextDecoder().decode(value)
  if (!text.startsWith('valid:')) return { invalid: 'no quorum certificate' }
  const epoch = Number(key.split('/')[1])
  if (epoch > 1 && lookup(`plan/${epoch - 1}`) === undefined) return 'defer'
  return 'valid'
}

export function makeReplica (overrides: Partial<LedgerReplicaInit> = {}): LedgerReplica {
  return new LedgerReplica({ clusterId: CLUSTER_ID, validateDecision: toyValidator, maxClockSkewMs: SKEW_MS, ...overrides })
}

export function entryBy (key: NodeKey, entryKey: string, value: Uint8Array | null, wallMs: number, counter = 0, clusterId = CLUSTER_ID): Entry {
  return signEntry(clusterId, { key: entryKey, value, stamp: { wallMs, counter } }, key)
}

export function bytesOf (text: string): Uint8Array {
  return utf8ToBytes(text)
}

/** The canonical dump of a replica: its held entries in key order, encoded, as hex. */
export function dump (replica: LedgerReplica): string[] {
  return replica.entries().map((entry) => Buffer.from(encodeEntry(entry)).toString('hex'))
}

export { SignatureCache }
