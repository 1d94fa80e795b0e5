// Goal: node ids are libp2p Ed25519 peer ids, so a signature can be checked from the id alone,
// and anything that is not such an id is refused with a typed error.
import { describe, expect, it } from 'vitest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { generateKeyPairFromSeed } from '@libp2p/crypto/keys'
import { IdentityError } from '../src/errors.js'
import { isNodeId, nodeKeyFromSeed, publicKeyFromNodeId, verifyNodeSignature } from '../src/identity.js'

const seed = Uint8Array.from({ length: 32 }, (_, i) => i + 1)

describe('identity', () => {
  it('derives the same id as libp2p for the same Ed25519 seed', async () => {
    const key = nodeKeyFromSeed(seed)
    const libp2pKey = await generateKeyPairFromSeed('Ed25519', seed)
    expect(key.nodeId).toBe(peerIdFromPrivateKey(libp2pKey).toString())
    expect(key.nodeId.startsWith('12D3KooW')).toBe(true)
    expect(publicKeyFromNodeId(key.nodeId)).toEqual(key.publicKey)
  })

  it('verifies a signature from the id and rejects a changed message or signer', () => {
    const key = nodeKeyFromSeed(seed)
    const other = nodeKeyFromSeed(new Uint8Array(32).fill(9))
    const message = Uint8Array.of(1, 2, 3)
    const signature = key.sign(message)
    expect(verifyNodeSignature(key.nodeId, message, signature)).toBe(true)
    expect(verifyNodeSignature(key.nodeId, Uint8Array.of(1, 2, 4), signature)).toBe(false)
    expect(verifyNodeSignature(other.nodeId, message, signature)).toBe(false)
    expect(verifyNodeSignature('not-a-node-id', message, signature)).toBe(false)
  })

  it.each(['', 'hello', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', '12D3KooW'])('refuses %j as a node id', (text) => {
    expect(isNodeId(text)).toBe(false)
    expect(() => publicKeyFromNodeId(text)).toThrow(IdentityError)
  })
})
