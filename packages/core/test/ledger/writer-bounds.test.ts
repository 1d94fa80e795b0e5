// Goal: one identity cannot fill the ledger, and however many identities try, votes, plans and the
// control plane's own entries still go in. Finding reproduced: one token holder wrote 135 entries
// of 500 KiB and 600 small ones; every node held 66.6 MB, and at the 64 MiB bound control planes
// that wrote a vote stopped, at every restart. Method: the attacker's signed entries are merged
// as a peer's would be, with the production bounds, then with small ledger bounds (the per-writer
// bounds unchanged) so many identities reach the reserve quickly.
import { describe, expect, it } from 'vitest'
import { isRejected } from '../../src/ledger/outcome.js'
import {
  ENTRY_VALUE_BYTES_MAX, LEDGER_RESERVED_DIVISOR, WRITER_NODE_BYTES_MAX, WRITER_NODE_ENTRIES_MAX, WRITER_VOTES_MAX
} from '../../src/limits.js'
import type { MergeOutcome } from '../../src/ledger/outcome.js'
import { alice, bob, carol, entryBy, makeReplica, testKey } from './fixtures.js'

const NOW_MS = 1_760_000_000_000
/** Past the count bound, as the attack's 600 were (fewer, so the test signs less). */
const SMALL_ENTRIES = WRITER_NODE_ENTRIES_MAX + 36
/** Small per-writer bounds (the logic is the same), so a test signs dozens of entries, not thousands. */
const SMALL_BOUNDS = { nodeEntriesMax: 8, nodeBytesMax: WRITER_NODE_BYTES_MAX, votesMax: 8 }

function rejection (outcome: MergeOutcome): string | null {
  return isRejected(outcome) ? outcome.rejected : null
}

describe('per-writer ledger bounds', () => {
  it('one identity writing large and many small entries holds at most its bounds; others still write', () => {
    const replica = makeReplica()
    const large = new Uint8Array(500 * 1024).fill(1)
    const outcomes: MergeOutcome[] = []
    for (let index = 0; index < 4; index++) outcomes.push(replica.merge(entryBy(bob, `node/${bob.nodeId}/blob-${index}`, large, NOW_MS)).outcome)
    for (let index = 0; index < SMALL_ENTRIES; index++) outcomes.push(replica.merge(entryBy(bob, `node/${bob.nodeId}/small-${index}`, Uint8Array.of(1), NOW_MS)).outcome)
    // Two large entries fit under WRITER_NODE_BYTES_MAX, the third does not; then the count bound.
    expect(outcomes.slice(0, 4).map(rejection)).toEqual([null, null, 'writer-full', 'writer-full'])
    const usage = replica.writerUsage(bob.nodeId)
    expect(usage.entries).toBe(WRITER_NODE_ENTRIES_MAX)
    expect(usage.bytes).toBeLessThanOrEqual(WRITER_NODE_BYTES_MAX)
    expect(outcomes.filter(outcome => rejection(outcome) === 'writer-full')).toHaveLength(4 + SMALL_ENTRIES - WRITER_NODE_ENTRIES_MAX)
    expect(replica.bytes).toBeLessThanOrEqual(WRITER_NODE_BYTES_MAX)
    // An honest node's largest value and its vote still go in.
    expect(rejection(replica.merge(entryBy(alice, `node/${alice.nodeId}/kubeconfig`, new Uint8Array(ENTRY_VALUE_BYTES_MAX), NOW_MS)).outcome)).toBeNull()
    expect(rejection(replica.merge(entryBy(alice, `vote/1/1.${alice.nodeId}/${alice.nodeId}`, Uint8Array.of(2), NOW_MS)).outcome)).toBeNull()
  })

  it('replacing an entry counts its new size, not one more entry; a deleted key frees its room once reaped', () => {
    const replica = makeReplica({ writerBounds: SMALL_BOUNDS })
    const key = `node/${bob.nodeId}/status`
    for (let version = 0; version < SMALL_BOUNDS.nodeEntriesMax * 2; version++) {
      expect(rejection(replica.merge(entryBy(bob, key, Uint8Array.of(version & 0xff), NOW_MS + version)).outcome)).toBeNull()
    }
    expect(replica.writerUsage(bob.nodeId).entries).toBe(1)
    replica.merge(entryBy(bob, key, null, NOW_MS + 10_000))
    replica.reap(NOW_MS + 20_000, 1_000)
    expect(replica.writerUsage(bob.nodeId)).toEqual({ entries: 0, bytes: 0, votes: 0 })
  })

  it('a voter holds at most its bound of votes (WRITER_VOTES_MAX in production)', () => {
    expect(WRITER_VOTES_MAX).toBeGreaterThan(SMALL_BOUNDS.votesMax)
    const replica = makeReplica({ writerBounds: SMALL_BOUNDS })
    const results = Array.from({ length: SMALL_BOUNDS.votesMax + 3 }, (_, round) =>
      rejection(replica.merge(entryBy(bob, `vote/1/${round + 1}.${alice.nodeId}/${bob.nodeId}`, Uint8Array.of(1), NOW_MS)).outcome))
    expect(results.filter(result => result === null)).toHaveLength(SMALL_BOUNDS.votesMax)
    expect(results.slice(-3)).toEqual(['writer-full', 'writer-full', 'writer-full'])
  })

  it('many identities fill only the unreserved part: votes, plans and the control plane still go in', () => {
    const entriesMax = 80
    const controlPlane = carol.nodeId
    const replica = makeReplica({ entriesMax, privilegedWriter: (writer) => writer === controlPlane })
    const open = entriesMax - entriesMax / LEDGER_RESERVED_DIVISOR
    let refused = 0
    for (let seed = 100; seed < 100 + entriesMax; seed++) {
      const identity = testKey(seed)
      if (rejection(replica.merge(entryBy(identity, `node/${identity.nodeId}/facts`, Uint8Array.of(1), NOW_MS)).outcome) === 'ledger-full') refused++
    }
    expect(replica.size).toBe(open)
    expect(refused).toBe(entriesMax - open)
    expect(rejection(replica.merge(entryBy(alice, `vote/1/1.${alice.nodeId}/${alice.nodeId}`, Uint8Array.of(1), NOW_MS)).outcome)).toBeNull()
    expect(rejection(replica.merge(entryBy(bob, 'plan/1', new TextEncoder().encode('valid:plan'), NOW_MS)).outcome)).toBeNull()
    expect(rejection(replica.merge(entryBy(carol, `node/${controlPlane}/status`, Uint8Array.of(1), NOW_MS)).outcome)).toBeNull()
    // A worker's new entry is refused, but it may still replace one it holds with one no larger.
    expect(rejection(replica.merge(entryBy(alice, `node/${alice.nodeId}/facts`, Uint8Array.of(1), NOW_MS)).outcome)).toBe('ledger-full')
    const first = testKey(100)
    expect(rejection(replica.merge(entryBy(first, `node/${first.nodeId}/facts`, Uint8Array.of(2), NOW_MS + 1)).outcome)).toBeNull()
  })
})
