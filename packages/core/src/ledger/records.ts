import { CodecError } from '../errors.js'
import { decodeEntry, encodeEntry } from './codec.js'
import { isRejected } from './outcome.js'
import { LedgerReplica } from './replica.js'
import type { PersistRecord } from '../node/contract.js'
import type { Entry } from './entry.js'
import type { LedgerReplicaInit } from './replica.js'

/** Kind of the ledger's persist records. */
export const LEDGER_ENTRY_RECORD = 'ledger/entry'

/** One accepted entry, appended to the state dir so a restart can re-merge it. */
export interface LedgerEntryRecord extends PersistRecord {
  readonly kind: typeof LEDGER_ENTRY_RECORD
  /** `encodeEntry(entry)`. */
  readonly entry: Uint8Array
}

export function entryRecord (entry: Entry): LedgerEntryRecord {
  return { kind: LEDGER_ENTRY_RECORD, entry: encodeEntry(entry) }
}

/** A record or snapshot entry the restore could not take back, with the reason. */
export interface RestoreProblem {
  readonly index: number
  readonly problem: string
}

/**
 * Rebuilds a replica from a snapshot's entries and then the persisted records, in order (records
 * of other kinds are skipped). Everything is re-verified as if it came from a peer: a damaged or
 * forged record is listed in `problems` and left out, never trusted.
 */
export function restoreReplica (
  records: readonly PersistRecord[],
  init: LedgerReplicaInit,
  snapshotEntries: readonly Entry[] = []
): { replica: LedgerReplica, problems: RestoreProblem[] } {
  const replica = new LedgerReplica(init)
  const problems: RestoreProblem[] = []
  const mergeRestored = (entry: Entry, index: number): void => {
    const { outcome, reports } = replica.merge(entry)
    if (isRejected(outcome)) problems.push({ index, problem: `${entry.key}: ${outcome.rejected}: ${outcome.detail}` })
    // A decision built on a plan that lost a best-effort conflict: kept on disk, reported (S8).
    for (const report of reports) {
      if (report.type === 'orphaned') problems.push({ index, problem: `${report.key}: built on a plan the ledger no longer keeps: ${report.reason}` })
    }
  }
  snapshotEntries.forEach((entry, index) => { mergeRestored(entry, index) })
  records.forEach((record, index) => {
    if (record.kind !== LEDGER_ENTRY_RECORD) return
    const bytes: unknown = (record as { entry?: unknown }).entry
    if (!(bytes instanceof Uint8Array)) {
      problems.push({ index, problem: 'ledger/entry record has no entry bytes' })
      return
    }
    try {
      mergeRestored(decodeEntry(bytes), index)
    } catch (err) {
      if (!(err instanceof CodecError)) throw err
      problems.push({ index, problem: err.message })
    }
  })
  return { replica, problems }
}
