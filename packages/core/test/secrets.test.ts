// Goal: the k3s tokens are generated once from injected entropy, reach only the nodes meant to
// read them, and never change (S3). Method: round trips through every box and the plan secrets
// with seeded entropy and real node keys; every way a box can be wrong (another key, a changed
// byte, a truncation, a foreign token) must give a SecretsError with the code that names it.
import { createHash } from 'node:crypto'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nodeIdFromPublicKey, nodeKeyFromSeed } from '../src/identity.js'
import type { NodeKey } from '../src/identity.js'
import { Prng } from '../src/prng.js'
import { SecretsError } from '../src/secrets/errors.js'
import type { SecretsErrorCode } from '../src/secrets/errors.js'
import {
  clusterTokenHash, generateClusterSecrets, isClusterToken, openAgentToken, openAsNode, openServerToken,
  openWithKey, resealServerToken, sealPlanSecrets, sealToNode, sealWithKey,
  SEALED_AGENT_TOKEN_BYTES, SEALED_PLAINTEXT_BYTES_MAX, SEALED_SERVER_TOKEN_BYTES
} from '../src/secrets/index.js'

const seededEntropy = (seed: number): ((length: number) => Uint8Array) => {
  const prng = new Prng(seed)
  return (length) => prng.bytes(length)
}
const keyOf = (seed: number): NodeKey => nodeKeyFromSeed(new Prng(seed).bytes(32))
const [alpha, bravo, charlie, delta] = [keyOf(1), keyOf(2), keyOf(3), keyOf(4)] as [NodeKey, NodeKey, NodeKey, NodeKey]
const sealingKey = new Prng(100).bytes(32)
const otherSealingKey = new Prng(101).bytes(32)

function expectSecretsError (run: () => unknown, code: SecretsErrorCode): void {
  let caught: unknown
  try {
    run()
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(SecretsError)
  expect((caught as SecretsError).code).toBe(code)
}

function flipByte (bytes: Uint8Array, index: number): Uint8Array {
  const copy = bytes.slice()
  copy[index] = (copy[index] ?? 0) ^ 0x01
  return copy
}

describe('cluster tokens', () => {
  it('are 64 hex characters from 32 bytes each, independent, and replay for the same seed', () => {
    const first = generateClusterSecrets(seededEntropy(7))
    expect(isClusterToken(first.serverToken)).toBe(true)
    expect(isClusterToken(first.agentToken)).toBe(true)
    expect(first.serverToken).not.toBe(first.agentToken)
    expect(generateClusterSecrets(seededEntropy(7))).toEqual(first)
    expect(generateClusterSecrets(seededEntropy(8)).serverToken).not.toBe(first.serverToken)
  })

  it('hash as hex SHA-256 of the token text, stable across calls', () => {
    const token = 'ab'.repeat(32)
    expect(clusterTokenHash(token)).toBe(createHash('sha256').update(token).digest('hex'))
    expect(clusterTokenHash(token)).toBe(clusterTokenHash(token))
  })

  it('refuse an entropy source that repeats itself', () => {
    expect(() => generateClusterSecrets((length) => new Uint8Array(length))).toThrow(/independent/)
  })
})

describe('sealed box to a node', () => {
  const plaintext = utf8ToBytes('the server token')

  it('opens for its recipient only, with X25519 keys taken from the Ed25519 identity', () => {
    const sealed = sealToNode(alpha.nodeId, plaintext, seededEntropy(1))
    expect(openAsNode(alpha, sealed)).toEqual(plaintext)
    expectSecretsError(() => openAsNode(bravo, sealed), 'SECRETS_WRONG_KEY')
    const ephemeral = new Prng(5).bytes(32)
    expect(alpha.x25519SharedSecret(x25519.getPublicKey(ephemeral)))
      .toEqual(x25519.getSharedSecret(ephemeral, ed25519.utils.toMontgomery(alpha.publicKey)))
  })

  it('differs on every sealing of the same plaintext (fresh ephemeral key)', () => {
    const entropy = seededEntropy(2)
    expect(sealToNode(alpha.nodeId, plaintext, entropy)).not.toEqual(sealToNode(alpha.nodeId, plaintext, entropy))
  })

  it('detects any changed byte', () => {
    const sealed = sealToNode(alpha.nodeId, plaintext, seededEntropy(3))
    fc.assert(fc.property(fc.integer({ min: 0, max: sealed.byteLength - 1 }), (index) => {
      expect(() => openAsNode(alpha, flipByte(sealed, index))).toThrow(SecretsError)
    }), { numRuns: 60 })
    expectSecretsError(() => openAsNode(alpha, flipByte(sealed, sealed.byteLength - 1)), 'SECRETS_DAMAGED')
    expectSecretsError(() => openAsNode(alpha, flipByte(sealed, 10)), 'SECRETS_DAMAGED') // the ephemeral key
    expectSecretsError(() => openAsNode(alpha, flipByte(sealed, 0)), 'SECRETS_MALFORMED')
  })

  it.each([
    ['empty', 0],
    ['header only', 37],
    ['one byte short of a tag', 52]
  ])('refuses a truncated box (%s)', (_title, length) => {
    const sealed = sealToNode(alpha.nodeId, plaintext, seededEntropy(4))
    expectSecretsError(() => openAsNode(alpha, sealed.subarray(0, length)), 'SECRETS_MALFORMED')
  })

  it('refuses a recipient that is no node id, and an oversized plaintext', () => {
    expectSecretsError(() => sealToNode('not-a-node', plaintext, seededEntropy(5)), 'SECRETS_BAD_RECIPIENT')
    expectSecretsError(() => sealToNode(alpha.nodeId, new Uint8Array(SEALED_PLAINTEXT_BYTES_MAX + 1), seededEntropy(5)), 'SECRETS_OVERSIZED')
  })

  it('refuses a node id whose key is no curve point', () => {
    // Find a 32-byte string that is not an Ed25519 point (about half of them are not).
    const prng = new Prng(9)
    let bytes = prng.bytes(32)
    for (let tries = 0; tries < 64 && isPoint(bytes); tries++) bytes = prng.bytes(32)
    expect(isPoint(bytes)).toBe(false)
    expectSecretsError(() => sealToNode(nodeIdFromPublicKey(bytes), plaintext, seededEntropy(6)), 'SECRETS_BAD_RECIPIENT')
  })
})

function isPoint (bytes: Uint8Array): boolean {
  try {
    ed25519.Point.fromBytes(bytes)
    return true
  } catch {
    return false
  }
}

describe('box under the sealing key', () => {
  const plaintext = utf8ToBytes('the agent token')

  it('opens with the same key only', () => {
    const sealed = sealWithKey(sealingKey, plaintext, seededEntropy(10))
    expect(openWithKey(sealingKey, sealed)).toEqual(plaintext)
    expectSecretsError(() => openWithKey(otherSealingKey, sealed), 'SECRETS_WRONG_KEY')
  })

  it('detects any changed byte', () => {
    const sealed = sealWithKey(sealingKey, plaintext, seededEntropy(11))
    fc.assert(fc.property(fc.integer({ min: 0, max: sealed.byteLength - 1 }), (index) => {
      expect(() => openWithKey(sealingKey, flipByte(sealed, index))).toThrow(SecretsError)
    }), { numRuns: 60 })
    expectSecretsError(() => openWithKey(sealingKey, flipByte(sealed, 8)), 'SECRETS_DAMAGED') // the nonce
  })

  it('cannot be taken for a node box, nor a node box for it', () => {
    const keyBox = sealWithKey(sealingKey, plaintext, seededEntropy(12))
    const nodeBox = sealToNode(alpha.nodeId, plaintext, seededEntropy(12))
    expectSecretsError(() => openAsNode(alpha, keyBox), 'SECRETS_MALFORMED')
    expectSecretsError(() => openWithKey(sealingKey, nodeBox), 'SECRETS_MALFORMED')
  })

  it.each([0, 16, 31, 33])('refuses a sealing key of %d bytes', (length) => {
    expectSecretsError(() => sealWithKey(new Uint8Array(length), plaintext, seededEntropy(13)), 'SECRETS_BAD_KEY')
  })
})

describe('plan secrets', () => {
  const tokens = generateClusterSecrets(seededEntropy(20))
  const controlPlanes = [alpha.nodeId, bravo.nodeId, charlie.nodeId]
  const secrets = sealPlanSecrets({ ...tokens, controlPlanes, sealingKey, entropy: seededEntropy(21) })

  it('commit the token hashes and seal boxes of the exact sizes the plan schema expects', () => {
    expect(secrets.serverTokenHash).toBe(clusterTokenHash(tokens.serverToken))
    expect(secrets.agentTokenHash).toBe(clusterTokenHash(tokens.agentToken))
    expect(Object.keys(secrets.serverTokenSealed).sort()).toEqual([...controlPlanes].sort())
    for (const box of Object.values(secrets.serverTokenSealed)) expect(box.byteLength).toBe(SEALED_SERVER_TOKEN_BYTES)
    expect(secrets.agentTokenSealed.byteLength).toBe(SEALED_AGENT_TOKEN_BYTES)
  })

  it('give every control plane the server token and every member the agent token', () => {
    for (const key of [alpha, bravo, charlie]) expect(openServerToken(secrets, key)).toBe(tokens.serverToken)
    expect(openAgentToken(secrets, sealingKey)).toBe(tokens.agentToken)
    expectSecretsError(() => openAgentToken(secrets, otherSealingKey), 'SECRETS_WRONG_KEY')
  })

  it('never give a worker the server token, even holding a control plane\'s box', () => {
    expectSecretsError(() => openServerToken(secrets, delta), 'SECRETS_NOT_RECIPIENT')
    const stolen = { ...secrets, serverTokenSealed: { ...secrets.serverTokenSealed, [delta.nodeId]: secrets.serverTokenSealed[alpha.nodeId] ?? new Uint8Array() } }
    expectSecretsError(() => openServerToken(stolen, delta), 'SECRETS_WRONG_KEY')
  })

  it('refuse a token that does not match the committed hash (S3)', () => {
    const other = generateClusterSecrets(seededEntropy(22))
    const swapped = { ...secrets, agentTokenHash: clusterTokenHash(other.agentToken), serverTokenHash: clusterTokenHash(other.serverToken) }
    expectSecretsError(() => openAgentToken(swapped, sealingKey), 'SECRETS_HASH_MISMATCH')
    expectSecretsError(() => openServerToken(swapped, alpha), 'SECRETS_HASH_MISMATCH')
    expectSecretsError(() => resealServerToken(secrets, other.serverToken, controlPlanes, seededEntropy(23)), 'SECRETS_HASH_MISMATCH')
  })

  it('refuse tokens that are not cluster tokens', () => {
    expectSecretsError(() => sealPlanSecrets({ ...tokens, serverToken: 'secret', controlPlanes, sealingKey, entropy: seededEntropy(24) }), 'SECRETS_BAD_TOKEN')
  })

  it('reseal the same server token to a new control-plane set, keeping hashes and kept boxes (S3)', () => {
    const next = resealServerToken(secrets, tokens.serverToken, [bravo.nodeId, delta.nodeId, charlie.nodeId], seededEntropy(25))
    expect(next.serverTokenHash).toBe(secrets.serverTokenHash)
    expect(next.agentTokenHash).toBe(secrets.agentTokenHash)
    expect(next.agentTokenSealed).toBe(secrets.agentTokenSealed)
    expect(next.serverTokenSealed[bravo.nodeId]).toBe(secrets.serverTokenSealed[bravo.nodeId])
    expect(openServerToken(next, delta)).toBe(tokens.serverToken)
    expectSecretsError(() => openServerToken(next, alpha), 'SECRETS_NOT_RECIPIENT')
  })

  it('seal the same boxes whatever the order of the control planes', () => {
    const reordered = sealPlanSecrets({ ...tokens, controlPlanes: [...controlPlanes].reverse(), sealingKey, entropy: seededEntropy(21) })
    expect(reordered).toEqual(secrets)
  })
})
