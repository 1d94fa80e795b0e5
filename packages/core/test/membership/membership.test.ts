// Goal: the Membership state machine follows SWIM step by step — probe, indirect probe, suspect,
// dead, refutation, leave, retention, restart — and refuses impossible configuration.
// Method: two or three real instances wired by hand with zero-latency delivery and a drop rule,
// simulated time advanced in 5 ms steps, and assertions on events, states and exact simulated
// times (the suspicion timer is deterministic, so its duration can be checked to the step).
import { describe, expect, it } from 'vitest'
import { InvariantError } from '../../src/assert.js'
import { P2pBootstrapError } from '../../src/errors.js'
import { Prng } from '../../src/prng.js'
import { lanProfile, type TimingProfile } from '../../src/profiles.js'

/**
 * The protocol's rules do not depend on its numbers: these tests run them at a quick pace (the
 * LAN timing before issue 16) so a few simulated seconds show each rule. cluster.test.ts checks
 * the real LAN profile at scale.
 */
function quickProfile (): TimingProfile {
  return { ...lanProfile(), probeIntervalMs: 250, probeTimeoutMs: 100, suspicionTimeoutMs: 1_000 }
}
import { MembershipError } from '../../src/membership/errors.js'
import { LOCAL_HEALTH_MAX, META_BYTES_MAX, SUSPICION_MIN_DIVISOR } from '../../src/membership/limits.js'
import { Membership, type MembershipEvent } from '../../src/membership/membership.js'
import type { MembershipMessage } from '../../src/membership/messages.js'

const STEP_MS = 5

interface Sent { readonly atMs: number, readonly from: string, readonly to: string, readonly message: MembershipMessage }
interface Seen { readonly atMs: number, readonly observer: string, readonly event: MembershipEvent }

/** A hand-wired group: every message is delivered at once unless `drop` says otherwise. */
class Group {
  readonly nodes = new Map<string, Membership>()
  readonly sent: Sent[] = []
  readonly seen: Seen[] = []
  nowMs = 0
  drop: (from: string, to: string, message: MembershipMessage) => boolean = () => false

  constructor (ids: readonly string[], seed = 1, profile: TimingProfile = quickProfile()) {
    const prng = new Prng(seed)
    for (const id of ids) this.nodes.set(id, new Membership({ self: id, profile, prng: prng.fork(), nowMs: 0 }))
  }

  node (id: string): Membership {
    const node = this.nodes.get(id)
    if (node === undefined) throw new Error(`no node ${id}`)
    return node
  }

  meshAll (): void {
    for (const a of this.nodes.keys()) for (const b of this.nodes.keys()) this.node(a).addPeer(b, this.nowMs)
    this.pump()
  }

  /** Delivers everything pending, including replies, until nothing is left. */
  pump (): void {
    for (let rounds = 0; rounds < 100; rounds++) {
      let moved = false
      for (const [from, node] of this.nodes) {
        const { send, events } = node.drain()
        for (const event of events) this.seen.push({ atMs: this.nowMs, observer: from, event })
        for (const { to, message } of send) {
          moved = true
          this.sent.push({ atMs: this.nowMs, from, to, message })
          const target = this.nodes.get(to)
          if (target !== undefined && !this.drop(from, to, message)) target.step(from, message, this.nowMs)
        }
      }
      if (!moved) return
    }
    throw new Error('messages kept flowing for 100 rounds')
  }

  run (durationMs: number): void {
    const endMs = this.nowMs + durationMs
    while (this.nowMs < endMs) {
      this.nowMs += STEP_MS
      for (const node of this.nodes.values()) node.tick(this.nowMs)
      this.pump()
    }
  }

  firstEvent (observer: string, type: MembershipEvent['type'], nodeId: string): number | undefined {
    return this.seen.find((s) => s.observer === observer && s.event.type === type && s.event.nodeId === nodeId)?.atMs
  }
}

describe('Membership configuration', () => {
  const base = { self: 'a', profile: quickProfile(), prng: new Prng(1), nowMs: 0 }

  it.each<[string, Record<string, unknown>]>([
    ['an empty self id', { self: '' }],
    ['a negative initial incarnation', { initialIncarnation: -1 }],
    ['oversized meta', { meta: new Uint8Array(META_BYTES_MAX + 1) }],
    ['too many indirect probes', { profile: { ...quickProfile(), indirectProbes: 100 } }]
  ])('refuses %s with MEMBERSHIP_BAD_CONFIG', (_what, override) => {
    let thrown: unknown = null
    try {
      expect(new Membership({ ...base, ...override })).toBeUndefined()
    } catch (err) {
      thrown = err
    }
    expect(thrown).toBeInstanceOf(MembershipError)
    expect((thrown as MembershipError).code).toBe('MEMBERSHIP_BAD_CONFIG')
  })

  it('refuses a profile whose probe timeout is not below its interval', () => {
    const profile = { ...quickProfile(), probeTimeoutMs: 250 }
    expect(() => new Membership({ ...base, profile })).toThrow(P2pBootstrapError)
  })

  it('refuses time that goes backwards (a caller bug)', () => {
    const node = new Membership({ ...base, nowMs: 100 })
    expect(() => node.tick(50)).toThrow(InvariantError)
  })
})

describe('Membership protocol', () => {
  it('joins two nodes, gossips meta with alive, and never suspects a node that answers', () => {
    const group = new Group([])
    const prng = new Prng(2)
    group.nodes.set('a', new Membership({ self: 'a', profile: quickProfile(), prng: prng.fork(), nowMs: 0, meta: Uint8Array.of(7) }))
    group.nodes.set('b', new Membership({ self: 'b', profile: quickProfile(), prng: prng.fork(), nowMs: 0 }))
    group.node('b').addPeer('a', 0)
    group.run(3_000)
    expect(group.firstEvent('b', 'member:join', 'a')).toBe(STEP_MS)
    expect(group.firstEvent('a', 'member:join', 'b')).toBeDefined()
    expect(group.seen.filter((s) => s.event.type !== 'member:join')).toEqual([])
    const viewOfA = group.node('b').members().find((m) => m.nodeId === 'a')
    expect(viewOfA?.meta).toEqual(Uint8Array.of(7))
    expect(viewOfA?.lastSeenMs).toBeGreaterThan(2_500)
    expect(group.node('a').live()).toEqual(['a', 'b'])
  })

  it('suspects at the end of a failed probe period and declares dead one confirmed suspicion timeout later', () => {
    const group = new Group(['a', 'b'])
    group.meshAll()
    group.run(1_000)
    group.drop = (_from, to) => to === 'b'
    const downAtMs = group.nowMs
    group.run(3_000)
    const pingAtMs = group.sent.find((s) => s.atMs > downAtMs && s.from === 'a' && s.to === 'b' && s.message.kind === 'swim/ping')?.atMs
    const suspectAtMs = group.firstEvent('a', 'member:suspect', 'b')
    const deadAtMs = group.firstEvent('a', 'member:dead', 'b')
    expect(pingAtMs).toBeDefined()
    expect(suspectAtMs).toBe((pingAtMs ?? 0) + quickProfile().probeIntervalMs)
    // Two members: nobody else can confirm, so the suspicion runs its confirmed length (memberlist's k < 1).
    // The first tick at or after the deadline (ticks come every STEP_MS).
    const deadlineMs = (suspectAtMs ?? 0) + Math.round(quickProfile().suspicionTimeoutMs / SUSPICION_MIN_DIVISOR)
    expect(deadAtMs).toBe(Math.ceil(deadlineMs / STEP_MS) * STEP_MS)
    expect(group.node('a').stateOf('b')).toBe('dead')
    expect(group.node('a').live()).toEqual(['a'])
  })

  it('asks others to probe when the direct path fails, and an indirect ack prevents suspicion', () => {
    const group = new Group(['a', 'b', 'c'])
    group.meshAll()
    group.drop = (from, to) => (from === 'a' && to === 'b') || (from === 'b' && to === 'a')
    group.run(5_000)
    const requests = group.sent.filter((s) => s.from === 'a' && s.message.kind === 'swim/ping-req')
    expect(requests.length).toBeGreaterThan(0)
    expect(requests.every((s) => s.to === 'c')).toBe(true)
    expect(group.seen.filter((s) => s.event.type === 'member:suspect' || s.event.type === 'member:dead')).toEqual([])
  })

  it('Lifeguard: a node whose probes go unanswered raises its local health and probes (health + 1) times slower; answered probes heal it', () => {
    const group = new Group(['a', 'b', 'c', 'd'])
    group.meshAll()
    group.run(1_000)
    expect(group.node('a').localHealth).toBe(0)
    // a hears pings but no ack ever reaches it: to a, every probe fails, as on a starved host.
    group.drop = (_from, to, message) => to === 'a' && message.kind === 'swim/ack'
    const starvedFromMs = group.nowMs
    group.run(30_000)
    expect(group.node('a').localHealth).toBe(LOCAL_HEALTH_MAX)
    // One batch of ping-reqs per failed probe: at the top score, probes are (LOCAL_HEALTH_MAX + 1) intervals apart.
    const batches = [...new Set(group.sent.filter((s) => s.atMs > starvedFromMs && s.from === 'a' && s.message.kind === 'swim/ping-req').map((s) => s.atMs))]
    const gaps = batches.slice(1).map((atMs, index) => atMs - (batches[index] ?? 0))
    expect(gaps.at(-1)).toBe((LOCAL_HEALTH_MAX + 1) * quickProfile().probeIntervalMs)
    expect(gaps[0]).toBeLessThan(gaps.at(-1) ?? 0)
    // Healthy peers never raised theirs: their probes of a were answered.
    for (const peer of ['b', 'c', 'd']) expect(group.node(peer).localHealth).toBe(0)
    group.drop = () => false
    group.run(30_000)
    expect(group.node('a').localHealth).toBe(0)
  })

  it('Lifeguard: having to refute a suspicion of itself counts against its own health', () => {
    const group = new Group(['a', 'b'])
    group.meshAll()
    group.node('a').step('b', { kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [{ nodeId: 'a', state: 'suspect', incarnation: 0, by: 'b' }] }, 0)
    expect(group.node('a').currentIncarnation).toBe(1)
    expect(group.node('a').localHealth).toBe(1)
  })

  it('refutes a suspicion about itself with a higher incarnation, which revives it elsewhere', () => {
    const group = new Group(['a', 'b', 'c'])
    group.meshAll()
    group.node('b').step('c', {
      kind: 'swim/ping', seq: 1, incarnation: 0, gossip: [{ nodeId: 'a', state: 'suspect', incarnation: 0, by: 'c' }]
    }, 0)
    group.pump()
    expect(group.node('b').stateOf('a')).toBe('suspect')
    group.run(500)
    expect(group.node('a').currentIncarnation).toBe(1)
    expect(group.node('b').stateOf('a')).toBe('alive')
    expect(group.firstEvent('b', 'member:alive', 'a')).toBeDefined()
    expect(group.seen.filter((s) => s.event.type === 'member:dead')).toEqual([])
  })

  it('marks a leaving node left everywhere, for good at that incarnation', () => {
    const group = new Group(['a', 'b', 'c'])
    group.meshAll()
    group.run(500)
    group.node('c').leave(group.nowMs)
    group.pump()
    expect(group.node('a').stateOf('c')).toBe('left')
    expect(group.node('b').stateOf('c')).toBe('left')
    group.run(3_000) // c still answers pings, at the same incarnation: it stays left
    expect(group.node('a').stateOf('c')).toBe('left')
    expect(group.node('a').live()).toEqual(['a', 'b'])
    expect(group.node('c').live()).toEqual(['a', 'b'])
    expect(group.seen.filter((s) => s.event.nodeId === 'c' && s.event.type !== 'member:join').map((s) => s.event.type))
      .toEqual(['member:left', 'member:left'])
  })

  it('forgets a dead member after deadRetentionMs and takes it back as a new join', () => {
    const profile = { ...quickProfile(), deadRetentionMs: 2_000 }
    const group = new Group(['a', 'b'], 3, profile)
    group.meshAll()
    group.drop = (_from, to) => to === 'b'
    group.run(2_000)
    expect(group.node('a').stateOf('b')).toBe('dead')
    group.run(2_500)
    expect(group.node('a').stateOf('b')).toBeNull()
    group.drop = () => false
    group.node('b').addPeer('a', group.nowMs)
    group.run(1_000)
    expect(group.node('a').stateOf('b')).toBe('alive')
    expect(group.seen.filter((s) => s.observer === 'a' && s.event.nodeId === 'b').map((s) => s.event.type))
      .toEqual(['member:join', 'member:suspect', 'member:dead', 'member:join'])
  })

  it('brings back a restarted node that starts below the incarnation it was declared dead at', () => {
    const group = new Group(['a', 'b'])
    group.meshAll()
    group.drop = (_from, to) => to === 'b'
    group.run(2_000)
    expect(group.node('a').stateOf('b')).toBe('dead')
    // b restarts with nothing persisted; a direct message from it triggers the refutation.
    group.drop = () => false
    group.nodes.set('b', new Membership({ self: 'b', profile: quickProfile(), prng: new Prng(9), nowMs: group.nowMs, initialIncarnation: 0 }))
    group.node('b').addPeer('a', group.nowMs)
    group.run(1_000)
    expect(group.node('b').currentIncarnation).toBe(1)
    expect(group.node('a').stateOf('b')).toBe('alive')
    expect(group.firstEvent('a', 'member:alive', 'b')).toBeDefined()
  })

  it('keeps its suspicion of a peer it only heard of through addPeer to itself', () => {
    const group = new Group(['a', 'b'])
    group.meshAll()
    group.node('a').addPeer('ghost', 0)
    group.run(3_000)
    expect(group.node('a').stateOf('ghost')).toBe('dead')
    expect(group.node('b').stateOf('ghost')).toBeNull()
    // Only the ghost itself is told what we think of it (in case it is alive and can refute).
    const gossipAboutGhost = group.sent.filter((s) => s.to !== 'ghost').flatMap((s) => s.message.gossip).filter((u) => u.nodeId === 'ghost')
    expect(gossipAboutGhost).toEqual([])
  })

  it('spreads new meta under a new incarnation', () => {
    const group = new Group(['a', 'b'])
    group.meshAll()
    group.run(500)
    group.node('a').setMeta(Uint8Array.of(42), group.nowMs)
    group.run(1_000)
    expect(group.node('a').currentIncarnation).toBe(1)
    expect(group.node('b').members().find((m) => m.nodeId === 'a')).toMatchObject({ incarnation: 1, meta: Uint8Array.of(42) })
  })

  it('pings a dead member at once when discovery names it again, so it can refute', () => {
    const group = new Group(['a', 'b'])
    group.meshAll()
    group.drop = () => true
    group.run(2_000)
    expect(group.node('a').stateOf('b')).toBe('dead')
    group.drop = () => false
    group.node('a').addPeer('b', group.nowMs)
    const [ping] = group.node('a').drain().send
    // The ping tells b what we believe of it (other queued gossip may ride along).
    expect(ping).toMatchObject({ to: 'b', message: { kind: 'swim/ping', gossip: expect.arrayContaining([expect.objectContaining({ nodeId: 'b', state: 'dead' })]) as unknown } })
    if (ping !== undefined) group.node('b').step('a', ping.message, group.nowMs)
    group.pump()
    expect(group.node('a').stateOf('b')).toBe('alive') // b's ack carried its refutation
    // a's refutation rides on its next probe of b; the probes that failed during the cut lowered
    // a's local health, which stretches its probe interval up to (LOCAL_HEALTH_MAX + 1) times.
    group.run(2 * (LOCAL_HEALTH_MAX + 1) * quickProfile().probeIntervalMs)
    expect(group.node('b').stateOf('a')).toBe('alive')
  })

  it('Lifeguard: a node that was itself frozen does not count its own late deadline against a peer whose ack waits in its inbox', () => {
    for (const told of [false, true]) {
      const a = new Membership({ self: 'a', profile: quickProfile(), prng: new Prng(3), nowMs: 0 })
      const b = new Membership({ self: 'b', profile: quickProfile(), prng: new Prng(4), nowMs: 0 })
      a.addPeer('b', 0)
      let nowMs = 0
      let ping: MembershipMessage | undefined
      while (ping === undefined) {
        nowMs += STEP_MS
        a.tick(nowMs)
        ping = a.drain().send.find((out) => out.to === 'b' && out.message.kind === 'swim/ping')?.message
      }
      // a's event loop freezes for 2 s right after sending: b answers at once, but a reads it late,
      // and its timer fires first (Node runs timers before I/O).
      b.step('a', ping, nowMs)
      const ack = b.drain().send.find((out) => out.to === 'a')?.message
      nowMs += 2_000
      if (told) a.resumed(2_000, nowMs)
      a.tick(nowMs)
      if (ack !== undefined) a.step('b', ack, nowMs)
      const events = a.drain().events
      expect(events.some((event) => event.type === 'member:suspect'), told ? 'told of the freeze' : 'not told').toBe(!told)
      if (told) expect(a.localHealth).toBe(1) // having been frozen is evidence of our own trouble
    }
  })

  it('Lifeguard: a new suspect is told at once, by a ping that carries the suspicion, so it can refute', () => {
    const group = new Group(['a', 'b', 'c'])
    group.meshAll()
    group.run(1_000)
    group.drop = (from, to) => to === 'b' || from === 'b'
    const cutAtMs = group.nowMs
    group.run(2_000)
    const suspectAtMs = group.firstEvent('a', 'member:suspect', 'b') ?? group.firstEvent('c', 'member:suspect', 'b')
    expect(suspectAtMs).toBeDefined()
    const toldPings = group.sent.filter((sent) => sent.atMs >= cutAtMs && sent.to === 'b' && sent.message.kind === 'swim/ping' &&
      sent.message.gossip.some((update) => update.nodeId === 'b' && update.state === 'suspect'))
    expect(toldPings.map((sent) => sent.atMs)).toContain(suspectAtMs)
  })

  it('gossip rounds: news goes to gossipFanout members every gossipIntervalMs, and no news sends nothing', () => {
    const profile = quickProfile()
    const ids = ['a', 'b', 'c', 'd', 'e', 'f']
    const group = new Group(ids, 3, profile)
    group.meshAll()
    // The joins are news for a while; then every queue has used up its retransmissions.
    group.run(20_000)
    const quietFromMs = group.nowMs
    group.run(5_000)
    const gossipSince = (sinceMs: number): Sent[] => group.sent.filter((sent) => sent.atMs > sinceMs && sent.message.kind === 'swim/gossip')
    expect(gossipSince(quietFromMs)).toEqual([])
    // A cut-off member is news: its suspicion travels in gossip rounds, not only on probes.
    group.drop = (from, to) => to === 'f' || from === 'f'
    const cutAtMs = group.nowMs
    group.run(2_000)
    const rounds = gossipSince(cutAtMs)
    expect(rounds.some((sent) => sent.message.gossip.some((update) => update.nodeId === 'f' && update.state === 'suspect'))).toBe(true)
    for (const id of ids) {
      const byInstant = new Map<number, number>()
      for (const sent of rounds.filter((round) => round.from === id)) byInstant.set(sent.atMs, (byInstant.get(sent.atMs) ?? 0) + 1)
      for (const count of byInstant.values()) expect(count).toBeLessThanOrEqual(profile.gossipFanout)
      const instants = [...byInstant.keys()].sort((x, y) => x - y)
      for (let index = 1; index < instants.length; index++) {
        expect((instants[index] ?? 0) - (instants[index - 1] ?? 0)).toBeGreaterThanOrEqual(profile.gossipIntervalMs)
      }
    }
  })

  it('does no work before nextTickMs', () => {
    const group = new Group(['a', 'b'])
    group.meshAll()
    const node = group.node('a')
    node.drain()
    const nextMs = node.nextTickMs()
    node.tick(nextMs - 1)
    expect(node.drain().send).toEqual([])
    node.tick(nextMs)
    expect(node.drain().send.length).toBeGreaterThan(0)
  })
})
