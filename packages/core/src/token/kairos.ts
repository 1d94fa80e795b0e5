/**
 * Import of a Kairos/EdgeVPN network token, so a Kairos user keeps the token already baked into
 * their images. EdgeVPN's token is standard base64 (with padding) of a YAML document:
 *
 *     otp: { dht: { interval, key, length }, crypto: { interval, key, length } }
 *     room: …, rendezvous: …, mdns: …, max_message_size: …
 *
 * Our 32-byte secret is HKDF-SHA256 over the five secrets it carries (otp.dht.key, otp.crypto.key,
 * room, rendezvous, mdns), encoded as one canonical CBOR array so no two different tuples can give
 * the same input. The intervals and lengths are EdgeVPN tuning, not secrets, and are ignored.
 * The result is deterministic: the same Kairos token always yields the same keys and cluster id.
 * A Kairos token carries no cluster shape.
 */
import { hkdf } from '@noble/hashes/hkdf.js'
import { sha256 } from '@noble/hashes/sha2.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { base64, utf8 } from '@scure/base'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { encodeCanonical } from '../codec.js'
import { SECRET_BYTES } from './constants.js'
import { TokenError } from './errors.js'
import type { NetworkToken } from './types.js'

/** HKDF salt and label of the import; distinct from every label in derive.ts. */
const KAIROS_IMPORT_SALT = 'p2p-bootstrap/kairos-import'
const KAIROS_IMPORT_LABEL = 'p2pb/v1/kairos-secret'

/** Top-level keys that mark a YAML document as an EdgeVPN connection config. */
const EDGEVPN_MARKER_KEYS = ['otp', 'room', 'rendezvous', 'mdns'] as const

const secretText = z.string().min(1, 'is empty')
const otpSchema = z.looseObject({ key: secretText })
const edgevpnSchema = z.looseObject({
  otp: z.looseObject({ dht: otpSchema, crypto: otpSchema }),
  room: secretText,
  rendezvous: secretText,
  mdns: secretText
})

/**
 * The EdgeVPN document inside `text`, or undefined when `text` is not base64 of a YAML mapping
 * with any EdgeVPN key (then it is no Kairos token at all, and the caller reports TOKEN_PREFIX).
 */
export function readKairosDocument (text: string): Record<string, unknown> | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) return undefined
  let yamlText: string
  try {
    yamlText = utf8.encode(base64.decode(text)) // fatal on invalid UTF-8
  } catch {
    return undefined
  }
  let document: unknown
  try {
    // The failsafe schema reads every scalar as a string, so a key like "1234" is never a number.
    document = parseYaml(yamlText, { schema: 'failsafe', uniqueKeys: true })
  } catch {
    return undefined
  }
  if (typeof document !== 'object' || document === null || Array.isArray(document)) return undefined
  const mapping = document as Record<string, unknown>
  return EDGEVPN_MARKER_KEYS.some((key) => key in mapping) ? mapping : undefined
}

/** Builds our token from an EdgeVPN document; throws `TOKEN_KAIROS` naming a missing secret. */
export function importKairosDocument (document: Record<string, unknown>): NetworkToken {
  const parsed = edgevpnSchema.safeParse(document)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path ?? []
    const field = path.length > 0 ? path.join('.') : 'a field'
    // Our own words, never the schema library's: say whether the field is missing, empty or the wrong kind.
    const value = path.reduce<unknown>((at, key) => typeof at === 'object' && at !== null ? (at as Record<PropertyKey, unknown>)[key] : undefined, document)
    const problem = value === undefined || value === null ? `lacks ${field}` : value === '' ? `has an empty ${field}` : `has the wrong kind of value at ${field}`
    throw new TokenError('TOKEN_KAIROS', `Kairos/EdgeVPN token ${problem}; it needs otp.dht.key, otp.crypto.key, room, rendezvous and mdns: regenerate it with 'edgevpn -g -b'`)
  }
  const { otp, room, rendezvous, mdns } = parsed.data
  const material = encodeCanonical([otp.dht.key, otp.crypto.key, room, rendezvous, mdns])
  const secret = hkdf(sha256, material, utf8ToBytes(KAIROS_IMPORT_SALT), utf8ToBytes(KAIROS_IMPORT_LABEL), SECRET_BYTES)
  return { version: 1, secret, origin: 'kairos' }
}
