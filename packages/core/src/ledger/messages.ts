import { z } from 'zod'
import {
  BUCKET_HASH_BYTES, DELTA_ENTRIES_MAX, DIGEST_BUCKETS, ENTRY_KEY_BYTES_MAX, ENTRY_SIGNATURE_BYTES,
  ENTRY_VALUE_BYTES_MAX, HLC_COUNTER_MAX, NODE_ID_CHARS_MAX, PULL_KEYS_MAX, SUMMARY_ITEMS_MAX
} from '../limits.js'

/**
 * Zod schemas of the ledger's wire messages and of an encoded entry. Every array and string is
 * bounded; decode with `decodeStrict(bytes, ledgerMessageSchema, { maxBytes: FRAME_BYTES_MAX, … })`.
 *
 * Anti-entropy, initiator A and responder B:
 *   A → B `ledger/digest`  { root }            one hash of everything A holds (cheap when idle)
 *   B → A `ledger/buckets` { buckets }         only if the roots differ: B's bucket hashes
 *   A → B `ledger/summary` { ranges }          (key, stamp, writer, hash) of A's differing buckets
 *   B → A `ledger/delta` + `ledger/pull`       what A lacks, and the keys B wants
 *   A → B `ledger/delta`                       answer to the pull
 * New local and newly merged entries travel as `ledger/delta` pushes.
 */

function bytes (lengthMax: number): z.ZodType<Uint8Array> {
  return z.instanceof(Uint8Array).refine((value) => value.byteLength <= lengthMax, `at most ${lengthMax} bytes`)
}

function exactBytes (length: number): z.ZodType<Uint8Array> {
  return z.instanceof(Uint8Array).refine((value) => value.byteLength === length, `exactly ${length} bytes`)
}

const safeCount = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
const keyText = z.string().min(1).max(ENTRY_KEY_BYTES_MAX)
const nodeIdText = z.string().min(1).max(NODE_ID_CHARS_MAX)

export const stampSchema = z.strictObject({
  wallMs: safeCount,
  counter: z.number().int().min(0).max(HLC_COUNTER_MAX)
})

export const entrySchema = z.strictObject({
  key: keyText,
  value: bytes(ENTRY_VALUE_BYTES_MAX).nullable(),
  stamp: stampSchema,
  writer: nodeIdText,
  signature: exactBytes(ENTRY_SIGNATURE_BYTES)
})

/** Push of entries (new ones, or the answer to a pull or summary). */
export const ledgerDeltaSchema = z.strictObject({
  kind: z.literal('ledger/delta'),
  entries: z.array(entrySchema).max(DELTA_ENTRIES_MAX)
})

/** Opens anti-entropy: one hash over all buckets. */
export const ledgerDigestSchema = z.strictObject({
  kind: z.literal('ledger/digest'),
  root: exactBytes(BUCKET_HASH_BYTES)
})

/** The responder's bucket hashes, concatenated (`DIGEST_BUCKETS` × `BUCKET_HASH_BYTES`). */
export const ledgerBucketsSchema = z.strictObject({
  kind: z.literal('ledger/buckets'),
  buckets: exactBytes(DIGEST_BUCKETS * BUCKET_HASH_BYTES)
})

/** One held version of a key, without its value. `hash` is the truncated hash of the encoded entry. */
export const summaryItemSchema = z.strictObject({
  key: keyText,
  stamp: stampSchema,
  writer: nodeIdText,
  hash: exactBytes(BUCKET_HASH_BYTES)
})

/**
 * Every key the sender holds in `bucket` with `after < key <= through` (null: unbounded). A bucket
 * too large for one message is split into consecutive ranges, so the receiver can still tell
 * "the sender lacks this key" from "not described yet".
 */
export const summaryRangeSchema = z.strictObject({
  bucket: z.number().int().min(0).max(DIGEST_BUCKETS - 1),
  after: keyText.nullable(),
  through: keyText.nullable(),
  items: z.array(summaryItemSchema).max(SUMMARY_ITEMS_MAX)
})

export const ledgerSummarySchema = z.strictObject({
  kind: z.literal('ledger/summary'),
  ranges: z.array(summaryRangeSchema).max(DIGEST_BUCKETS)
}).refine(
  (message) => message.ranges.reduce((sum, range) => sum + range.items.length, 0) <= SUMMARY_ITEMS_MAX,
  `a summary holds at most ${SUMMARY_ITEMS_MAX} items`
)

/** Asks for the sender's entries of these keys. */
export const ledgerPullSchema = z.strictObject({
  kind: z.literal('ledger/pull'),
  keys: z.array(keyText).max(PULL_KEYS_MAX)
})

export const ledgerMessageSchema = z.union([
  ledgerDeltaSchema, ledgerDigestSchema, ledgerBucketsSchema, ledgerSummarySchema, ledgerPullSchema
])

export type LedgerDelta = z.output<typeof ledgerDeltaSchema>
export type LedgerDigest = z.output<typeof ledgerDigestSchema>
export type LedgerBuckets = z.output<typeof ledgerBucketsSchema>
export type SummaryItem = z.output<typeof summaryItemSchema>
export type SummaryRange = z.output<typeof summaryRangeSchema>
export type LedgerSummary = z.output<typeof ledgerSummarySchema>
export type LedgerPull = z.output<typeof ledgerPullSchema>
export type LedgerMessage = z.output<typeof ledgerMessageSchema>
