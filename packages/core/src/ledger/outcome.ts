import type { NodeId } from '../identity.js'
import type { Entry } from './entry.js'

/** Why a replica refused an entry. */
export type RejectReason =
  | 'malformed' // a field out of bounds (only entries built in-process can get here; decoding checks first)
  | 'bad-key' // no known key family, or a malformed key
  | 'not-owner' // S5: the writer may not write this key
  | 'tombstone-not-allowed' // votes and decisions are never deleted
  | 'bad-signature' // S5: not signed by its writer for this cluster
  | 'invalid-decision' // S5: a decision without a valid quorum certificate
  | 'ledger-full' // the replica is at its entry or byte bound (for this family: see the reserve)
  | 'writer-full' // the writer already holds the most entries or bytes one node or voter may
  | 'pending-full' // too many decisions already wait for what they depend on

/** What merging one entry did. */
export type MergeOutcome =
  | 'added' // a new key
  | 'replaced' // a better version of a held key
  | 'duplicate' // exactly the held entry
  | 'stale' // a valid entry that loses to the held one, or a tombstone already reaped
  | 'deferred' // a decision waiting for what it depends on; re-checked after later merges
  | { readonly rejected: RejectReason, readonly detail: string }

/** Something the embedding node should hear about (events `ledger:equivocation`, …). */
export type LedgerReport =
  | {
    /** A voter signed two different votes under one key; both are evidence. */
    readonly type: 'equivocation'
    readonly key: string
    readonly voter: NodeId
    readonly kept: Entry
    readonly dropped: Entry
  }
  | {
    /**
     * Two valid, different decisions for one epoch: with `expect` consensus is broken (S2); in
     * best effort, two parts that could not see each other each bootstrapped. Every replica keeps
     * the same one (resolve.ts).
     */
    readonly type: 'conflict'
    readonly key: string
    readonly kept: Entry
    readonly dropped: Entry
  }
  | {
    /**
     * A later decision built on the plan that lost such a conflict: no longer valid under the plan
     * kept, so the replica let it go. Reported, never dropped silently (S8).
     */
    readonly type: 'orphaned'
    readonly key: string
    readonly dropped: Entry
    readonly reason: string
  }

/**
 * The result of `merge` or `write`. `accepted` lists every entry this call made newly held, in
 * order: the entry itself when added or replaced, and any deferred decisions it released. The node
 * persists these and forwards them to a few peers; nothing else is new.
 */
export interface MergeResult {
  readonly outcome: MergeOutcome
  readonly accepted: readonly Entry[]
  readonly reports: readonly LedgerReport[]
}

/** True for a rejection outcome. */
export function isRejected (outcome: MergeOutcome): outcome is { readonly rejected: RejectReason, readonly detail: string } {
  return typeof outcome === 'object'
}
