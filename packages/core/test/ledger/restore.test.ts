// Goal: a replica rebuilt from its persist records (and optionally a snapshot) holds what it held
// before, and damaged or forged records are listed and left out, never trusted. Method: build a
// replica, persist what each merge accepted as records, restore, compare dumps.
import { describe, expect, it } from 'vitest'
import { nodeEntryKey, planEntryKey } from '../../src/ledger/keys.js'
import { entryRecord, LEDGER_ENTRY_RECORD, restoreReplica } from '../../src/ledger/records.js'
import { decodeSnapshot, encodeSnapshot } from '../../src/ledger/snapshot.js'
import { alice, bob, bytesOf, CLUSTER_ID, dump, entryBy, makeReplica, SKEW_MS, toyValidator, validDecision } from './fixtures.js'
import type { PersistRecord } from '../../src/node/contract.js'

const init = { clusterId: CLUSTER_ID, validateDecision: toyValidator, maxClockSkewMs: SKEW_MS }

function buildWithRecords (): { records: PersistRecord[], dumped: string[] } {
  const replica = makeReplica()
  const records: PersistRecord[] = []
  const entries = [
    entryBy(alice, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('1'), 1),
    entryBy(alice, planEntryKey(2), validDecision('two'), 3),
    entryBy(bob, planEntryKey(1), validDecision('one'), 2),
    entryBy(alice, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('2'), 5)
  ]
  for (const entry of entries) records.push(...replica.merge(entry).accepted.map(entryRecord))
  return { records, dumped: dump(replica) }
}

describe('restoreReplica', () => {
  it('rebuilds the same replica from its records', () => {
    const { records, dumped } = buildWithRecords()
    const { replica, problems } = restoreReplica(records, init)
    expect(problems).toEqual([])
    expect(dump(replica)).toEqual(dumped)
  })

  it('rebuilds from a snapshot plus later records', () => {
    const { records, dumped } = buildWithRecords()
    const early = restoreReplica(records.slice(0, 2), init).replica
    const snapshot = decodeSnapshot(encodeSnapshot(early.entries()))
    const { replica } = restoreReplica(records.slice(2), init, snapshot)
    expect(dump(replica)).toEqual(dumped)
  })

  it('lists damaged and forged records and skips other kinds', () => {
    const good = entryRecord(entryBy(alice, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('1'), 1))
    const forged = entryRecord({ ...entryBy(alice, nodeEntryKey(alice.nodeId, 'facts'), bytesOf('1'), 9), value: bytesOf('x') })
    const records: PersistRecord[] = [
      { kind: 'paxos/promise' },
      { kind: LEDGER_ENTRY_RECORD },
      { ...good, entry: good.entry.subarray(0, 10) },
      forged,
      good
    ]
    const { replica, problems } = restoreReplica(records, init)
    expect(problems.map((problem) => problem.index)).toEqual([1, 2, 3])
    expect(replica.size).toBe(1)
  })
})
