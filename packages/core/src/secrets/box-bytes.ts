import { SecretsError } from './errors.js'
import { SEALED_PLAINTEXT_BYTES_MAX } from './limits.js'

/** Byte helpers shared by the two box formats. */

/** Throws `SECRETS_OVERSIZED` for a plaintext one box may not hold. */
export function checkPlaintextSize (plaintext: Uint8Array): void {
  if (plaintext.byteLength > SEALED_PLAINTEXT_BYTES_MAX) {
    throw new SecretsError('SECRETS_OVERSIZED', `a sealed box holds at most ${SEALED_PLAINTEXT_BYTES_MAX} bytes, got ${plaintext.byteLength}: seal a smaller value`)
  }
}

/** Throws `SECRETS_MALFORMED` unless `sealed` has this format's version and a possible length. */
export function checkBoxFrame (sealed: Uint8Array, version: number, overheadBytes: number, what: string): void {
  const lengthOk = sealed.byteLength >= overheadBytes && sealed.byteLength <= overheadBytes + SEALED_PLAINTEXT_BYTES_MAX
  if (!lengthOk) {
    throw new SecretsError('SECRETS_MALFORMED', `${what} is ${sealed.byteLength} bytes, not a possible length: it was truncated or is not a box`)
  }
  if (sealed[0] !== version) {
    throw new SecretsError('SECRETS_MALFORMED', `${what} has format ${String(sealed[0])}, expected ${version}: it was made by another version or is not a box of this kind`)
  }
}
