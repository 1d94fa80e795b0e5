import { decode, encode } from 'cborg'
import type { PersistRecord } from '@p2p-bootstrap/core'
import { STRICT_CBOR_DECODE_OPTIONS } from '@p2p-bootstrap/core'
import { RECORD_BYTES_MAX, RECORD_DEPTH_MAX } from './limits.js'

/**
 * Records on disk are CBOR (cborg). The contract is exactness: a record read back deep-equals the
 * one appended. Values CBOR would hand back changed (a Map, a class instance, NaN, a typed array
 * other than Uint8Array, an own `__proto__` key) are refused on write, and the same check runs on
 * every decoded record, so what we accept on write is exactly what we accept on read.
 *
 * Two deliberate leniencies, both invisible to `===`: an object property set to `undefined` is
 * left out (as JSON does), and -0 comes back as 0 (cborg writes no negative zero).
 */

const encodeOptions = { ignoreUndefinedProperties: true } as const

const decodeOptions = { ...STRICT_CBOR_DECODE_OPTIONS, useMaps: false } as const

export type DecodedRecord =
  | { readonly ok: true, readonly record: PersistRecord }
  | { readonly ok: false, readonly problem: string }

export type EncodedRecord =
  | { readonly ok: true, readonly payload: Uint8Array }
  | { readonly ok: false, readonly problem: string }

/** Encodes one record, or says why it cannot be stored exactly. */
export function encodeRecord (record: PersistRecord): EncodedRecord {
  const problem = recordProblem(record, 'write')
  if (problem !== null) return { ok: false, problem }
  const payload = encode(record, encodeOptions)
  if (payload.byteLength > RECORD_BYTES_MAX) {
    return { ok: false, problem: `record of kind ${record.kind} is ${payload.byteLength} bytes of CBOR, over the limit of ${RECORD_BYTES_MAX}` }
  }
  return { ok: true, payload }
}

/** Decodes one frame's payload into a record, or says why it is not one. */
export function decodeRecord (payload: Uint8Array): DecodedRecord {
  if (payload.byteLength > RECORD_BYTES_MAX) {
    return { ok: false, problem: `payload of ${payload.byteLength} bytes is over the limit of ${RECORD_BYTES_MAX}` }
  }
  let value: unknown
  try {
    value = decode(payload, decodeOptions)
  } catch (err) {
    return { ok: false, problem: `payload is not valid CBOR: ${(err as Error).message}` }
  }
  const problem = recordProblem(value, 'read')
  if (problem !== null) return { ok: false, problem }
  return { ok: true, record: value as PersistRecord }
}

/** Why `value` is not a storable record (a plain object with a string `kind`), or null. */
function recordProblem (value: unknown, origin: 'write' | 'read'): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    return `a record must be a plain object, got ${describe(value)}`
  }
  const kind = (value as { kind?: unknown }).kind
  if (typeof kind !== 'string') return `a record needs a string kind, got ${describe(kind)}`
  return valueProblem(value, origin, `record ${kind}`, 0)
}

/**
 * Why `value` would not come back from CBOR as it is, or null. On read, every object must have
 * Object.prototype: a decoded `__proto__` key would have replaced it.
 */
function valueProblem (value: unknown, origin: 'write' | 'read', where: string, depth: number): string | null {
  if (depth > RECORD_DEPTH_MAX) return `${where} is nested deeper than ${RECORD_DEPTH_MAX} levels`
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return null
  if (typeof value === 'number') return Number.isFinite(value) ? null : `${where} is ${value}, which is not stored`
  if (typeof value !== 'object') return `${where} is ${describe(value)}, which is not stored`
  if (value instanceof Uint8Array) return null
  if (Array.isArray(value)) return arrayProblem(value, origin, where, depth)
  const prototype: unknown = Object.getPrototypeOf(value)
  const plain = prototype === Object.prototype || (origin === 'write' && prototype === null)
  if (!plain) return `${where} is ${describe(value)}, not a plain object`
  for (const [key, field] of Object.entries(value)) {
    if (key === '__proto__') return `${where} has an own __proto__ key, which cannot be read back`
    if (field === undefined) continue
    const problem = valueProblem(field, origin, `${where}.${key}`, depth + 1)
    if (problem !== null) return problem
  }
  return null
}

function arrayProblem (value: readonly unknown[], origin: 'write' | 'read', where: string, depth: number): string | null {
  for (let index = 0; index < value.length; index++) {
    const item = value[index]
    if (item === undefined) return `${where}[${index}] is undefined (or a hole), which is not stored`
    const problem = valueProblem(item, origin, `${where}[${index}]`, depth + 1)
    if (problem !== null) return problem
  }
  return null
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (typeof value !== 'object') return typeof value
  if (Array.isArray(value)) return 'an array'
  const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name
  return typeof name === 'string' ? `a ${name}` : 'an object'
}
