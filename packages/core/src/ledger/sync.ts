import { assert } from '../assert.js'
import { encodeCanonical } from '../codec.js'
import {
  BAD_SIGNATURES_PER_MESSAGE_MAX, BUCKET_HASH_BYTES, DELTA_ENTRIES_MAX, DIGEST_BUCKETS, FRAME_BYTES_MAX, FRAME_HEADER_BYTES,
  PULL_KEYS_MAX, SUMMARY_ITEMS_MAX, SYNC_ANSWER_BYTES_MAX
} from '../limits.js'
import { compareBytes, entryObject } from './entry.js'
import { compareVersions } from './hlc.js'
import { isParsedKey, parseKey } from './keys.js'
import { isRejected } from './outcome.js'
import type { Entry } from './entry.js'
import type {
  LedgerBuckets, LedgerDelta, LedgerDigest, LedgerMessage, LedgerPull, LedgerSummary, SummaryItem, SummaryRange
} from './messages.js'
import type { LedgerReport, RejectReason } from './outcome.js'
import type { HeldEntry, LedgerReplica } from './replica.js'

/**
 * The pure side of ledger sync: what to send in answer to each ledger message. The node sends
 * `send` back to the peer the message came from, persists and forwards `accepted` (the entries
 * that were new here), and turns `rejected` and `reports` into counters and events. Every answer
 * is bounded (frames ≤ `FRAME_BYTES_MAX`, entries ≤ `SYNC_ANSWER_BYTES_MAX` per answer); what
 * did not fit is repaired by the next anti-entropy round.
 */
export interface SyncAnswer {
  readonly send: readonly LedgerMessage[]
  readonly accepted: readonly Entry[]
  readonly rejected: ReadonlyArray<{ readonly entry: Entry, readonly reason: RejectReason, readonly detail: string }>
  readonly reports: readonly LedgerReport[]
  /** Entries of this message whose signature did not verify (the sender's fault: honest peers forward only verified entries). */
  readonly badSignatures: number
}

/** Opens an anti-entropy round with one peer: a single hash, so an idle round costs ≈ 40 bytes. */
export function digestMessage (replica: LedgerReplica): LedgerDigest {
  return { kind: 'ledger/digest', root: replica.rootHash() }
}

/** Splits entries to push into delta messages that each fit in one frame. */
export function deltaMessages (entries: readonly Entry[]): LedgerDelta[] {
  return packDeltas(entries.map((entry) => ({ entry, size: encodeCanonical(entryObject(entry)).byteLength })), Number.POSITIVE_INFINITY)
}

/** Answers one decoded ledger message from a peer. */
export function answerLedgerMessage (replica: LedgerReplica, message: LedgerMessage): SyncAnswer {
  switch (message.kind) {
    case 'ledger/delta': return mergeDelta(replica, message)
    case 'ledger/digest': return onlySend(answerDigest(replica, message))
    case 'ledger/buckets': return onlySend(answerBuckets(replica, message))
    case 'ledger/summary': return onlySend(answerSummary(replica, message))
    case 'ledger/pull': return onlySend(answerPull(replica, message))
  }
}

function onlySend (send: LedgerMessage[]): SyncAnswer {
  return { send, accepted: [], rejected: [], reports: [], badSignatures: 0 }
}

function mergeDelta (replica: LedgerReplica, message: LedgerDelta): SyncAnswer {
  const accepted: Entry[] = []
  const rejected: Array<{ entry: Entry, reason: RejectReason, detail: string }> = []
  const reports: LedgerReport[] = []
  let badSignatures = 0
  for (const [index, entry] of message.entries.entries()) {
    if (badSignatures >= BAD_SIGNATURES_PER_MESSAGE_MAX) {
      // Verification cost is bounded per message: the rest is not read.
      const skipped = message.entries.length - index
      rejected.push({ entry, reason: 'bad-signature', detail: `${badSignatures} entries of this delta had bad signatures; its last ${skipped} entries were not checked` })
      break
    }
    const result = replica.merge(entry)
    accepted.push(...result.accepted)
    reports.push(...result.reports)
    if (isRejected(result.outcome)) {
      rejected.push({ entry, reason: result.outcome.rejected, detail: result.outcome.detail })
      if (result.outcome.rejected === 'bad-signature') badSignatures++
    }
  }
  return { send: [], accepted, rejected, reports, badSignatures }
}

/** Roots differ: hand over every bucket hash so the initiator can find the differing buckets. */
function answerDigest (replica: LedgerReplica, message: LedgerDigest): LedgerMessage[] {
  if (compareBytes(replica.rootHash(), message.root) === 0) return []
  return [{ kind: 'ledger/buckets', buckets: replica.bucketHashes() } satisfies LedgerBuckets]
}

/** Describes our side of every bucket whose hash differs from the peer's. */
function answerBuckets (replica: LedgerReplica, message: LedgerBuckets): LedgerMessage[] {
  const differing: number[] = []
  for (let bucket = 0; bucket < DIGEST_BUCKETS; bucket++) {
    const theirs = message.buckets.subarray(bucket * BUCKET_HASH_BYTES, (bucket + 1) * BUCKET_HASH_BYTES)
    if (compareBytes(replica.bucketHash(bucket), theirs) !== 0) differing.push(bucket)
  }
  return summaryMessages(replica, differing)
}

/** Summaries of the given buckets, split into consecutive key ranges of at most `SUMMARY_ITEMS_MAX` items per message. */
export function summaryMessages (replica: LedgerReplica, buckets: readonly number[]): LedgerSummary[] {
  const messages: LedgerSummary[] = []
  let ranges: SummaryRange[] = []
  let items = 0
  const flush = (): void => {
    if (ranges.length > 0) messages.push({ kind: 'ledger/summary', ranges })
    ranges = []
    items = 0
  }
  for (const bucket of buckets) {
    const keys = replica.keysInBucket(bucket)
    let after: string | null = null
    let start = 0
    do {
      if (items >= SUMMARY_ITEMS_MAX) flush()
      const end = Math.min(keys.length, start + SUMMARY_ITEMS_MAX - items)
      const through = end >= keys.length ? null : (keys[end - 1] ?? null)
      ranges.push({ bucket, after, through, items: keys.slice(start, end).map((key) => summaryItem(replica, key)) })
      items += end - start
      after = through
      start = end
    } while (start < keys.length)
  }
  flush()
  return messages
}

function summaryItem (replica: LedgerReplica, key: string): SummaryItem {
  const held = replica.heldEntry(key)
  assert(held !== undefined, 'the bucket index lists only held keys')
  return { key, stamp: held.entry.stamp, writer: held.entry.writer, hash: held.hash.slice(0, BUCKET_HASH_BYTES) }
}

/** Compares the peer's summary with ours: push what it lacks or holds older, pull what we do. */
function answerSummary (replica: LedgerReplica, message: LedgerSummary): LedgerMessage[] {
  const push: HeldEntry[] = []
  const pull: string[] = []
  for (const range of message.ranges) {
    const theirs = new Map(range.items.map((item) => [item.key, item]))
    for (const key of replica.keysInBucket(range.bucket)) {
      if (!inRange(key, range)) continue
      const held = replica.heldEntry(key)
      if (held === undefined) continue
      const item = theirs.get(key)
      const direction = item === undefined ? 'push' : compareWithSummary(held, item)
      if (direction === 'push' || direction === 'both') push.push(held)
      if (direction === 'pull' || direction === 'both') pull.push(key)
    }
    for (const item of range.items) {
      if (replica.heldEntry(item.key) === undefined) pull.push(item.key)
    }
  }
  return [...packDeltas(push.map(asSized), SYNC_ANSWER_BYTES_MAX), ...pullMessages(pull)]
}

function inRange (key: string, range: SummaryRange): boolean {
  return (range.after === null || key > range.after) && (range.through === null || key <= range.through)
}

/**
 * Which way one differing key should travel. Last-writer-wins keys go from the newer side;
 * write-once keys (and exact version ties) go both ways, since the winner depends on the values.
 */
function compareWithSummary (held: HeldEntry, item: SummaryItem): 'none' | 'push' | 'pull' | 'both' {
  if (compareBytes(held.hash.subarray(0, BUCKET_HASH_BYTES), item.hash) === 0) return 'none'
  const parsed = parseKey(held.entry.key)
  if (!isParsedKey(parsed) || parsed.family !== 'node') return 'both'
  const order = compareVersions(held.entry, item)
  if (order === 0) return 'both'
  return order > 0 ? 'push' : 'pull'
}

function pullMessages (keys: readonly string[]): LedgerPull[] {
  const messages: LedgerPull[] = []
  for (let start = 0; start < keys.length; start += PULL_KEYS_MAX) {
    messages.push({ kind: 'ledger/pull', keys: keys.slice(start, start + PULL_KEYS_MAX) })
  }
  return messages
}

/** Sends the entries asked for that we hold, tombstones included. */
function answerPull (replica: LedgerReplica, message: LedgerPull): LedgerMessage[] {
  const found: Array<{ entry: Entry, size: number }> = []
  for (const key of new Set(message.keys)) {
    const held = replica.heldEntry(key)
    if (held !== undefined) found.push(asSized(held))
  }
  return packDeltas(found, SYNC_ANSWER_BYTES_MAX)
}

function asSized (held: HeldEntry): { entry: Entry, size: number } {
  return { entry: held.entry, size: held.encoded.byteLength }
}

/** Packs entries into frames of at most `FRAME_BYTES_MAX`, stopping at `budgetBytes` in all. */
function packDeltas (items: ReadonlyArray<{ entry: Entry, size: number }>, budgetBytes: number): LedgerDelta[] {
  const frameRoomBytes = FRAME_BYTES_MAX - FRAME_HEADER_BYTES
  const messages: LedgerDelta[] = []
  let entries: Entry[] = []
  let frameBytes = 0
  let totalBytes = 0
  for (const { entry, size } of items) {
    if (totalBytes + size > budgetBytes) break
    if (entries.length > 0 && (frameBytes + size > frameRoomBytes || entries.length >= DELTA_ENTRIES_MAX)) {
      messages.push({ kind: 'ledger/delta', entries })
      entries = []
      frameBytes = 0
    }
    entries.push(entryObject(entry))
    frameBytes += size
    totalBytes += size
  }
  if (entries.length > 0) messages.push({ kind: 'ledger/delta', entries })
  return messages
}
