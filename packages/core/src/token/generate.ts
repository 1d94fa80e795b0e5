import { randomBytes as cryptoRandomBytes } from '@noble/hashes/utils.js'
import { assert } from '../assert.js'
import { SECRET_BYTES } from './constants.js'
import { validateTokenFields } from './fields.js'
import type { GenerateTokenOptions, NetworkToken } from './types.js'

/**
 * A fresh token with a 256-bit secret from a CSPRNG (by default globalThis.crypto, through
 * @noble/hashes) and the given shape; throws `TOKEN_FIELD` for an invalid shape.
 */
export function generateToken (options: GenerateTokenOptions = {}): NetworkToken {
  const { randomBytes = cryptoRandomBytes, createdMs, expect, controlPlanes, vip, name } = options
  const secret = randomBytes(SECRET_BYTES)
  assert(secret.byteLength === SECRET_BYTES, 'the random source returns the length asked for')
  const token: NetworkToken = {
    version: 1,
    secret,
    origin: 'native',
    ...(createdMs !== undefined && { createdMs }),
    ...(expect !== undefined && { expect }),
    ...(controlPlanes !== undefined && { controlPlanes }),
    ...(vip !== undefined && { vip }),
    ...(name !== undefined && { name })
  }
  validateTokenFields(token)
  return token
}
