import { sha256 } from '@noble/hashes/sha2.js'
import { assert } from '../assert.js'
import { encodeCanonical } from '../codec.js'
import {
  ENTRY_ENCODED_BYTES_MAX, ENTRY_KEY_BYTES_MAX, ENTRY_SIGNATURE_BYTES, ENTRY_VALUE_BYTES_MAX,
  LEDGER_BYTES_MAX, LEDGER_ENTRIES_MAX, LEDGER_RESERVED_DIVISOR, NODE_ID_CHARS_MAX, PENDING_DECISIONS_MAX,
  WRITER_NODE_BYTES_MAX, WRITER_NODE_ENTRIES_MAX, WRITER_VOTES_MAX
} from '../limits.js'
import { BucketIndex, bucketOfKey, compareKeys } from './buckets.js'
import { SortedKeys } from './sorted-keys.js'
import { compareValues, entryObject, sameEntry, signEntry, verifyEntrySignature } from './entry.js'
import { LedgerError } from './errors.js'
import { HybridClock, isValidStamp } from './hlc.js'
import { isParsedKey, isWriteOnce, parseKey, requiredWriter } from './keys.js'
import { isRejected } from './outcome.js'
import { PendingDecisions } from './pending.js'
import { compareForKeep } from './resolve.js'
import { SignatureCache } from './signature-cache.js'
import { verifyNodeSignature } from '../identity.js'
import type { NodeId, NodeKey } from '../identity.js'
import type { Entry } from './entry.js'
import type { Stamp } from './hlc.js'
import type { ParsedKey } from './keys.js'
import type { LedgerReport, MergeOutcome, MergeResult, RejectReason } from './outcome.js'
import { WriterUsage } from './writer-usage.js'
import type { WriterBounds } from './writer-usage.js'

/** A validator's answer about a decision (`plan/<epoch>`). */
export type DecisionVerdict = 'valid' | 'defer' | { readonly invalid: string }

/**
 * Checks that a decision carries a valid quorum certificate (S5); supplied by consensus. `lookup`
 * reads the replica's live values (e.g. `plan/<epoch-1>` for the voter set). Contract: answer
 * 'defer' while something it depends on is missing, and `invalid` only for a decision that stays
 * invalid whatever else arrives; otherwise replicas could end up holding different entries.
 */
export type DecisionValidator = (
  key: string,
  value: Uint8Array,
  lookup: (key: string) => Uint8Array | undefined
) => DecisionVerdict

export interface LedgerReplicaInit {
  /** Public cluster id from the token: domain-separates every entry signature. */
  readonly clusterId: string
  readonly validateDecision: DecisionValidator
  /** How far a received stamp may pull our clock ahead of our wall clock (profile `maxClockSkewMs`). */
  readonly maxClockSkewMs: number
  /** Bounds; default to `LEDGER_ENTRIES_MAX`, `LEDGER_BYTES_MAX`, `PENDING_DECISIONS_MAX`. Tests use small ones. */
  readonly entriesMax?: number
  readonly bytesMax?: number
  readonly pendingMax?: number
  /** Per-writer bounds; default to `WRITER_NODE_ENTRIES_MAX`, `WRITER_NODE_BYTES_MAX`, `WRITER_VOTES_MAX`. */
  readonly writerBounds?: WriterBounds
  /**
   * Writers whose `node/` entries may use the reserve (the control plane of the latest plan). Asked
   * only when the ledger is past its unreserved part. Default: nobody.
   */
  readonly privilegedWriter?: (writer: NodeId) => boolean
  /** Verified signatures; share one across simulated replicas so each entry is verified once. */
  readonly signatureCache?: SignatureCache
  /** The signature check used by `audit` (default: Ed25519 from the writer's id). */
  readonly verify?: (nodeId: NodeId, message: Uint8Array, signature: Uint8Array) => boolean
}

/** A held entry with what the replica derived from it once. */
export interface HeldEntry {
  readonly entry: Entry
  /** Canonical encoding: the persist and snapshot form, and the size that is counted. */
  readonly encoded: Uint8Array
  /** SHA-256 of `encoded`: identifies this exact version in digests and summaries. */
  readonly hash: Uint8Array
  readonly bucket: number
}

const NOTHING: readonly never[] = Object.freeze([])

/**
 * One node's copy of the signed CRDT ledger. `merge` keeps, per key, the best valid entry ever
 * seen by the family's total order (`compareForKeep`), so replicas that received the same entries
 * in any order, with any duplication, hold the same entries. Every bound is enforced: past it an
 * entry is refused with a typed reason, never stored.
 */
export class LedgerReplica {
  readonly clusterId: string
  readonly clock: HybridClock
  private readonly validateDecision: DecisionValidator
  private readonly entriesMax: number
  private readonly bytesMax: number
  private readonly signatures: SignatureCache
  private readonly verifySignature: (nodeId: NodeId, message: Uint8Array, signature: Uint8Array) => boolean
  private readonly held = new Map<string, HeldEntry>()
  /**
   * Every held key, kept in key order as keys come and go: `list(prefix)` is a binary search and
   * a walk over the matching keys rather than a scan and a sort of the whole ledger. The node lists
   * an epoch's votes on every vote it merges, so with thousands of members this is what keeps a
   * merge from costing the whole ledger.
   */
  private readonly keyOrder = new SortedKeys()
  private readonly buckets = new BucketIndex()
  private readonly pending: PendingDecisions
  private readonly writers: WriterUsage
  private readonly privilegedWriter: (writer: NodeId) => boolean
  private heldBytes = 0
  /** Tombstones older than this were reaped here; an old copy arriving again is stale, not re-added. */
  private reapedBeforeMs = 0
  private readonly lookup = (key: string): Uint8Array | undefined => this.value(key)

  constructor (init: LedgerReplicaInit) {
    assert(init.clusterId.length > 0, 'a replica belongs to a cluster')
    this.clusterId = init.clusterId
    this.clock = new HybridClock(init.maxClockSkewMs)
    this.validateDecision = init.validateDecision
    this.entriesMax = init.entriesMax ?? LEDGER_ENTRIES_MAX
    this.bytesMax = init.bytesMax ?? LEDGER_BYTES_MAX
    this.pending = new PendingDecisions(init.pendingMax ?? PENDING_DECISIONS_MAX)
    this.writers = new WriterUsage(init.writerBounds ?? { nodeEntriesMax: WRITER_NODE_ENTRIES_MAX, nodeBytesMax: WRITER_NODE_BYTES_MAX, votesMax: WRITER_VOTES_MAX })
    this.privilegedWriter = init.privilegedWriter ?? (() => false)
    this.verifySignature = init.verify ?? verifyNodeSignature
    this.signatures = init.signatureCache ?? new SignatureCache(undefined, this.verifySignature)
    assert(this.entriesMax > 0 && this.bytesMax > 0, 'ledger bounds are positive')
  }

  /** Merges one entry from anywhere (a peer, a restored record). Never throws for bad input. */
  merge (entry: Entry): MergeResult {
    const reports: LedgerReport[] = []
    const outcome = this.mergeOne(entry, reports)
    if (outcome !== 'added' && outcome !== 'replaced') {
      return { outcome, accepted: NOTHING, reports: reports.length === 0 ? NOTHING : reports }
    }
    const accepted: Entry[] = [entry]
    if (this.pending.size > 0) this.releasePending(accepted, reports)
    return { outcome, accepted, reports }
  }

  /**
   * Writes a local entry (null deletes the key). Its stamp orders after the held version, so our
   * own write always wins. Throws `LedgerError` when the write is refused.
   */
  write (key: string, value: Uint8Array | null, nowMs: number, nodeKey: NodeKey): MergeResult {
    const parsed = parseKey(key)
    if (!isParsedKey(parsed)) throw new LedgerError('LEDGER_BAD_KEY', `cannot write ${JSON.stringify(key.slice(0, 64))}: ${parsed.problem}`)
    const owner = requiredWriter(parsed)
    if (owner !== null && owner !== nodeKey.nodeId) {
      throw new LedgerError('LEDGER_NOT_OWNER', `node ${nodeKey.nodeId} may not write ${key}: only ${owner} may (S5)`)
    }
    if (value !== null && value.byteLength > ENTRY_VALUE_BYTES_MAX) {
      throw new LedgerError('LEDGER_TOO_LARGE', `value for ${key} is ${value.byteLength} bytes, over the limit of ${ENTRY_VALUE_BYTES_MAX}: split it`)
    }
    const held = this.held.get(key)
    const stamp = held === undefined ? this.clock.now(nowMs) : this.clock.nowAbove(held.entry.stamp, nowMs)
    const result = this.merge(signEntry(this.clusterId, { key, value, stamp }, nodeKey))
    if (isRejected(result.outcome)) {
      const code = result.outcome.rejected === 'ledger-full' ? 'LEDGER_FULL' : 'LEDGER_REJECTED'
      throw new LedgerError(code, `local write of ${key} refused (${result.outcome.rejected}): ${result.outcome.detail}`)
    }
    return result
  }

  /** Folds a received stamp into the local clock; true if it was clamped (a peer's clock is off). */
  observe (stamp: Stamp, nowMs: number): boolean {
    return this.clock.observe(stamp, nowMs)
  }

  /** The held entry of a key, tombstone included. */
  get (key: string): Entry | undefined {
    return this.held.get(key)?.entry
  }

  /** The live value of a key (undefined when absent or deleted). */
  value (key: string): Uint8Array | undefined {
    return this.held.get(key)?.entry.value ?? undefined
  }

  /** The held entry with its encoding and hash (for sync). */
  heldEntry (key: string): HeldEntry | undefined {
    return this.held.get(key)
  }

  /** Live entries whose key starts with `prefix`, in key order. */
  list (prefix: string): Entry[] {
    const out: Entry[] = []
    for (const key of this.keyOrder.withPrefix(prefix)) {
      const held = this.held.get(key)
      assert(held !== undefined, 'the key order lists only held keys')
      if (held.entry.value !== null) out.push(held.entry)
    }
    return out
  }

  /** Every held entry, tombstones included, in key order: the canonical dump. */
  entries (): Entry[] {
    return this.keyOrder.all().map((key) => {
      const held = this.held.get(key)
      assert(held !== undefined, 'the key order lists only held keys')
      return held.entry
    })
  }

  get size (): number {
    return this.held.size
  }

  /** Encoded bytes of the held entries. */
  get bytes (): number {
    return this.heldBytes
  }

  get pendingCount (): number {
    return this.pending.size
  }

  /** Decisions waiting for what they depend on, lowest epoch first. */
  pendingEntries (): Entry[] {
    return this.pending.inOrder()
  }

  /** One hash of the whole content: equal on replicas holding the same entries. */
  rootHash (): Uint8Array {
    return this.buckets.rootHash()
  }

  /** Every bucket hash, concatenated (the `ledger/buckets` payload). */
  bucketHashes (): Uint8Array {
    return this.buckets.allBucketHashes()
  }

  bucketHash (bucket: number): Uint8Array {
    return this.buckets.bucketHash(bucket)
  }

  /** Held keys of one digest bucket, in key order. */
  keysInBucket (bucket: number): string[] {
    return this.buckets.keysOf(bucket)
  }

  /**
   * Forgets tombstones written more than `horizonMs` before `nowMs`; returns their keys. A replica
   * that still holds the deleted value after the horizon could bring it back: the horizon must
   * exceed the longest partition we ride out (profile `tombstoneHorizonMs`).
   */
  reap (nowMs: number, horizonMs: number): string[] {
    assert(Number.isSafeInteger(nowMs) && Number.isSafeInteger(horizonMs) && horizonMs >= 0, 'reap times are integers')
    const beforeMs = nowMs - horizonMs
    const reaped: string[] = []
    for (const [key, held] of this.held) {
      if (held.entry.value === null && held.entry.stamp.wallMs < beforeMs) reaped.push(key)
    }
    for (const key of reaped) this.remove(key)
    this.reapedBeforeMs = Math.max(this.reapedBeforeMs, beforeMs)
    return reaped.sort(compareKeys)
  }

  /**
   * Re-checks every held entry from scratch, without caches: shape, ownership, signature, and
   * decisions through the validator (S5). Returns one sentence per problem; empty when sound.
   */
  audit (): string[] {
    const problems: string[] = []
    const keys = [...this.held.keys()].sort(compareKeys)
    // Two paths to one fact: the maintained key order must be the sorted held keys.
    assert(keys.length === this.keyOrder.size && keys.every((key, index) => this.keyOrder.at(index) === key), 'the key order matches the held keys')
    for (const key of keys) {
      const held = this.held.get(key)
      assert(held !== undefined, 'audit walks held keys')
      const entry = held.entry
      const admission = this.admit(entry)
      if (!('family' in admission)) {
        problems.push(`${key}: ${admission.rejected}: ${admission.detail}`)
        continue
      }
      if (!verifyEntrySignature(this.clusterId, entry, this.verifySignature)) problems.push(`${key}: signature does not verify (S5)`)
      if (admission.family === 'plan' && entry.value !== null) {
        const verdict = this.validateDecision(key, entry.value, this.lookup)
        if (verdict !== 'valid') problems.push(`${key}: decision is ${verdict === 'defer' ? 'held without its dependency' : `invalid: ${verdict.invalid}`} (S5)`)
      }
    }
    return problems
  }

  private mergeOne (entry: Entry, reports: LedgerReport[]): MergeOutcome {
    const held = this.held.get(entry.key)
    // The common case under gossip: an entry we hold already passed every check.
    if (held !== undefined && sameEntry(held.entry, entry)) return 'duplicate'
    const parsed = this.admit(entry)
    if (!('family' in parsed)) return parsed
    let heldWins = false
    let valuesDiffer = false
    if (held !== undefined) {
      heldWins = compareForKeep(parsed.family, held.entry, entry) < 0
      valuesDiffer = compareValues(held.entry.value, entry.value) !== 0
      // A losing write changes nothing, so it needs no signature check — unless it is evidence.
      if (heldWins && !(isWriteOnce(parsed.family) && valuesDiffer)) return 'stale'
    } else if (entry.value === null && entry.stamp.wallMs < this.reapedBeforeMs) {
      return 'stale'
    }
    if (this.pending.has(entry)) return 'deferred'
    if (!this.signatures.verify(this.clusterId, entry)) {
      return reject('bad-signature', `${entry.key} is not signed by ${entry.writer} for this cluster (S5)`)
    }
    if (parsed.family === 'plan' && entry.value !== null) {
      const verdict = this.validateDecision(entry.key, entry.value, this.lookup)
      if (verdict === 'defer') return this.defer(entry, parsed.epoch)
      if (verdict !== 'valid') return reject('invalid-decision', `${entry.key} lacks a valid quorum certificate (S5): ${verdict.invalid}`)
    }
    if (held !== undefined && heldWins) {
      reports.push(conflictReport(parsed, held.entry, entry))
      return 'stale'
    }
    const stored = this.store(entry, parsed, held)
    if (stored !== undefined) return stored
    if (held !== undefined && valuesDiffer && isWriteOnce(parsed.family)) {
      reports.push(conflictReport(parsed, entry, held.entry))
      if (parsed.family === 'plan') this.dropOrphans(parsed.epoch, reports)
    }
    return held === undefined ? 'added' : 'replaced'
  }

  /** Checks that need no state: bounds, key family, ownership (S5), tombstone rules. */
  private admit (entry: Entry): ParsedKey | { readonly rejected: RejectReason, readonly detail: string } {
    const malformed = shapeProblem(entry)
    if (malformed !== undefined) return reject('malformed', malformed)
    const parsed = parseKey(entry.key)
    if (!isParsedKey(parsed)) return reject('bad-key', parsed.problem)
    const owner = requiredWriter(parsed)
    if (owner !== null && owner !== entry.writer) {
      return reject('not-owner', `${entry.writer} may not write ${entry.key}: only ${owner} may (S5)`)
    }
    if (entry.value === null && isWriteOnce(parsed.family)) {
      return reject('tombstone-not-allowed', `${entry.key} is write-once and cannot be deleted`)
    }
    return parsed
  }

  private defer (entry: Entry, epoch: number): MergeOutcome {
    if (!this.pending.add(entry, epoch)) {
      return reject('pending-full', `${this.pending.capacity} decisions already wait for their dependencies; ${entry.key} will be offered again`)
    }
    return 'deferred'
  }

  /** Stores a verified winner; returns a rejection if a bound would be passed. */
  private store (entry: Entry, parsed: ParsedKey, replaced: HeldEntry | undefined): MergeOutcome | undefined {
    const encoded = encodeCanonical(entryObject(entry))
    assert(encoded.byteLength <= ENTRY_ENCODED_BYTES_MAX, 'ENTRY_OVERHEAD_BYTES_MAX bounds an entry within its checked fields')
    const replacedBytes = replaced?.encoded.byteLength ?? null
    const writerProblem = this.writers.problem(parsed, encoded.byteLength, replacedBytes)
    if (writerProblem !== null) return reject('writer-full', `${entry.key} refused: ${writerProblem}`)
    const bytesAfter = this.heldBytes - (replacedBytes ?? 0) + encoded.byteLength
    const countAfter = this.held.size + (replaced === undefined ? 1 : 0)
    if (countAfter > this.entriesMax || bytesAfter > this.bytesMax) {
      return reject('ledger-full', `the ledger holds ${this.held.size} entries and ${this.heldBytes} bytes; bounds are ${this.entriesMax} and ${this.bytesMax}`)
    }
    // The reserve: past the unreserved part only votes, decisions and the control plane's own entries go in.
    const entriesOpen = this.entriesMax - Math.floor(this.entriesMax / LEDGER_RESERVED_DIVISOR)
    const bytesOpen = this.bytesMax - Math.floor(this.bytesMax / LEDGER_RESERVED_DIVISOR)
    const growing = countAfter > this.held.size || bytesAfter > this.heldBytes
    if (parsed.family === 'node' && growing && (countAfter > entriesOpen || bytesAfter > bytesOpen) && !this.privilegedWriter(parsed.owner)) {
      return reject('ledger-full', `the ledger holds ${this.held.size} entries and ${this.heldBytes} bytes; what is left (above ${entriesOpen} entries or ${bytesOpen} bytes) is kept for votes, plans and the control plane`)
    }
    const bucket = replaced?.bucket ?? bucketOfKey(entry.key)
    const held: HeldEntry = { entry, encoded, hash: sha256(encoded), bucket }
    if (replaced === undefined) this.keyOrder.insert(entry.key)
    this.held.set(entry.key, held)
    this.buckets.set(bucket, entry.key, held.hash)
    this.heldBytes = bytesAfter
    this.writers.add(parsed, encoded.byteLength, replacedBytes)
    return undefined
  }

  /** What one writer holds (its node entries, their bytes, its votes). */
  writerUsage (writer: NodeId): { readonly entries: number, readonly bytes: number, readonly votes: number } {
    return this.writers.of(writer)
  }

  private remove (key: string): void {
    const held = this.held.get(key)
    if (held === undefined) return
    this.held.delete(key)
    this.keyOrder.remove(key)
    this.buckets.delete(held.bucket, key)
    this.heldBytes -= held.encoded.byteLength
    assert(this.heldBytes >= 0, 'byte count stays non-negative')
    const parsed = parseKey(key)
    assert(isParsedKey(parsed), 'a held key parses')
    this.writers.remove(parsed, held.encoded.byteLength)
  }

  /**
   * A different plan now holds epoch `epoch`: the decisions above it that were built on the one it
   * replaced fail their checks against it (a new initialiser, other voters). They are let go, one
   * epoch after another up to the first that still holds, and reported; the node that made them
   * hears of it and follows the plan every replica keeps.
   */
  private dropOrphans (epoch: number, reports: LedgerReport[]): void {
    for (let later = epoch + 1; ; later++) {
      const key = `plan/${later}`
      const held = this.held.get(key)
      if (held === undefined || held.entry.value === null) return
      const verdict = this.validateDecision(key, held.entry.value, this.lookup)
      if (verdict === 'valid') return
      this.remove(key)
      const reason = verdict === 'defer' ? `plan/${later - 1} it depends on is gone` : verdict.invalid
      reports.push({ type: 'orphaned', key, dropped: held.entry, reason })
    }
  }

  /** Re-checks deferred decisions after a merge, until none is released (each pass is bounded). */
  private releasePending (accepted: Entry[], reports: LedgerReport[]): void {
    for (let pass = 0; pass <= this.pending.capacity; pass++) {
      let released = false
      for (const entry of this.pending.inOrder()) {
        const verdict = entry.value === null ? 'defer' : this.validateDecision(entry.key, entry.value, this.lookup)
        if (verdict === 'defer') continue
        this.pending.remove(entry)
        if (verdict !== 'valid') continue
        const outcome = this.mergeOne(entry, reports)
        if (outcome === 'added' || outcome === 'replaced') {
          accepted.push(entry)
          released = true
        }
      }
      if (!released) return
    }
  }
}

function reject (rejected: RejectReason, detail: string): { readonly rejected: RejectReason, readonly detail: string } {
  return { rejected, detail }
}

function conflictReport (parsed: ParsedKey, kept: Entry, dropped: Entry): LedgerReport {
  if (parsed.family === 'vote') return { type: 'equivocation', key: kept.key, voter: parsed.voter, kept, dropped }
  return { type: 'conflict', key: kept.key, kept, dropped }
}

/** Bounds of an entry built in-process (decoded ones were checked by the schema already). */
function shapeProblem (entry: Entry): string | undefined {
  if (entry.key.length > ENTRY_KEY_BYTES_MAX) return `key is over ${ENTRY_KEY_BYTES_MAX} bytes`
  if (entry.value !== null && entry.value.byteLength > ENTRY_VALUE_BYTES_MAX) return `value is over ${ENTRY_VALUE_BYTES_MAX} bytes`
  if (entry.signature.byteLength !== ENTRY_SIGNATURE_BYTES) return `signature is not ${ENTRY_SIGNATURE_BYTES} bytes`
  if (entry.writer.length === 0 || entry.writer.length > NODE_ID_CHARS_MAX) return 'writer is not a node id'
  if (!isValidStamp(entry.stamp)) return 'stamp is out of range'
  return undefined
}
