/**
 * The signed CRDT ledger: entries signed by their writers (S5), merged by a per-family total order
 * (last writer wins for `node/…`, write-once for `vote/…` and `plan/…`), synced by push and by
 * digest-driven anti-entropy, persisted as records and snapshots.
 *
 * @example
 * ```ts
 * const replica = new LedgerReplica({ clusterId, validateDecision, maxClockSkewMs: profile.maxClockSkewMs })
 * const { accepted } = replica.write(nodeEntryKey(key.nodeId, 'facts'), facts, nowMs, key)
 * // persist accepted.map(entryRecord) (S6), then push deltaMessages(accepted) to a few peers
 * const answer = answerLedgerMessage(replica, decodeLedgerMessage(frame))
 * ```
 */
export { HybridClock, compareStamps, compareVersions, isValidStamp } from './hlc.js'
export type { Stamp } from './hlc.js'
export {
  entrySigningBytes, signEntry, verifyEntrySignature, compareBytes, compareValues, sameEntry, entryObject
} from './entry.js'
export type { Entry } from './entry.js'
export {
  parseKey, isParsedKey, requiredWriter, isWriteOnce, nodeEntryKey, voteEntryKey, planEntryKey
} from './keys.js'
export type { ParsedKey, KeyFamily } from './keys.js'
export { compareForKeep } from './resolve.js'
export { LedgerError, SnapshotError } from './errors.js'
export type { LedgerErrorCode, SnapshotErrorCode } from './errors.js'
export { isRejected } from './outcome.js'
export type { RejectReason, MergeOutcome, MergeResult, LedgerReport } from './outcome.js'
export { LedgerReplica } from './replica.js'
export type { DecisionValidator, DecisionVerdict, LedgerReplicaInit, HeldEntry } from './replica.js'
export { SignatureCache } from './signature-cache.js'
export { bucketOfKey } from './buckets.js'
export { encodeEntry, decodeEntry, encodeLedgerMessage, decodeLedgerMessage } from './codec.js'
export {
  entrySchema, stampSchema, ledgerDeltaSchema, ledgerDigestSchema, ledgerBucketsSchema, ledgerSummarySchema,
  ledgerPullSchema, ledgerMessageSchema, summaryItemSchema, summaryRangeSchema
} from './messages.js'
export type {
  LedgerDelta, LedgerDigest, LedgerBuckets, LedgerSummary, LedgerPull, LedgerMessage, SummaryItem, SummaryRange
} from './messages.js'
export { digestMessage, deltaMessages, summaryMessages, answerLedgerMessage } from './sync.js'
export type { SyncAnswer } from './sync.js'
export { encodeSnapshot, decodeSnapshot } from './snapshot.js'
export { LEDGER_ENTRY_RECORD, entryRecord, restoreReplica } from './records.js'
export type { LedgerEntryRecord, RestoreProblem } from './records.js'
