import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { assert } from '../assert.js'
import { equalBytes } from './bytes.js'
import { encodeCanonical } from '../codec.js'
import { verifyNodeSignature } from '../identity.js'
import type { NodeId, NodeKey } from '../identity.js'
import type { Ballot } from './ballot.js'
import { VALUE_HASH_BYTES, VERIFY_CACHE_ENTRIES_DEFAULT } from './limits.js'

/** Domain tag of the accept statement; a new version of the statement gets a new tag. */
export const ACCEPT_STATEMENT_TAG = 'p2pb/accept/v1'

/** Checks a signature by `nodeId`; `verifyNodeSignature` or a cache in front of it. */
export type SignatureVerifier = (nodeId: NodeId, message: Uint8Array, signature: Uint8Array) => boolean

/** SHA-256 of a proposed value: what voters sign and certificates name. */
export function valueHashOf (value: Uint8Array): Uint8Array {
  return sha256(value)
}

/**
 * The bytes a voter signs when it accepts `valueHash` at `ballot` in `epoch`. The cluster id
 * domain-separates clusters, so a vote from one cluster never counts in another.
 */
export function acceptStatement (clusterId: string, epoch: number, ballot: Ballot, valueHash: Uint8Array): Uint8Array {
  assert(valueHash.byteLength === VALUE_HASH_BYTES, 'an accept statement names a SHA-256 value hash')
  return encodeCanonical([ACCEPT_STATEMENT_TAG, clusterId, epoch, ballot.round, ballot.proposer, valueHash])
}

/** Signs the accept statement with the voter's node key. */
export function signAccept (key: NodeKey, clusterId: string, epoch: number, ballot: Ballot, valueHash: Uint8Array): Uint8Array {
  return key.sign(acceptStatement(clusterId, epoch, ballot, valueHash))
}

/** Checks that `voter` signed the accept statement. */
export function verifyAccept (
  voter: NodeId, clusterId: string, epoch: number, ballot: Ballot, valueHash: Uint8Array, signature: Uint8Array,
  verify: SignatureVerifier = verifyNodeSignature
): boolean {
  if (valueHash.byteLength !== VALUE_HASH_BYTES) return false
  return verify(voter, acceptStatement(clusterId, epoch, ballot, valueHash), signature)
}

/**
 * A verifier that remembers its last `capacity` answers. Ed25519 verification costs about 0.4 ms,
 * and the same votes are checked again on every certificate that carries them; the answer for the
 * same (signer, message, signature) never changes, so caching it is deterministic. Answers are
 * found by signer and signature and kept with their message, which must match byte for byte: a
 * known signature never vouches for other content.
 */
export function cachedSignatureVerifier (
  capacity: number = VERIFY_CACHE_ENTRIES_DEFAULT,
  verify: SignatureVerifier = verifyNodeSignature
): SignatureVerifier {
  assert(Number.isSafeInteger(capacity) && capacity > 0, 'a verification cache holds at least one entry')
  const answers = new Map<string, { readonly message: Uint8Array, readonly answer: boolean }>()
  return (nodeId, message, signature) => {
    const cacheKey = `${nodeId}/${bytesToHex(signature)}`
    const known = answers.get(cacheKey)
    if (known !== undefined && equalBytes(known.message, message)) return known.answer
    const answer = verify(nodeId, message, signature)
    if (known === undefined && answers.size >= capacity) {
      // Map keeps insertion order: the first key is the oldest answer.
      const oldest = answers.keys().next()
      if (oldest.done !== true) answers.delete(oldest.value)
    }
    answers.set(cacheKey, { message: message.slice(), answer })
    return answer
  }
}
