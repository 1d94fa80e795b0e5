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

  // RFC 8032 §7.1, TEST 2: the native signer gives the standard's bytes, and the verifier takes them.
  it('signs RFC 8032 test vector 2 byte for byte and refuses a flipped bit or a short signature', () => {
    const key = nodeKeyFromSeed(hex('4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb'))
    expect(key.publicKey).toEqual(hex('3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c'))
    const message = Uint8Array.of(0x72)
    const signature = key.sign(message)
    expect(signature).toEqual(hex('92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da' +
      '085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'))
    expect(verifyNodeSignature(key.nodeId, message, signature)).toBe(true)
    const flipped = signature.slice()
    flipped[10] = (flipped[10] ?? 0) ^ 1
    expect(verifyNodeSignature(key.nodeId, message, flipped)).toBe(false)
    expect(verifyNodeSignature(key.nodeId, message, signature.slice(0, 63))).toBe(false)
    expect(verifyNodeSignature(key.nodeId, message, new Uint8Array(64).fill(0xff))).toBe(false)
  })

  it.each(['', 'hello', 'QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N', '12D3KooW'])('refuses %j as a node id', (text) => {
    expect(isNodeId(text)).toBe(false)
    expect(() => publicKeyFromNodeId(text)).toThrow(IdentityError)
  })
})

function hex (text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'))
}
