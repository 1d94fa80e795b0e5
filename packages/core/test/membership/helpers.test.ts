// Goal: the pure pieces of membership — timeout and retransmit formulas, the precedence rule, the
// piggyback queue and the probe order — do exactly what the protocol relies on.
// Method: it.each tables for the formulas; a fast-check law (applying updates is a join, so any
// order and any duplication give the same table); small direct drives of the queue and order.
// The probe-order bound is the worst case of SWIM's round-robin: first in one round, last in the next.
import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { Prng } from '../../src/prng.js'
import { GossipQueue, retransmitLimit } from '../../src/membership/gossip.js'
import { MemberList, supersedes } from '../../src/membership/member-list.js'
import type { MemberState, MemberUpdate } from '../../src/membership/messages.js'
import { ProbeOrder } from '../../src/membership/probe.js'
import {
  Suspicion, confirmedTimeoutMs, expectedConfirmations, suspicionTimeoutMs
} from '../../src/membership/suspicion.js'

describe('suspicionTimeoutMs', () => {
  it.each([
    [1_000, 0, 1_000],
    [1_000, 1, 1_000],
    [1_000, 10, 1_000],
    [1_000, 100, 2_000],
    [1_000, 200, 2_301],
    [1_000, 1_000, 3_000],
    [5_000, 20, 6_505]
  ])('base %d ms with %d live members → %d ms', (baseMs, liveCount, expectedMs) => {
    expect(suspicionTimeoutMs(baseMs, liveCount)).toBe(expectedMs)
  })
})

describe('confirmedTimeoutMs', () => {
  it.each([
    [1_000, 0, 2, 1_000], // unconfirmed: the full timeout
    [1_000, 1, 2, 579], // one independent confirmation: max - (max - min) · log 2 / log 3
    [1_000, 2, 2, 333], // fully confirmed: max / SUSPICION_MIN_DIVISOR (3)
    [1_000, 5, 2, 333], // never below the minimum
    [1_000, 3, 0, 333], // nobody else could confirm (two members): the minimum, as memberlist (k < 1)
    [1_000, 1, 1, 333]
  ])('max %d ms, %d confirmations of %d expected → %d ms', (maxMs, confirmations, expected, timeoutMs) => {
    expect(confirmedTimeoutMs(maxMs, confirmations, expected)).toBe(timeoutMs)
  })

  it.each([[1, 0], [2, 0], [3, 1], [4, 2], [200, 2]])('%d live members → %d expected confirmations', (liveCount, expected) => {
    expect(expectedConfirmations(liveCount)).toBe(expected)
  })

  it('counts each suspecter once and ignores the first as a confirmation', () => {
    const suspicion = new Suspicion(100, 'a')
    expect(suspicion.confirm('a')).toBe(false)
    expect(suspicion.confirmations).toBe(0)
    expect(suspicion.confirm('b')).toBe(true)
    expect(suspicion.confirm('b')).toBe(false)
    expect(suspicion.confirmations).toBe(1)
    expect(suspicion.deadlineMs(1_000, 2)).toBe(100 + 579)
  })

  it('postpones its deadline by the time our own event loop was frozen', () => {
    const suspicion = new Suspicion(100, 'a')
    suspicion.postpone(2_000)
    expect(suspicion.startedMs).toBe(2_100)
    expect(suspicion.deadlineMs(1_000, 2)).toBe(2_100 + 1_000)
  })
})

describe('retransmitLimit', () => {
  it.each([[0, 0], [1, 4], [9, 4], [10, 8], [99, 8], [100, 12], [200, 12], [1_000, 16]])('%d members → %d transmissions', (members, limit) => {
    expect(retransmitLimit(members)).toBe(limit)
  })
})

describe('supersedes', () => {
  it.each<[MemberState, number, MemberState | null, number, boolean]>([
    ['alive', 0, null, 0, true],
    ['alive', 1, 'alive', 0, true],
    ['alive', 0, 'alive', 0, false],
    ['suspect', 0, 'alive', 0, true],
    ['alive', 0, 'suspect', 0, false],
    ['alive', 1, 'suspect', 0, true], // refutation
    ['dead', 0, 'suspect', 0, true],
    ['suspect', 0, 'dead', 0, false],
    ['alive', 1, 'dead', 0, true], // a restart or a refutation brings a dead member back
    ['left', 0, 'dead', 0, true],
    ['dead', 0, 'left', 0, false], // left is final for its incarnation
    ['alive', 0, 'left', 0, false],
    ['alive', 1, 'left', 0, true],
    ['suspect', 2, 'alive', 3, false]
  ])('%s@%d over %s@%d → %s', (state, incarnation, currentState, currentIncarnation, expected) => {
    const current = currentState === null ? undefined : { state: currentState, incarnation: currentIncarnation }
    expect(supersedes({ state, incarnation }, current)).toBe(expected)
  })
})

describe('MemberList', () => {
  const updateArbitrary = fc.record({
    nodeId: fc.constantFrom('a', 'b', 'c'),
    state: fc.constantFrom<MemberState>('alive', 'suspect', 'dead', 'left'),
    incarnation: fc.integer({ min: 0, max: 3 })
  })

  const applyAll = (updates: readonly MemberUpdate[]): string => {
    const list = new MemberList()
    for (const update of updates) list.apply(update, 0, true)
    return [...list.all()].map((r) => `${r.nodeId}:${r.state}@${r.incarnation}`).sort().join(',')
  }

  it('ends in the same table whatever the order and duplication of updates (a join)', () => {
    fc.assert(fc.property(fc.array(updateArbitrary, { maxLength: 30 }), fc.integer(), (updates, seed) => {
      const prng = new Prng(seed)
      const shuffled = prng.shuffle([...updates, ...updates.filter(() => prng.chance(1, 2))])
      expect(applyAll(shuffled)).toBe(applyAll(updates))
    }))
  })

  it('keeps the live count equal to the alive and suspect records', () => {
    fc.assert(fc.property(fc.array(updateArbitrary, { maxLength: 30 }), (updates) => {
      const list = new MemberList()
      for (const update of updates) list.apply(update, 0, true)
      const live = [...list.all()].filter((r) => r.state === 'alive' || r.state === 'suspect').length
      expect(list.liveMembers).toBe(live)
    }))
  })

  it('forgets dead and left members after the cutoff, never live ones', () => {
    const list = new MemberList()
    list.apply({ nodeId: 'a', state: 'dead', incarnation: 0 }, 10, true)
    list.apply({ nodeId: 'b', state: 'left', incarnation: 0 }, 20, true)
    list.apply({ nodeId: 'c', state: 'suspect', incarnation: 0 }, 0, true)
    expect(list.forgetBefore(15)).toBe(1)
    expect(list.get('a')).toBeUndefined()
    expect(list.forgetBefore(1_000)).toBe(1)
    expect([...list.all()].map((r) => r.nodeId)).toEqual(['c'])
  })
})

describe('GossipQueue', () => {
  const update = (nodeId: string, incarnation = 0): MemberUpdate => ({ nodeId, state: 'alive', incarnation })

  it('sends the least-transmitted updates first, each at most `limit` times', () => {
    const queue = new GossipQueue()
    for (const id of ['a', 'b', 'c']) queue.enqueue(update(id))
    const sent = new Map<string, number>()
    for (let i = 0; i < 10; i++) {
      for (const u of queue.take(2, 'z', 2)) sent.set(u.nodeId, (sent.get(u.nodeId) ?? 0) + 1)
    }
    expect(Object.fromEntries(sent)).toEqual({ a: 2, b: 2, c: 2 })
    expect(queue.size).toBe(0)
  })

  it('never sends a node its own update, and a newer update replaces an older one', () => {
    const queue = new GossipQueue()
    queue.enqueue(update('a'))
    queue.enqueue(update('b'))
    queue.enqueue(update('a', 5))
    expect(queue.size).toBe(2)
    expect(queue.take(8, 'b', 4)).toEqual([update('a', 5)])
  })
})

describe('ProbeOrder', () => {
  it.each([1, 2, 5, 30])('probes each of %d other members once per round, so within 2·M−1 periods', (size) => {
    const prng = new Prng(size)
    const ids = Array.from({ length: size }, (_, i) => `m${i}`)
    const order = new ProbeOrder()
    const lastProbe = new Map<string, number>()
    for (let period = 0; period < size * 10; period++) {
      const target = order.next(prng, () => true, () => ids)
      expect(target).not.toBeNull()
      const previous = lastProbe.get(target ?? '')
      if (previous !== undefined) expect(period - previous).toBeLessThanOrEqual(2 * size - 1)
      lastProbe.set(target ?? '', period)
    }
    expect(lastProbe.size).toBe(size)
  })

  it('skips members that stopped being probeable and probes an inserted one within the round', () => {
    const prng = new Prng(3)
    const order = new ProbeOrder()
    const gone = new Set(['b'])
    const first = order.next(prng, (id) => !gone.has(id), () => ['a', 'b', 'c'].filter((id) => !gone.has(id)))
    order.insert(prng, 'd')
    const rest = [order.next(prng, (id) => !gone.has(id), () => []), order.next(prng, (id) => !gone.has(id), () => [])]
    expect([first, ...rest].sort()).toEqual(['a', 'c', 'd'])
    expect(order.next(prng, () => true, () => [])).toBeNull()
  })
})
