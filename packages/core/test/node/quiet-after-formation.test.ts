// Goal: an idle, formed cluster is quiet (issue 16, "quiet after formation"), and quiet costs
// nothing in how fast entries spread. After the plan and minutes with no change, each node sends
// anti-entropy digests at the steady rate (one per `antiEntropySteadyMaxMs`) and nothing else but
// its probes; a new entry still reaches every node by push within a few hops, as it did right after
// formation; an entry whose pushes to one node were all lost is still repaired within the steady
// maximum (L2), and every node runs a round within one base interval of it. Method: five real nodes on the LAN profile, ticked every 20 simulated ms, every
// message delivered one step (20 ms) later, all sends recorded with their time and kind; the same
// run with no back-off (steady maximum = base interval) shows the count can fail.
import { describe, expect, it } from 'vitest'
import { createCoreNode, deriveKeys, generateToken, lanProfile, nodeKeyFromSeed, Prng } from '../../src/index.js'
import type { CoreNodeMachine, Envelope, TimingProfile } from '../../src/index.js'

const NODES = 5
const STEP_MS = 20
const keys = deriveKeys(generateToken({ expect: NODES, controlPlanes: 3 }))

interface Sent { readonly atMs: number, readonly from: string, readonly kind: string }

/** A tiny deterministic cluster: fixed ticks, one step of latency, an optional drop rule. */
class Cluster {
  readonly nodes: CoreNodeMachine[]
  readonly sent: Sent[] = []
  nowMs = 1_000
  drop: (envelope: Envelope, atMs: number) => boolean = () => false
  private inFlight: Envelope[] = []

  constructor (readonly profile: TimingProfile, seed: number) {
    this.nodes = Array.from({ length: NODES }, (_, index) => {
      const prng = new Prng(seed * 100 + index + 1)
      return createCoreNode({
        key: nodeKeyFromSeed(new Prng(seed * 7919 + index).bytes(32)),
        clusterId: keys.clusterId,
        sealingKey: keys.sealingKey,
        shape: { expect: NODES, controlPlanes: 3 },
        facts: { labels: {} },
        profile,
        prng,
        entropy: (length) => prng.bytes(length),
        restored: [],
        nowMs: this.nowMs
      })
    })
    // One mDNS segment: everyone finds everyone at once.
    for (const node of this.nodes) for (const peer of this.nodes) node.discover(peer.nodeId, this.nowMs)
  }

  /** Advances simulated time by `durationMs`, one step at a time. */
  run (durationMs: number, until: () => boolean = () => false): void {
    const endMs = this.nowMs + durationMs
    while (this.nowMs < endMs && !until()) this.step()
  }

  private step (): void {
    this.nowMs += STEP_MS
    const byId = new Map(this.nodes.map((node) => [node.nodeId, node]))
    const arriving = this.inFlight
    this.inFlight = []
    for (const envelope of arriving) byId.get(envelope.to)?.step(envelope, this.nowMs)
    for (const node of this.nodes) {
      node.tick(this.nowMs)
      const ready = node.ready()
      node.advance(ready)
      for (const envelope of ready.send) {
        this.sent.push({ atMs: this.nowMs, from: envelope.from, kind: envelope.message.kind })
        if (!this.drop(envelope, this.nowMs)) this.inFlight.push(envelope)
      }
    }
  }

  allHoldPlan (): boolean {
    return this.nodes.every((node) => node.status().plan !== null)
  }

  /** Simulated ms from now until every node holds `key`, or null if not within `withinMs`. */
  spreadMs (key: string, withinMs: number): number | null {
    const startMs = this.nowMs
    this.run(withinMs, () => this.nodes.every((node) => node.lookup(key) !== undefined))
    return this.nodes.every((node) => node.lookup(key) !== undefined) ? this.nowMs - startMs : null
  }

  /** Messages each node sent in [fromMs, toMs), by kind. */
  sentBetween (fromMs: number, toMs: number): Map<string, Map<string, number>> {
    const counts = new Map(this.nodes.map((node) => [node.nodeId, new Map<string, number>()]))
    for (const { atMs, from, kind } of this.sent) {
      if (atMs < fromMs || atMs >= toMs) continue
      const perNode = counts.get(from)
      perNode?.set(kind, (perNode.get(kind) ?? 0) + 1)
    }
    return counts
  }
}

function formed (profile: TimingProfile, seed: number): Cluster {
  const cluster = new Cluster(profile, seed)
  cluster.run(60_000, () => cluster.allHoldPlan())
  expect(cluster.allHoldPlan(), 'the cluster forms').toBe(true)
  return cluster
}

const MINUTE_MS = 60_000

describe('quiet after formation', () => {
  it('after five idle minutes each node sends digests at the steady rate and nothing else but probes; without the back-off it would not', () => {
    const lan = lanProfile()
    const steadyPerMinute = MINUTE_MS / lan.antiEntropySteadyMaxMs
    for (const seed of [1, 2, 3]) {
      const cluster = formed(lan, seed)
      const formedMs = cluster.nowMs
      cluster.run(5 * MINUTE_MS)
      const firstMinute = cluster.sentBetween(formedMs, formedMs + MINUTE_MS)
      const fifthMinute = cluster.sentBetween(formedMs + 4 * MINUTE_MS, formedMs + 5 * MINUTE_MS)
      for (const [nodeId, kinds] of fifthMinute) {
        const digests = kinds.get('ledger/digest') ?? 0
        expect(digests, `seed ${seed}, ${nodeId}: digests in the fifth idle minute`).toBeLessThanOrEqual(steadyPerMinute)
        expect(digests, `seed ${seed}, ${nodeId}: still runs anti-entropy`).toBeGreaterThan(0)
        // Equal roots get no answer: no buckets, summaries, pulls or deltas; no consensus traffic.
        const others = [...kinds.keys()].filter((kind) => kind !== 'ledger/digest' && !kind.startsWith('swim/'))
        expect(others, `seed ${seed}, ${nodeId}: sent besides probes and digests`).toEqual([])
        // The first minute, still backing off from the plan's entries, sent more.
        expect(firstMinute.get(nodeId)?.get('ledger/digest') ?? 0).toBeGreaterThan(digests)
      }
    }
    // The same run with no back-off: a digest every base interval, the count above would fail.
    const flat = formed({ ...lan, antiEntropySteadyMaxMs: lan.antiEntropyIntervalMs }, 1)
    const flatFormedMs = flat.nowMs
    flat.run(5 * MINUTE_MS)
    for (const kinds of flat.sentBetween(flatFormedMs + 4 * MINUTE_MS, flatFormedMs + 5 * MINUTE_MS).values()) {
      expect(kinds.get('ledger/digest') ?? 0).toBeGreaterThan(steadyPerMinute)
    }
  })

  it('a new entry written after minutes of quiet reaches every node by push, as fast as one written right after formation', () => {
    const lan = lanProfile()
    for (const seed of [4, 5, 6]) {
      const cluster = formed(lan, seed)
      const writer = cluster.nodes[seed % NODES]
      if (writer === undefined) throw new Error('no writer')
      writer.publish('early', Uint8Array.of(1), cluster.nowMs)
      const earlyMs = cluster.spreadMs(`node/${writer.nodeId}/early`, lan.antiEntropyIntervalMs)
      cluster.run(5 * MINUTE_MS)
      const quietWriteMs = cluster.nowMs
      writer.publish('quiet', Uint8Array.of(2), cluster.nowMs)
      const quietMs = cluster.spreadMs(`node/${writer.nodeId}/quiet`, lan.antiEntropyIntervalMs)
      // The new entry snaps every node back to the base interval: each runs a round within one
      // base interval (and a few steps of delivery), where the steady rhythm would wait up to 30 s.
      cluster.run(quietWriteMs + lan.antiEntropyIntervalMs + 3 * STEP_MS - cluster.nowMs)
      for (const [nodeId, kinds] of cluster.sentBetween(quietWriteMs, cluster.nowMs)) {
        expect(kinds.get('ledger/digest') ?? 0, `seed ${seed}, ${nodeId}: a round soon after the new entry`).toBeGreaterThan(0)
      }
      expect(earlyMs, `seed ${seed}: spread right after formation`).not.toBeNull()
      expect(quietMs, `seed ${seed}: spread after five quiet minutes`).not.toBeNull()
      // Pushed: a few hops of one step each, far below any anti-entropy round.
      expect(quietMs, `seed ${seed}`).toBeLessThanOrEqual(3 * STEP_MS)
      expect(quietMs, `seed ${seed}`).toBeLessThanOrEqual((earlyMs ?? 0) + STEP_MS)
      for (const node of cluster.nodes) expect(node.lookup(`node/${writer.nodeId}/quiet`)).toEqual(Uint8Array.of(2))
    }
  })

  it('an entry whose every push to one node was lost is repaired within the steady maximum', () => {
    const lan = lanProfile()
    for (const seed of [7, 8, 9]) {
      const cluster = formed(lan, seed)
      cluster.run(5 * MINUTE_MS)
      const [writer, missing] = [cluster.nodes[0], cluster.nodes[NODES - 1]]
      if (writer === undefined || missing === undefined) throw new Error('no nodes')
      const key = `node/${writer.nodeId}/status`
      const writtenMs = cluster.nowMs
      // Every push of the new entry to `missing` is lost (deltas within the first second), repairs are not.
      cluster.drop = (envelope, atMs) => envelope.to === missing.nodeId && envelope.message.kind === 'ledger/delta' && atMs < writtenMs + 1_000
      writer.publish('status', Uint8Array.of(3), cluster.nowMs)
      cluster.run(1_000)
      expect(missing.lookup(key), `seed ${seed}: the pushes were lost`).toBeUndefined()
      cluster.run(lan.antiEntropySteadyMaxMs, () => missing.lookup(key) !== undefined)
      expect(missing.lookup(key), `seed ${seed}: repaired`).toEqual(Uint8Array.of(3))
      expect(cluster.nowMs - writtenMs, `seed ${seed}: repaired within the steady maximum`).toBeLessThanOrEqual(lan.antiEntropySteadyMaxMs)
    }
  })
})
