import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { equalBytes } from '@noble/ciphers/utils.js'
import { ed25519, x25519 } from '@noble/curves/ed25519.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { publicKeyFromNodeId } from '../identity.js'
import type { NodeId, NodeKey } from '../identity.js'
import { checkBoxFrame, checkPlaintextSize } from './box-bytes.js'
import { drawEntropy } from './entropy.js'
import type { Entropy } from './entropy.js'
import { SecretsError } from './errors.js'
import {
  KEY_CHECK_BYTES, NODE_BOX_OVERHEAD_BYTES, NONCE_BYTES, VERSION_BYTES, X25519_KEY_BYTES
} from './limits.js'

/**
 * A sealed box to one node: only the holder of the node's Ed25519 key can open it, and nobody,
 * the sender included, can open it after sealing. Layout:
 *
 *   version (1) | key check (4) | ephemeral X25519 public key (32) | XChaCha20-Poly1305 ciphertext
 *
 * The recipient's X25519 key is the Montgomery form of the Ed25519 key inside its id, so a node id
 * is all a sender needs. HKDF-SHA256 over the X25519 shared secret gives the cipher key and nonce;
 * the ephemeral key and the recipient id are bound into both the derivation and the associated
 * data, so a box cannot be replayed to another recipient or re-wrapped under another ephemeral key.
 */

const NODE_BOX_VERSION = 0x01
const DERIVE_LABEL = 'p2p-bootstrap/node-box/v1'
const KEY_CHECK_LABEL = 'p2p-bootstrap/node-box/key-check/v1'
const CIPHER_KEY_BYTES = 32
const HEADER_BYTES = VERSION_BYTES + KEY_CHECK_BYTES + X25519_KEY_BYTES

/** Seals `plaintext` so that only node `recipient` can open it. */
export function sealToNode (recipient: NodeId, plaintext: Uint8Array, entropy: Entropy): Uint8Array {
  checkPlaintextSize(plaintext)
  const recipientPublicKey = recipientKey(recipient)
  const recipientX25519 = montgomeryOf(recipientPublicKey, recipient)
  const ephemeralSecret = drawEntropy(entropy, X25519_KEY_BYTES)
  const ephemeralPublic = x25519.getPublicKey(ephemeralSecret)
  let shared: Uint8Array
  try {
    shared = x25519.getSharedSecret(ephemeralSecret, recipientX25519)
  } catch (err) {
    throw new SecretsError('SECRETS_BAD_RECIPIENT', `node ${recipient} has a key that gives no X25519 secret: it cannot receive sealed secrets`, { cause: err })
  }
  const header = concatBytes(Uint8Array.of(NODE_BOX_VERSION), keyCheckOf(recipientPublicKey), ephemeralPublic)
  const cipher = cipherFor(shared, ephemeralPublic, recipientX25519, recipient, header)
  return concatBytes(header, cipher.encrypt(plaintext))
}

/** Opens a box sealed to `nodeKey`'s id; throws `SecretsError` naming why it cannot. */
export function openAsNode (nodeKey: NodeKey, sealed: Uint8Array): Uint8Array {
  checkBoxFrame(sealed, NODE_BOX_VERSION, NODE_BOX_OVERHEAD_BYTES, 'sealed box')
  const keyCheck = sealed.subarray(VERSION_BYTES, VERSION_BYTES + KEY_CHECK_BYTES)
  if (!equalBytes(keyCheck, keyCheckOf(nodeKey.publicKey))) {
    throw new SecretsError('SECRETS_WRONG_KEY', `the sealed box is not for node ${nodeKey.nodeId}: it was sealed to another node (or its header is damaged)`)
  }
  const header = sealed.subarray(0, HEADER_BYTES)
  const ephemeralPublic = sealed.subarray(VERSION_BYTES + KEY_CHECK_BYTES, HEADER_BYTES)
  try {
    const shared = nodeKey.x25519SharedSecret(ephemeralPublic)
    const ownX25519 = ed25519.utils.toMontgomery(nodeKey.publicKey)
    const cipher = cipherFor(shared, ephemeralPublic, ownX25519, nodeKey.nodeId, header)
    return cipher.decrypt(sealed.subarray(HEADER_BYTES))
  } catch (err) {
    throw new SecretsError('SECRETS_DAMAGED', `the sealed box for node ${nodeKey.nodeId} fails authentication: it was changed after sealing; fetch it again from the ledger`, { cause: err })
  }
}

function recipientKey (recipient: NodeId): Uint8Array {
  try {
    return publicKeyFromNodeId(recipient)
  } catch (err) {
    throw new SecretsError('SECRETS_BAD_RECIPIENT', `cannot seal to ${JSON.stringify(recipient.slice(0, 64))}: not an Ed25519 node id`, { cause: err })
  }
}

function montgomeryOf (publicKey: Uint8Array, recipient: NodeId): Uint8Array {
  try {
    return ed25519.utils.toMontgomery(publicKey)
  } catch (err) {
    throw new SecretsError('SECRETS_BAD_RECIPIENT', `node ${recipient} does not hold a valid Ed25519 point: it cannot receive sealed secrets`, { cause: err })
  }
}

function keyCheckOf (recipientPublicKey: Uint8Array): Uint8Array {
  return sha256(concatBytes(utf8ToBytes(KEY_CHECK_LABEL), recipientPublicKey)).subarray(0, KEY_CHECK_BYTES)
}

function cipherFor (
  shared: Uint8Array,
  ephemeralPublic: Uint8Array,
  recipientX25519: Uint8Array,
  recipient: NodeId,
  header: Uint8Array
): ReturnType<typeof xchacha20poly1305> {
  const recipientBytes = utf8ToBytes(recipient)
  const salt = concatBytes(ephemeralPublic, recipientX25519)
  const info = concatBytes(utf8ToBytes(DERIVE_LABEL), recipientBytes)
  // A fresh ephemeral key makes every derivation unique, so the nonce can come from HKDF too.
  const material = hkdf(sha256, shared, salt, info, CIPHER_KEY_BYTES + NONCE_BYTES)
  const key = material.subarray(0, CIPHER_KEY_BYTES)
  const nonce = material.subarray(CIPHER_KEY_BYTES)
  return xchacha20poly1305(key, nonce, concatBytes(header, recipientBytes))
}
