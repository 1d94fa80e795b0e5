// Goal: `live()` and `members()` answer from a cache (the node asks them on every input, and
// sorting thousands of ids each time dominated large simulations), so they must never go stale.
// Method: a property test drives one Membership with random inputs — discovery, direct messages
// carrying random gossip about random members, ticks that run probes, suspicions, deaths and the
// retention sweep, meta changes and a leave — and after each input compares both answers with an
// oracle computed from scratch through `stateOf` and from the inputs themselves; then targeted
// cases check that each field of a view (state, incarnation, meta, lastSeenMs, our own record)
// shows a change at once, and that a caller cannot corrupt the cache through a returned array.
import { describe, expect, it } from 'vitest'
import { Prng } from '../../src/prng.js'
import { lanProfile } from '../../src/profiles.js'
import type { TimingProfile } from '../../src/profiles.js'
import { Membership } from '../../src/membership/membership.js'
import type { MemberState, MemberUpdate, MembershipMessage } from '../../src/membership/messages.js'

/** Short suspicion and retention, so dead members are declared and forgotten within a run. */
const FAST: TimingProfile = { ...lanProfile(), probeIntervalMs: 250, probeTimeoutMs: 100, suspicionTimeoutMs: 300, deadRetentionMs: 2_000 }
const STATES: readonly MemberState[] = ['alive', 'suspect', 'dead', 'left']
const POOL = Array.from({ length: 24 }, (_, index) => `n${String(index).padStart(2, '0')}`)

function message (kind: 'swim/ping' | 'swim/ack', incarnation: number, gossip: MemberUpdate[]): MembershipMessage {
  return { kind, seq: 1, incarnation, gossip }
}

function randomUpdate (prng: Prng): MemberUpdate {
  const update: MemberUpdate = { nodeId: prng.pick(POOL), state: prng.pick(STATES), incarnation: prng.intInclusive(0, 3) }
  return prng.chance(1, 4) ? { ...update, meta: Uint8Array.of(prng.intInclusive(0, 255)) } : update
}

/** Ids the member may still hold: everyone it was told about, plus itself. */
function naiveLive (node: Membership, ids: Iterable<string>): string[] {
  const live = new Set<string>()
  for (const id of ids) {
    const state = node.stateOf(id)
    if (state === 'alive' || state === 'suspect') live.add(id)
  }
  return [...live].sort()
}

function expectConsistent (node: Membership, told: ReadonlySet<string>, self: string): void {
  const members = node.members()
  const ids = members.map((member) => member.nodeId)
  expect(ids).toEqual([...ids].sort())
  expect(new Set(ids).size).toBe(ids.length)
  for (const member of members) expect(member.state).toBe(node.stateOf(member.nodeId))
  // Every id it was told about and still holds is listed; ids never told about are not.
  for (const id of told) expect(ids.includes(id)).toBe(node.stateOf(id) !== null)
  for (const id of ids) expect(told.has(id) || id === self).toBe(true)
  expect(node.live()).toEqual(naiveLive(node, [...told, self]))
  for (const member of members) expect(node.member(member.nodeId)).toEqual(member)
  expect(node.member('never-told')).toBeNull()
}

/** What `liveOrMetaVersion` promises is unchanged while it holds still: the live set and its metas. */
function liveAndMetas (node: Membership): string {
  const live = node.live()
  const metas = live.map((id) => node.member(id)?.meta).map((meta) => (meta === undefined ? null : [...meta]))
  return JSON.stringify({ live, metas })
}

describe('Membership queries stay fresh behind their caches', () => {
  it.each([1, 2, 3, 4, 5, 6])('random inputs, seed %i: live() and members() match a from-scratch answer after each', (seed) => {
    const prng = new Prng(seed)
    const self = 'n99'
    const node = new Membership({ self, profile: FAST, prng: prng.fork(), nowMs: 0 })
    const told = new Set<string>()
    let nowMs = 0
    let before = { version: node.liveOrMetaVersion, seen: liveAndMetas(node) }
    let unchangedSteps = 0
    for (let input = 0; input < 600; input++) {
      const choice = prng.intInclusive(0, 99)
      if (choice < 20) {
        const peer = prng.pick(POOL)
        told.add(peer)
        node.addPeer(peer, nowMs)
      } else if (choice < 55) {
        const from = prng.pick(POOL)
        const gossip = Array.from({ length: prng.intInclusive(0, 4) }, () => randomUpdate(prng))
        // Now and then someone claims we are suspect or dead: we refute with a new incarnation.
        if (prng.chance(1, 10)) gossip.push({ nodeId: self, state: 'suspect', incarnation: node.currentIncarnation })
        told.add(from)
        for (const update of gossip) if (update.nodeId !== self) told.add(update.nodeId)
        node.step(from, message(prng.chance(1, 2) ? 'swim/ping' : 'swim/ack', prng.intInclusive(0, 3), gossip), nowMs)
      } else if (choice < 97) {
        nowMs += prng.intInclusive(1, 400)
        node.tick(nowMs)
      } else if (choice < 99) {
        node.setMeta(Uint8Array.of(input % 256), nowMs)
      } else {
        node.leave(nowMs)
      }
      node.drain()
      expectConsistent(node, told, self)
      const after = { version: node.liveOrMetaVersion, seen: liveAndMetas(node) }
      expect(after.version).toBeGreaterThanOrEqual(before.version)
      if (after.version === before.version) {
        unchangedSteps++
        expect(after.seen).toBe(before.seen)
      }
      before = after
    }
    // The version must also hold still sometimes, or the check above proves nothing.
    expect(unchangedSteps).toBeGreaterThan(50)
  })

  it('shows a new incarnation, new meta and a new lastSeenMs of a member at once', () => {
    const node = new Membership({ self: 'a', profile: lanProfile(), prng: new Prng(1), nowMs: 0 })
    node.step('b', message('swim/ping', 0, []), 10)
    expect(node.members().find((member) => member.nodeId === 'b')).toMatchObject({ incarnation: 0, lastSeenMs: 10 })
    // The same version again: only lastSeenMs changes.
    node.step('b', message('swim/ping', 0, []), 15)
    expect(node.members().find((member) => member.nodeId === 'b')).toMatchObject({ incarnation: 0, lastSeenMs: 15 })
    node.step('b', message('swim/ping', 2, []), 20)
    expect(node.members().find((member) => member.nodeId === 'b')).toMatchObject({ incarnation: 2, lastSeenMs: 20 })
    node.step('c', message('swim/ack', 0, [{ nodeId: 'b', state: 'suspect', incarnation: 3, meta: Uint8Array.of(9) }]), 30)
    expect(node.members().find((member) => member.nodeId === 'b')).toMatchObject({ state: 'suspect', incarnation: 3, meta: Uint8Array.of(9), lastSeenMs: 20 })
    expect(node.live()).toEqual(['a', 'b', 'c'])
    node.step('c', message('swim/ack', 0, [{ nodeId: 'b', state: 'dead', incarnation: 3 }]), 40)
    expect(node.live()).toEqual(['a', 'c'])
    expect(node.members().map((member) => `${member.nodeId}:${member.state}`)).toEqual(['a:alive', 'b:dead', 'c:alive'])
  })

  it('shows our own refutation, meta change and leave at once', () => {
    const node = new Membership({ self: 'a', profile: lanProfile(), prng: new Prng(1), nowMs: 0, meta: Uint8Array.of(1) })
    node.addPeer('b', 0)
    const own = (): unknown => node.members().find((member) => member.nodeId === 'a')
    expect(own()).toMatchObject({ state: 'alive', incarnation: 0, meta: Uint8Array.of(1) })
    node.step('b', message('swim/ping', 0, [{ nodeId: 'a', state: 'suspect', incarnation: 0 }]), 5)
    expect(own()).toMatchObject({ state: 'alive', incarnation: 1 })
    node.step('b', message('swim/ping', 0, [{ nodeId: 'a', state: 'alive', incarnation: 4 }]), 6)
    expect(own()).toMatchObject({ incarnation: 4 })
    node.setMeta(Uint8Array.of(2), 7)
    expect(own()).toMatchObject({ incarnation: 5, meta: Uint8Array.of(2) })
    expect(node.live()).toEqual(['a', 'b'])
    node.leave(8)
    expect(own()).toMatchObject({ state: 'left' })
    expect(node.live()).toEqual(['b'])
  })

  it('hands out copies: a caller that sorts or empties an answer does not change the next one', () => {
    const node = new Membership({ self: 'b', profile: lanProfile(), prng: new Prng(1), nowMs: 0 })
    node.addPeer('a', 0)
    node.addPeer('c', 0)
    const live = node.live()
    live.reverse()
    live.length = 1
    const members = node.members()
    members.length = 0
    expect(node.live()).toEqual(['a', 'b', 'c'])
    expect(node.members().map((member) => member.nodeId)).toEqual(['a', 'b', 'c'])
  })
})
