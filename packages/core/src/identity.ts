import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { base58btc } from './base58.js'
import { ed25519KeyPair, ed25519Sign, ed25519Verify } from './ed25519.js'
import { IdentityError } from './errors.js'

/**
 * A node id is the libp2p peer id string of the node's Ed25519 key ("12D3KooW…"). Because an
 * Ed25519 peer id embeds the public key, anyone can check a signature from the id alone, and the
 * core never needs a key directory.
 */
export type NodeId = string

/** identity multihash (0x00, length 36) of the protobuf PublicKey { Type: Ed25519 (1), Data: 32 bytes }. */
const PEER_ID_PREFIX = Uint8Array.of(0x00, 0x24, 0x08, 0x01, 0x12, 0x20)
const PUBLIC_KEY_BYTES = 32
const SEED_BYTES = 32

/** A node's signing key, as the core sees it. The adapter builds it from the persisted identity. */
export interface NodeKey {
  readonly nodeId: NodeId
  readonly publicKey: Uint8Array
  sign: (message: Uint8Array) => Uint8Array
  /**
   * X25519 shared secret between this node's key (the Montgomery form of its Ed25519 seed) and a
   * peer's X25519 public key: how a node opens what was sealed to its id. A function rather than
   * the secret itself, so the key never leaves the closure, as with `sign`.
   */
  x25519SharedSecret: (peerX25519PublicKey: Uint8Array) => Uint8Array
}

export function nodeIdFromPublicKey (publicKey: Uint8Array): NodeId {
  if (publicKey.byteLength !== PUBLIC_KEY_BYTES) {
    throw new IdentityError('IDENTITY_BAD_KEY', `an Ed25519 public key is ${PUBLIC_KEY_BYTES} bytes, got ${publicKey.byteLength}`)
  }
  const bytes = new Uint8Array(PEER_ID_PREFIX.byteLength + PUBLIC_KEY_BYTES)
  bytes.set(PEER_ID_PREFIX)
  bytes.set(publicKey, PEER_ID_PREFIX.byteLength)
  return base58btc.encode(bytes)
}

/** The Ed25519 public key inside a node id; throws `IDENTITY_BAD_NODE_ID` for anything else. */
export function publicKeyFromNodeId (nodeId: NodeId): Uint8Array {
  let bytes: Uint8Array
  try {
    bytes = base58btc.decode(nodeId)
  } catch {
    throw new IdentityError('IDENTITY_BAD_NODE_ID', `node id ${JSON.stringify(nodeId.slice(0, 64))} is not base58btc`)
  }
  const prefixOk = bytes.byteLength === PEER_ID_PREFIX.byteLength + PUBLIC_KEY_BYTES &&
    PEER_ID_PREFIX.every((b, i) => bytes[i] === b)
  if (!prefixOk) {
    throw new IdentityError('IDENTITY_BAD_NODE_ID', `node id ${JSON.stringify(nodeId.slice(0, 64))} is not an Ed25519 libp2p peer id`)
  }
  return bytes.slice(PEER_ID_PREFIX.byteLength)
}

/** True if `nodeId` is a well-formed Ed25519 peer id. */
export function isNodeId (value: string): boolean {
  try {
    publicKeyFromNodeId(value)
    return true
  } catch {
    return false
  }
}

/** A signing key from a 32-byte Ed25519 seed (the first half of libp2p's 64-byte raw private key). */
export function nodeKeyFromSeed (seed: Uint8Array): NodeKey {
  if (seed.byteLength !== SEED_BYTES) {
    throw new IdentityError('IDENTITY_BAD_KEY', `an Ed25519 seed is ${SEED_BYTES} bytes, got ${seed.byteLength}`)
  }
  const secret = seed.slice()
  const { privateKey, publicKey } = ed25519KeyPair(secret)
  const x25519Secret = ed25519.utils.toMontgomerySecret(secret)
  return {
    nodeId: nodeIdFromPublicKey(publicKey),
    publicKey,
    sign: (message) => ed25519Sign(privateKey, message),
    x25519SharedSecret: (peerX25519PublicKey) => x25519.getSharedSecret(x25519Secret, peerX25519PublicKey)
  }
}

/** Checks an Ed25519 signature by the node `nodeId`; false for a bad id, key or signature. */
export function verifyNodeSignature (nodeId: NodeId, message: Uint8Array, signature: Uint8Array): boolean {
  let publicKey: Uint8Array
  try {
    publicKey = publicKeyFromNodeId(nodeId)
  } catch {
    return false
  }
  return ed25519Verify(signature, message, publicKey)
}
