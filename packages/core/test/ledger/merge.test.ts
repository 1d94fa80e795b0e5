// Goal: the replica accepts exactly the entries S5 allows and keeps, per key, the one entry the
// family's order prefers, whatever the arrival order. Method: hand-built scenarios with real
// Ed25519 keys: LWW tables, ownership, tampering, foreign clusters, equivocation in both orders,
// deferred decisions, bounds, tombstone reaping, local writes and audit.
import { describe, expect, it } from 'vitest'
import { ENTRY_VALUE_BYTES_MAX } from '../../src/limits.js'
import { LedgerError } from '../../src/ledger/errors.js'
import { nodeEntryKey, planEntryKey, voteEntryKey } from '../../src/ledger/keys.js'
import { isRejected } from '../../src/ledger/outcome.js'
import {
  alice, bob, bytesOf, carol, CLUSTER_ID, dump, entryBy, invalidDecision, makeReplica, OTHER_CLUSTER_ID, toyValidator, validDecision
} from './fixtures.js'
import type { DecisionValidator } from '../../src/ledger/replica.js'
import type { Entry } from '../../src/ledger/entry.js'
import type { MergeOutcome } from '../../src/ledger/outcome.js'

const factsKey = nodeEntryKey(alice.nodeId, 'facts')

function rejection (outcome: MergeOutcome): string | undefined {
  return isRejected(outcome) ? outcome.rejected : undefined
}

describe('last-writer-wins on node keys', () => {
  const older = entryBy(alice, factsKey, bytesOf('v1'), 100)
  const newer = entryBy(alice, factsKey, bytesOf('v2'), 200)
  const sameMsHigherCounter = entryBy(alice, factsKey, bytesOf('v3'), 200, 1)
  const tombstone = entryBy(alice, factsKey, null, 300)

  it.each<[string, Entry[], MergeOutcome[], Uint8Array | undefined]>([
    ['a new key is added', [older], ['added'], bytesOf('v1')],
    ['the same entry twice is a duplicate', [older, older], ['added', 'duplicate'], bytesOf('v1')],
    ['a newer stamp replaces', [older, newer], ['added', 'replaced'], bytesOf('v2')],
    ['an older stamp is stale', [newer, older], ['added', 'stale'], bytesOf('v2')],
    ['the counter breaks a wall-time tie', [sameMsHigherCounter, newer], ['added', 'stale'], bytesOf('v3')],
    ['a tombstone deletes', [newer, tombstone], ['added', 'replaced'], undefined],
    ['an older write cannot resurrect a deleted key', [tombstone, newer], ['added', 'stale'], undefined]
  ])('%s', (_name, entries, outcomes, value) => {
    const replica = makeReplica()
    expect(entries.map((entry) => replica.merge(entry).outcome)).toEqual(outcomes)
    expect(replica.value(factsKey)).toEqual(value)
  })

  it('reports what was new, so the node forwards only that', () => {
    const replica = makeReplica()
    expect(replica.merge(older).accepted).toEqual([older])
    expect(replica.merge(older).accepted).toEqual([])
  })
})

describe('authenticity (S5)', () => {
  it('rejects a node writing another node\'s key', () => {
    const forged = entryBy(bob, factsKey, bytesOf('mine now'), 100)
    expect(rejection(makeReplica().merge(forged).outcome)).toBe('not-owner')
  })

  it('rejects a vote written by someone other than its voter', () => {
    const vote = entryBy(alice, voteEntryKey(1, 1, alice.nodeId, bob.nodeId), bytesOf('accept'), 100)
    expect(rejection(makeReplica().merge(vote).outcome)).toBe('not-owner')
  })

  it.each<[string, (entry: Entry) => Entry]>([
    ['value', (entry) => ({ ...entry, value: bytesOf('tampered') })],
    ['stamp', (entry) => ({ ...entry, stamp: { wallMs: entry.stamp.wallMs + 1, counter: 0 } })],
    ['signature', (entry) => ({ ...entry, signature: entry.signature.map((byte, i) => (i === 0 ? byte ^ 1 : byte)) })]
  ])('rejects an entry whose %s was tampered with', (_field, tamper) => {
    const entry = tamper(entryBy(alice, factsKey, bytesOf('v'), 100))
    expect(rejection(makeReplica().merge(entry).outcome)).toBe('bad-signature')
  })

  it('rejects an entry signed for another cluster id', () => {
    const foreign = entryBy(alice, factsKey, bytesOf('v'), 100, 0, OTHER_CLUSTER_ID)
    expect(rejection(makeReplica().merge(foreign).outcome)).toBe('bad-signature')
  })

  it.each([
    ['unknown family', 'misc/thing'],
    ['malformed vote key', 'vote/1/oops']
  ])('rejects a key in an %s', (_name, key) => {
    expect(rejection(makeReplica().merge(entryBy(alice, key, bytesOf('v'), 1)).outcome)).toBe('bad-key')
  })

  it('rejects tombstones of write-once keys', () => {
    const vote = entryBy(bob, voteEntryKey(1, 1, alice.nodeId, bob.nodeId), null, 100)
    expect(rejection(makeReplica().merge(vote).outcome)).toBe('tombstone-not-allowed')
  })
})

describe('write-once votes and equivocation', () => {
  const key = voteEntryKey(1, 2, alice.nodeId, bob.nodeId)
  const first = entryBy(bob, key, bytesOf('value-a'), 100)
  const second = entryBy(bob, key, bytesOf('value-b'), 200)

  it.each([
    ['first then second', [first, second]],
    ['second then first', [second, first]]
  ])('keeps the same vote and reports equivocation: %s', (_name, order) => {
    const replica = makeReplica()
    replica.merge(order[0] as Entry)
    const result = replica.merge(order[1] as Entry)
    expect(replica.get(key)).toEqual(first)
    expect(result.reports).toHaveLength(1)
    expect(result.reports[0]).toMatchObject({ type: 'equivocation', key, voter: bob.nodeId })
  })

  it('does not report the same vote re-stamped', () => {
    const replica = makeReplica()
    replica.merge(first)
    const again = entryBy(bob, key, bytesOf('value-a'), 500)
    expect(replica.merge(again)).toMatchObject({ outcome: 'stale', reports: [] })
  })

  it('does not let a forged second vote frame the voter', () => {
    const replica = makeReplica()
    replica.merge(first)
    const forged = { ...second, signature: first.signature }
    const result = replica.merge(forged)
    expect(rejection(result.outcome)).toBe('bad-signature')
    expect(result.reports).toEqual([])
  })
})

describe('decisions (plan/<epoch>)', () => {
  it('accepts a valid decision and rejects one the validator refuses', () => {
    const replica = makeReplica()
    expect(replica.merge(entryBy(carol, planEntryKey(1), validDecision('p1'), 10)).outcome).toBe('added')
    expect(rejection(makeReplica().merge(entryBy(carol, planEntryKey(1), invalidDecision(), 10)).outcome)).toBe('invalid-decision')
  })

  it('defers a decision until the one it depends on arrives, then accepts both', () => {
    const replica = makeReplica()
    const plan2 = entryBy(alice, planEntryKey(2), validDecision('p2'), 20)
    const plan1 = entryBy(bob, planEntryKey(1), validDecision('p1'), 10)
    expect(replica.merge(plan2).outcome).toBe('deferred')
    expect(replica.merge(plan2).outcome).toBe('deferred')
    expect(replica.get(planEntryKey(2))).toBeUndefined()
    const result = replica.merge(plan1)
    expect(result.outcome).toBe('added')
    expect(result.accepted).toEqual([plan1, plan2])
    expect(replica.pendingCount).toBe(0)
    expect(replica.audit()).toEqual([])
  })

  it('bounds the pending set, preferring lower epochs', () => {
    const replica = makeReplica({ pendingMax: 2 })
    const plan = (epoch: number): Entry => entryBy(alice, planEntryKey(epoch), validDecision(`p${epoch}`), epoch)
    expect(replica.merge(plan(5)).outcome).toBe('deferred')
    expect(replica.merge(plan(6)).outcome).toBe('deferred')
    expect(rejection(replica.merge(plan(7)).outcome)).toBe('pending-full')
    expect(replica.merge(plan(3)).outcome).toBe('deferred')
    expect(replica.pendingEntries().map((entry) => entry.key)).toEqual([planEntryKey(3), planEntryKey(5)])
  })

  it('keeps one of two different valid decisions in either order and reports the conflict', () => {
    const a = entryBy(alice, planEntryKey(1), validDecision('a'), 10)
    const b = entryBy(bob, planEntryKey(1), validDecision('b'), 5)
    const forward = makeReplica()
    const backward = makeReplica()
    forward.merge(a)
    const reportForward = forward.merge(b).reports
    backward.merge(b)
    const reportBackward = backward.merge(a).reports
    expect(dump(forward)).toEqual(dump(backward))
    expect(reportForward[0]?.type).toBe('conflict')
    expect(reportBackward[0]?.type).toBe('conflict')
  })

  it('lets go, and reports, a later decision built on the plan that lost a conflict (issue 15 finding 5)', () => {
    // plan/2 holds only on top of the plan/1 it names: "valid:on-<plan/1 text>".
    const chained: DecisionValidator = (key, value, lookup) => {
      const verdict = toyValidator(key, value, lookup)
      if (verdict !== 'valid' || key !== planEntryKey(2)) return verdict
      const parent = new TextDecoder().decode(lookup(planEntryKey(1)))
      return new TextDecoder().decode(value) === `valid:on-${parent.slice('valid:'.length)}` ? 'valid' : { invalid: `built on another plan/1 than ${parent}` }
    }
    const replica = makeReplica({ validateDecision: chained })
    const kept = entryBy(bob, planEntryKey(1), validDecision('a'), 5)
    replica.merge(entryBy(alice, planEntryKey(1), validDecision('b'), 10))
    const orphan = entryBy(alice, planEntryKey(2), validDecision('on-b'), 11)
    expect(replica.merge(orphan).outcome).toBe('added')
    const result = replica.merge(kept)
    expect(result.outcome).toBe('replaced')
    expect(replica.get(planEntryKey(1))).toEqual(kept)
    expect(replica.get(planEntryKey(2))).toBeUndefined()
    expect(result.reports.map((report) => report.type)).toEqual(['conflict', 'orphaned'])
    expect(result.reports[1]).toMatchObject({ key: planEntryKey(2), dropped: orphan, reason: 'built on another plan/1 than valid:a' })
    expect(replica.audit()).toEqual([])
    // The same decisions in the other order give the same ledger: the orphan is refused on arrival.
    const other = makeReplica({ validateDecision: chained })
    other.merge(kept)
    expect(rejection(other.merge(orphan).outcome)).toBe('invalid-decision')
    expect(dump(other)).toEqual(dump(replica))
  })

  it('treats the same decision written by two members as one, keeping the earliest copy', () => {
    const early = entryBy(alice, planEntryKey(1), validDecision('same'), 10)
    const late = entryBy(bob, planEntryKey(1), validDecision('same'), 20)
    const replica = makeReplica()
    replica.merge(early)
    expect(replica.merge(late)).toMatchObject({ outcome: 'stale', reports: [] })
    expect(replica.get(planEntryKey(1))?.writer).toBe(alice.nodeId)
  })
})

describe('bounds', () => {
  it('refuses entries past the entry count bound', () => {
    const replica = makeReplica({ entriesMax: 2 })
    expect(replica.merge(entryBy(alice, nodeEntryKey(alice.nodeId, 'a'), bytesOf('1'), 1)).outcome).toBe('added')
    expect(replica.merge(entryBy(alice, nodeEntryKey(alice.nodeId, 'b'), bytesOf('2'), 1)).outcome).toBe('added')
    expect(rejection(replica.merge(entryBy(alice, nodeEntryKey(alice.nodeId, 'c'), bytesOf('3'), 1)).outcome)).toBe('ledger-full')
    // Replacing a held key needs no new slot.
    expect(replica.merge(entryBy(alice, nodeEntryKey(alice.nodeId, 'a'), bytesOf('4'), 2)).outcome).toBe('replaced')
    expect(replica.size).toBe(2)
  })

  it('refuses entries past the byte bound and counts bytes exactly', () => {
    const replica = makeReplica({ bytesMax: 600 })
    const small = entryBy(alice, nodeEntryKey(alice.nodeId, 'a'), new Uint8Array(100), 1)
    expect(replica.merge(small).outcome).toBe('added')
    const before = replica.bytes
    expect(rejection(replica.merge(entryBy(alice, nodeEntryKey(alice.nodeId, 'b'), new Uint8Array(400), 1)).outcome)).toBe('ledger-full')
    expect(replica.bytes).toBe(before)
  })

  it('refuses an oversized in-process entry as malformed', () => {
    const huge = entryBy(alice, factsKey, new Uint8Array(ENTRY_VALUE_BYTES_MAX + 1), 1)
    expect(rejection(makeReplica().merge(huge).outcome)).toBe('malformed')
  })
})

describe('local writes', () => {
  it('stamps a write after the held version even when the wall clock went back', () => {
    const replica = makeReplica()
    replica.write(factsKey, bytesOf('first'), 10_000, alice)
    const result = replica.write(factsKey, bytesOf('second'), 5, alice)
    expect(result.outcome).toBe('replaced')
    expect(replica.value(factsKey)).toEqual(bytesOf('second'))
  })

  it.each([
    ['LEDGER_NOT_OWNER', nodeEntryKey(bob.nodeId, 'facts'), bytesOf('x')],
    ['LEDGER_BAD_KEY', 'nope', bytesOf('x')],
    ['LEDGER_TOO_LARGE', factsKey, new Uint8Array(ENTRY_VALUE_BYTES_MAX + 1)],
    ['LEDGER_REJECTED', planEntryKey(1), invalidDecision()]
  ])('throws %s for a refused write', (code, key, value) => {
    expect(() => makeReplica().write(key, value, 1, alice)).toThrow(expect.objectContaining({ code }) as LedgerError)
  })

  it('throws LEDGER_FULL at the bound', () => {
    const replica = makeReplica({ entriesMax: 1 })
    replica.write(factsKey, bytesOf('a'), 1, alice)
    expect(() => replica.write(nodeEntryKey(alice.nodeId, 'addrs'), bytesOf('b'), 1, alice)).toThrow(LedgerError)
  })
})

describe('tombstone reaping', () => {
  it('reaps tombstones past the horizon, and does not take an old copy back', () => {
    const replica = makeReplica()
    const tombstone = entryBy(alice, factsKey, null, 1_000)
    const live = entryBy(alice, nodeEntryKey(alice.nodeId, 'addrs'), bytesOf('a'), 1_000)
    replica.merge(tombstone)
    replica.merge(live)
    expect(replica.reap(1_500, 1_000)).toEqual([])
    expect(replica.reap(5_000, 1_000)).toEqual([factsKey])
    expect(replica.get(factsKey)).toBeUndefined()
    expect(replica.value(live.key)).toEqual(bytesOf('a'))
    expect(replica.merge(tombstone).outcome).toBe('stale')
  })
})

describe('list, audit', () => {
  it('lists live entries under a prefix in key order', () => {
    const replica = makeReplica()
    replica.write(nodeEntryKey(alice.nodeId, 'b'), bytesOf('2'), 1, alice)
    replica.write(nodeEntryKey(alice.nodeId, 'a'), bytesOf('1'), 1, alice)
    replica.write(nodeEntryKey(alice.nodeId, 'c'), null, 1, alice)
    replica.write(nodeEntryKey(bob.nodeId, 'a'), bytesOf('x'), 1, bob)
    expect(replica.list(`node/${alice.nodeId}/`).map((entry) => entry.key)).toEqual([
      nodeEntryKey(alice.nodeId, 'a'), nodeEntryKey(alice.nodeId, 'b')
    ])
  })

  it('audit finds nothing wrong in a replica built by merge', () => {
    const replica = makeReplica()
    replica.write(factsKey, bytesOf('1'), 1, alice)
    replica.merge(entryBy(carol, planEntryKey(1), validDecision('p'), 1))
    expect(replica.audit()).toEqual([])
  })

  it('audit re-checks decisions with the validator', () => {
    let strict = false
    const replica = makeReplica({ validateDecision: () => (strict ? { invalid: 'certificate revoked' } : 'valid') })
    replica.merge(entryBy(carol, planEntryKey(1), validDecision('p'), 1))
    strict = true
    expect(replica.audit()).toHaveLength(1)
  })

  it('keeps the cluster id it was given', () => {
    expect(makeReplica().clusterId).toBe(CLUSTER_ID)
  })
})
