/**
 * The content id a rendezvous slot is provided under: CID v1, raw codec, sha256 multihash of the
 * slot's key. Hashing hides the key itself from DHT nodes that store the provider record; the key
 * comes from the token, so outsiders can neither compute nor look up the CID.
 */
import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { create as createDigest } from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { assert } from '@p2p-bootstrap/core'

/** The core's rendezvous keys are 32 bytes; anything else is a wiring mistake. */
const RENDEZVOUS_KEY_BYTES = 32

export function rendezvousCid (key: Uint8Array): CID {
  assert(key.byteLength === RENDEZVOUS_KEY_BYTES, 'a rendezvous key is 32 bytes (deriveKeys(token).rendezvousKey)')
  const digest = createDigest(sha256.code, new Uint8Array(createHash('sha256').update(key).digest()))
  return CID.createV1(raw.code, digest)
}
