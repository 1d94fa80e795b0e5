// Goal: the replica's key order (what `list(prefix)` and `entries()` walk instead of scanning and
// sorting the whole ledger) always holds exactly the held keys, sorted, so listings equal what a
// scan would give. Method: the SortedKeys set against a naive sorted array under random inserts,
// removals and prefix queries (prefixes that match nothing, everything, or sit between keys);
// then a replica fed random pool entries, local writes and tombstone reaping, whose listings are
// compared after each step with a from-scratch scan of `get` over every key it could hold.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { nodeEntryKey, voteEntryKey } from '../../src/ledger/keys.js'
import { SortedKeys } from '../../src/ledger/sorted-keys.js'
import { alice, bob, bytesOf, carol, makeReplica, SignatureCache } from './fixtures.js'
import { POOL } from './pool.js'

const ALPHABET = ['a', 'b', 'ab', 'b/', 'a/', 'node/', 'vote/1/', 'vote/10/', 'vote/2/']

describe('SortedKeys', () => {
  it('agrees with a sorted array under random inserts, removals and prefix queries', () => {
    const key = fc.array(fc.constantFrom(...ALPHABET), { minLength: 1, maxLength: 4 }).map((parts) => parts.join(''))
    const operation = fc.oneof(
      fc.record({ op: fc.constant('insert' as const), key }),
      fc.record({ op: fc.constant('remove' as const), key }),
      fc.record({ op: fc.constant('list' as const), key: fc.oneof(key, fc.constant(''), fc.constant('zzz')) })
    )
    fc.assert(fc.property(fc.array(operation, { maxLength: 80 }), (operations) => {
      const keys = new SortedKeys()
      const naive = new Set<string>()
      for (const { op, key: text } of operations) {
        if (op === 'insert' && !naive.has(text)) {
          keys.insert(text)
          naive.add(text)
        } else if (op === 'remove') {
          keys.remove(text)
          naive.delete(text)
        } else if (op === 'list') {
          expect(keys.withPrefix(text)).toEqual([...naive].filter((held) => held.startsWith(text)).sort())
        }
        expect(keys.all()).toEqual([...naive].sort())
        expect(keys.size).toBe(naive.size)
      }
    }), { numRuns: 300 })
  })

  it('refuses a key inserted twice (a caller bug)', () => {
    const keys = new SortedKeys()
    keys.insert('a')
    expect(() => { keys.insert('a') }).toThrow(/a key is inserted once/)
  })
})

describe('replica listings through the key order', () => {
  const signatureCache = new SignatureCache()
  const writers = [alice, bob, carol]
  /** Every key a step below can create: the pool's keys and the local writes'. */
  const localKeys = writers.flatMap((writer) => ['x', 'y', 'z'].map((name) => nodeEntryKey(writer.nodeId, name)))
  const allKeys = [...new Set([...POOL.map((entry) => entry.key), ...localKeys])]
  const prefixes = ['', 'node/', 'vote/', 'vote/1/', 'plan/', ...writers.map((writer) => `node/${writer.nodeId}/`), voteEntryKey(1, 1, alice.nodeId, bob.nodeId)]

  it('list(prefix) and entries() equal a scan of every held key, after merges, writes and reaps', () => {
    fc.assert(fc.property(fc.array(fc.nat(999), { minLength: 1, maxLength: 60 }), (draws) => {
      const replica = makeReplica({ signatureCache })
      let nowMs = 1_000
      for (const draw of draws) {
        if (draw < 700) {
          replica.merge(POOL[draw % POOL.length] ?? POOL[0] ?? fail())
        } else if (draw < 950) {
          const writer = writers[draw % writers.length] ?? alice
          const key = nodeEntryKey(writer.nodeId, ['x', 'y', 'z'][draw % 3] ?? 'x')
          replica.write(key, draw % 2 === 0 ? null : bytesOf(`v${draw}`), nowMs, writer)
        } else {
          nowMs += 10_000
          replica.reap(nowMs, 5_000)
        }
        const held = allKeys.filter((key) => replica.get(key) !== undefined).sort()
        expect(replica.entries().map((entry) => entry.key)).toEqual(held)
        expect(replica.size).toBe(held.length)
        for (const prefix of prefixes) {
          const live = held.filter((key) => key.startsWith(prefix) && replica.value(key) !== undefined)
          expect(replica.list(prefix).map((entry) => entry.key)).toEqual(live)
        }
      }
      expect(replica.audit()).toEqual([])
    }), { numRuns: 60 })
  })
})

function fail (): never {
  throw new Error('the pool is not empty')
}
