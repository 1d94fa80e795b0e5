import { decode, encode } from 'cborg'
import { CodecError } from './errors.js'
import type { z } from 'zod'

/**
 * The one wire and disk encoding of the core: deterministic CBOR (cborg; length-first sorted map
 * keys, smallest integer forms, no indefinite lengths), so the same value always gives the same
 * bytes and a signature over an encoding can be checked by re-encoding the decoded value.
 */
export function encodeCanonical (value: unknown): Uint8Array {
  const bytes = encode(value)
  // cborg hands back a Node Buffer for some output sizes; callers store and compare plain bytes,
  // so the same value always comes back as the same kind of array (a view: nothing is copied).
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** cborg options that refuse every non-canonical or surprising input (shared by every strict reader). */
export const STRICT_CBOR_DECODE_OPTIONS = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowNaN: false,
  allowInfinity: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true
} as const

/**
 * Decodes bytes that came from outside (a peer, a file) into a value of `schema`'s type, or throws
 * a `CodecError` naming `what` and the problem. Never trusts a length: the size is checked before
 * any parsing, and the shape is checked by the schema after.
 */
export function decodeStrict<Schema extends z.ZodType> (
  bytes: Uint8Array,
  schema: Schema,
  options: { maxBytes: number, what: string }
): z.output<Schema> {
  const { maxBytes, what } = options
  if (bytes.byteLength > maxBytes) {
    throw new CodecError('CODEC_OVERSIZED', `${what} is ${bytes.byteLength} bytes, over the limit of ${maxBytes}`)
  }
  let raw: unknown
  try {
    raw = decode(bytes, STRICT_CBOR_DECODE_OPTIONS)
  } catch (err) {
    throw new CodecError('CODEC_MALFORMED', `${what} is not valid CBOR: ${(err as Error).message}`, { cause: err })
  }
  const parsed = schema.safeParse(raw)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const where = issue !== undefined && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : ''
    throw new CodecError('CODEC_INVALID', `${what} has an invalid shape${where}: ${issue?.message ?? 'unknown problem'}`)
  }
  return parsed.data
}
