import { z } from 'zod'
import { decodeStrict, encodeCanonical } from '../codec.js'
import type { NodeFacts } from '../types.js'

const LABELS_MAX = 64
const LABEL_CHARS_MAX = 253
const FACTS_BYTES_MAX = 16 * 1024
/** A host has a handful of interfaces; each listen address appears once per interface. */
const ADDRESSES_MAX = 32
const ADDRESS_CHARS_MAX = 256

const factsSchema = z.strictObject({
  labels: z.record(z.string().max(LABEL_CHARS_MAX), z.string().max(LABEL_CHARS_MAX))
    .refine(labels => Object.keys(labels).length <= LABELS_MAX, `at most ${LABELS_MAX} labels`),
  memoryMb: z.number().int().nonnegative().optional(),
  cpus: z.number().int().nonnegative().optional(),
  requestedRole: z.enum(['control-plane', 'worker']).optional(),
  nodeIp: z.string().max(64).optional(),
  hostname: z.string().max(253).optional(),
  addresses: z.array(z.string().max(ADDRESS_CHARS_MAX)).max(ADDRESSES_MAX).optional()
})

/** The ledger value of `node/<id>/facts`: canonical CBOR without absent fields. */
export function encodeFacts (facts: NodeFacts): Uint8Array {
  const present = Object.fromEntries(Object.entries(facts).filter(([, value]) => value !== undefined))
  return encodeCanonical(present)
}

/** Facts another node published; a malformed value throws a `CodecError`. */
export function decodeFacts (bytes: Uint8Array): NodeFacts {
  return decodeStrict(bytes, factsSchema, { maxBytes: FACTS_BYTES_MAX, what: 'node facts' })
}
