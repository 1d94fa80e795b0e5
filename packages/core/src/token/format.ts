/**
 * The native text form of a network token:
 *
 *     p2pb1.<payload>.<checksum>
 *
 * - `p2pb` is the prefix and `1` the version (decimal), so a token is recognisable at a glance and
 *   a future format is refused with a clear message instead of misread.
 * - `<payload>` is base64url (no padding) of the canonical CBOR map
 *   `{ s: secret (32 bytes), c?: createdMs, e?: expect, p?: controlPlanes, i?: vip, n?: name }`
 *   with short keys to keep the token short; absent fields are left out.
 * - `<checksum>` is base64url of the first 6 bytes of SHA-256 over the ASCII text
 *   `p2pb1.<payload>`. It covers the prefix, version and payload text, and its 48 bits fill exactly
 *   8 characters, so any single changed character anywhere is detected (up to a 2^-48 chance).
 *
 * '.' is in neither base64 alphabet, so a native token can never be mistaken for a Kairos token.
 */
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { base64urlnopad } from '@scure/base'
import { z } from 'zod'
import { decodeStrict, encodeCanonical } from '../codec.js'
import { CodecError } from '../errors.js'
import {
  CHECKSUM_BYTES, TOKEN_PART_SEPARATOR, TOKEN_PAYLOAD_BYTES_MAX, TOKEN_PREFIX,
  TOKEN_VERSION_CURRENT, TOKEN_VERSIONS_KNOWN
} from './constants.js'
import { TokenError } from './errors.js'
import { validateTokenFields } from './fields.js'
import type { NetworkToken } from './types.js'

const TOKEN_PARTS = 3

const payloadSchema = z.strictObject({
  s: z.custom<Uint8Array>((value) => value instanceof Uint8Array, 'expected bytes'),
  c: z.number().optional(),
  e: z.number().optional(),
  p: z.number().optional(),
  i: z.string().optional(),
  n: z.string().optional()
})

type Payload = z.infer<typeof payloadSchema>

/** Writes a token as native text. A Kairos-imported token becomes the native token of the same secret. */
export function formatToken (token: NetworkToken): string {
  validateTokenFields(token)
  const payload: Payload = { s: token.secret }
  if (token.createdMs !== undefined) payload.c = token.createdMs
  if (token.expect !== undefined) payload.e = token.expect
  if (token.controlPlanes !== undefined) payload.p = token.controlPlanes
  if (token.vip !== undefined) payload.i = token.vip
  if (token.name !== undefined) payload.n = token.name
  return sealTokenText(TOKEN_VERSION_CURRENT, base64urlnopad.encode(encodeCanonical(payload)))
}

/**
 * Frames payload text as token text with prefix, version and checksum. Exported for tests that
 * need a correctly checksummed token around a payload `formatToken` would refuse to write.
 */
export function sealTokenText (version: number, payloadText: string): string {
  const body = `${TOKEN_PREFIX}${version}${TOKEN_PART_SEPARATOR}${payloadText}`
  return `${body}${TOKEN_PART_SEPARATOR}${base64urlnopad.encode(checksumOf(body))}`
}

/** True if `text` claims to be a native token (it may still be broken). */
export function hasNativePrefix (text: string): boolean {
  return text.startsWith(TOKEN_PREFIX)
}

/** Parses trimmed native token text; throws a `TokenError` naming the first broken part. */
export function parseNativeToken (text: string): NetworkToken {
  const parts = text.split(TOKEN_PART_SEPARATOR)
  const [head = '', payloadText = '', checksumText = ''] = parts
  if (parts.length < TOKEN_PARTS) {
    throw new TokenError('TOKEN_CHECKSUM', `token has ${parts.length} of its ${TOKEN_PARTS} '.'-separated parts (p2pb1.<payload>.<checksum>): probably mistyped or truncated`)
  }
  if (parts.length > TOKEN_PARTS) {
    throw new TokenError('TOKEN_MALFORMED', `token has ${parts.length} '.'-separated parts; a token has exactly ${TOKEN_PARTS} (p2pb1.<payload>.<checksum>)`)
  }
  checkVersion(head.slice(TOKEN_PREFIX.length))
  checkBase64urlAlphabet(payloadText)
  // The checksum before the full decode: a truncated payload is reported as truncated.
  checkChecksum(`${head}${TOKEN_PART_SEPARATOR}${payloadText}`, checksumText)
  const payloadBytes = decodeBase64url(payloadText)
  const payload = decodePayload(payloadBytes)
  const token: NetworkToken = {
    version: 1,
    secret: payload.s,
    origin: 'native',
    ...(payload.c !== undefined && { createdMs: payload.c }),
    ...(payload.e !== undefined && { expect: payload.e }),
    ...(payload.p !== undefined && { controlPlanes: payload.p }),
    ...(payload.i !== undefined && { vip: payload.i }),
    ...(payload.n !== undefined && { name: payload.n })
  }
  validateTokenFields(token)
  return token
}

function checksumOf (body: string): Uint8Array {
  return sha256(utf8ToBytes(body)).slice(0, CHECKSUM_BYTES)
}

function checkVersion (versionText: string): void {
  const version = /^[0-9]{1,6}$/.test(versionText) ? Number(versionText) : Number.NaN
  if (!TOKEN_VERSIONS_KNOWN.includes(version)) {
    throw new TokenError('TOKEN_VERSION', `token version ${JSON.stringify(versionText.slice(0, 16))} is unknown; this build reads version ${TOKEN_VERSIONS_KNOWN.join(', ')} (a newer p2p-bootstrap may have written it)`)
  }
}

function checkBase64urlAlphabet (payloadText: string): void {
  const badIndex = payloadText.search(/[^A-Za-z0-9_-]/)
  if (badIndex >= 0) {
    throw new TokenError('TOKEN_BASE64', `token payload has ${JSON.stringify(payloadText.charAt(badIndex))} at payload character ${badIndex + 1}, which is not base64url: was it mistyped?`)
  }
}

function decodeBase64url (payloadText: string): Uint8Array {
  try {
    return base64urlnopad.decode(payloadText)
  } catch (err) {
    throw new TokenError('TOKEN_BASE64', `token payload is not canonical base64url (${(err as Error).message}); the checksum matched, so the token was written by a broken generator`, { cause: err })
  }
}

function checkChecksum (body: string, checksumText: string): void {
  let given: Uint8Array
  try {
    given = base64urlnopad.decode(checksumText)
  } catch {
    given = new Uint8Array(0)
  }
  const expected = checksumOf(body)
  const matches = given.byteLength === expected.byteLength && expected.every((byte, index) => given[index] === byte)
  if (!matches) {
    throw new TokenError('TOKEN_CHECKSUM', 'token checksum does not match: the token was probably mistyped or truncated; copy it again in full')
  }
}

function decodePayload (payloadBytes: Uint8Array): Payload {
  try {
    return decodeStrict(payloadBytes, payloadSchema, { maxBytes: TOKEN_PAYLOAD_BYTES_MAX, what: 'token payload' })
  } catch (err) {
    if (err instanceof CodecError) {
      throw new TokenError('TOKEN_MALFORMED', `${err.message}; the checksum matched, so the token was written by a broken or incompatible generator`, { cause: err })
    }
    throw err
  }
}
