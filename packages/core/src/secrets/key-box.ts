import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import { equalBytes } from '@noble/ciphers/utils.js'
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js'
import { checkBoxFrame, checkPlaintextSize } from './box-bytes.js'
import { drawEntropy } from './entropy.js'
import type { Entropy } from './entropy.js'
import { SecretsError } from './errors.js'
import { KEY_BOX_OVERHEAD_BYTES, KEY_CHECK_BYTES, NONCE_BYTES, SEALING_KEY_BYTES, VERSION_BYTES } from './limits.js'

/**
 * A box under the token-derived sealing key: every token holder can open it, nobody else. Used for
 * the agent token, which every member needs. Layout:
 *
 *   version (1) | key check (4) | random nonce (24) | XChaCha20-Poly1305 ciphertext
 *
 * The cipher key is an HKDF subkey of the sealing key, so this use never shares a key with any
 * other use of the sealing key. The header is the associated data.
 */

const KEY_BOX_VERSION = 0x02
const CIPHER_KEY_LABEL = 'p2p-bootstrap/key-box/v1'
const KEY_CHECK_LABEL = 'p2p-bootstrap/key-box/key-check/v1'
const CIPHER_KEY_BYTES = 32
const HEADER_BYTES = VERSION_BYTES + KEY_CHECK_BYTES + NONCE_BYTES

/** Seals `plaintext` under `sealingKey` with a random nonce from `entropy`. */
export function sealWithKey (sealingKey: Uint8Array, plaintext: Uint8Array, entropy: Entropy): Uint8Array {
  checkSealingKey(sealingKey)
  checkPlaintextSize(plaintext)
  const nonce = drawEntropy(entropy, NONCE_BYTES)
  const header = concatBytes(Uint8Array.of(KEY_BOX_VERSION), keyCheckOf(sealingKey), nonce)
  const cipher = xchacha20poly1305(cipherKeyOf(sealingKey), nonce, header)
  return concatBytes(header, cipher.encrypt(plaintext))
}

/** Opens a box sealed under `sealingKey`; throws `SecretsError` naming why it cannot. */
export function openWithKey (sealingKey: Uint8Array, sealed: Uint8Array): Uint8Array {
  checkSealingKey(sealingKey)
  checkBoxFrame(sealed, KEY_BOX_VERSION, KEY_BOX_OVERHEAD_BYTES, 'sealed value')
  const keyCheck = sealed.subarray(VERSION_BYTES, VERSION_BYTES + KEY_CHECK_BYTES)
  if (!equalBytes(keyCheck, keyCheckOf(sealingKey))) {
    throw new SecretsError('SECRETS_WRONG_KEY', 'the sealed value was sealed with another key: do all nodes carry the same network token?')
  }
  const header = sealed.subarray(0, HEADER_BYTES)
  const nonce = sealed.subarray(VERSION_BYTES + KEY_CHECK_BYTES, HEADER_BYTES)
  try {
    return xchacha20poly1305(cipherKeyOf(sealingKey), nonce, header).decrypt(sealed.subarray(HEADER_BYTES))
  } catch (err) {
    throw new SecretsError('SECRETS_DAMAGED', 'the sealed value fails authentication: it was changed after sealing; fetch it again from the ledger', { cause: err })
  }
}

function checkSealingKey (sealingKey: Uint8Array): void {
  if (sealingKey.byteLength !== SEALING_KEY_BYTES) {
    throw new SecretsError('SECRETS_BAD_KEY', `a sealing key is ${SEALING_KEY_BYTES} bytes, got ${sealingKey.byteLength}: pass the sealing key derived from the network token`)
  }
}

function cipherKeyOf (sealingKey: Uint8Array): Uint8Array {
  return hkdf(sha256, sealingKey, undefined, utf8ToBytes(CIPHER_KEY_LABEL), CIPHER_KEY_BYTES)
}

function keyCheckOf (sealingKey: Uint8Array): Uint8Array {
  return hkdf(sha256, sealingKey, undefined, utf8ToBytes(KEY_CHECK_LABEL), KEY_CHECK_BYTES)
}
