// Goal: the ledger merge is a CRDT: replicas that received the same entries in any order, with any
// duplication, hold exactly the same entries (commutative, idempotent), and joining replica states
// is associative. Method: fast-check draws sequences over a fixed pool of tricky entries (ties,
// tombstones, equivocation, conflicting and chained decisions, forgeries) and compares canonical
// dumps. Replicas share one SignatureCache, as the simulator's will, so each entry is verified once.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { Prng } from '../../src/prng.js'
import { dump, makeReplica, SignatureCache } from './fixtures.js'
import { POOL } from './pool.js'
import type { Entry } from '../../src/ledger/entry.js'
import type { LedgerReplica } from '../../src/ledger/replica.js'

const signatureCache = new SignatureCache()
const NUM_RUNS = 150

function replicaOf (entries: readonly Entry[]): LedgerReplica {
  const replica = makeReplica({ signatureCache })
  for (const entry of entries) replica.merge(entry)
  return replica
}

/** A replica's whole state: held entries and waiting decisions. */
function stateOf (replica: LedgerReplica): Entry[] {
  return [...replica.entries(), ...replica.pendingEntries()]
}

function join (a: LedgerReplica, b: LedgerReplica): LedgerReplica {
  return replicaOf([...stateOf(a), ...stateOf(b)])
}

function fullDump (replica: LedgerReplica): { held: string[], pending: string[], root: string } {
  return {
    held: dump(replica),
    pending: replica.pendingEntries().map((entry) => entry.key),
    root: Buffer.from(replica.rootHash()).toString('hex')
  }
}

const indexes = fc.array(fc.nat(POOL.length - 1), { maxLength: 60 })
const pick = (picked: readonly number[]): Entry[] => picked.map((i) => POOL[i] as Entry)

describe('ledger merge is a CRDT', () => {
  it('gives the same state for any order and duplication of the same entries', () => {
    fc.assert(fc.property(indexes, fc.integer(), fc.nat(3), (picked, seed, copies) => {
      const entries = pick(picked)
      const reordered = new Prng(seed).shuffle(entries)
      const duplicated = reordered.flatMap((entry) => Array.from({ length: copies + 1 }, () => entry))
      expect(fullDump(replicaOf(duplicated))).toEqual(fullDump(replicaOf(entries)))
    }), { numRuns: NUM_RUNS })
  })

  it('is idempotent: merging everything again changes nothing and reports nothing new', () => {
    fc.assert(fc.property(indexes, (picked) => {
      const entries = pick(picked)
      const replica = replicaOf(entries)
      const before = fullDump(replica)
      for (const entry of entries) {
        const result = replica.merge(entry)
        expect(result.accepted).toEqual([])
        expect(['duplicate', 'stale', 'deferred'].includes(String(result.outcome)) || typeof result.outcome === 'object').toBe(true)
      }
      expect(fullDump(replica)).toEqual(before)
    }), { numRuns: NUM_RUNS })
  })

  it('joins states commutatively and associatively', () => {
    fc.assert(fc.property(indexes, indexes, indexes, (x, y, z) => {
      const [a, b, c] = [replicaOf(pick(x)), replicaOf(pick(y)), replicaOf(pick(z))]
      expect(fullDump(join(a, b))).toEqual(fullDump(join(b, a)))
      expect(fullDump(join(join(a, b), c))).toEqual(fullDump(join(a, join(b, c))))
    }), { numRuns: NUM_RUNS })
  })

  it('never holds a rejected entry: every held entry passes a from-scratch audit', () => {
    fc.assert(fc.property(indexes, (picked) => {
      expect(replicaOf(pick(picked)).audit()).toEqual([])
    }), { numRuns: 30 })
  })
})
