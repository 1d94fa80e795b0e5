// Goal: what the simulator adds for runs of thousands of nodes works as it says. Bounded views
// connect everyone with a degree that does not grow with the node count; a message object handed
// to many peers in one batch is encoded once but counted once per copy; a run reports progress,
// stops at its event bound, and reports when every node first held a plan, the traffic until
// then and the drops. Method: the pure helpers directly, then whole runs with a counting codec,
// a fake node that broadcasts one object, and the real core on a small bounded-view LAN.
import { InvariantError, Prng } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import {
  MemoryStore, Network, PROGRESS_EVERY_EVENTS, QUIET_LINKS, boundedViews, cborCodec, coreWireCodec, randomClockSettings,
  randomTickIntervals, runSimulation, spreadStarts
} from '../src/index.js'
import type { CoreNode, CoreNodeInit, Envelope, NodeFactory, Scenario, SimulationProgress, WireCodec, WireMessage } from '../src/index.js'

/** Nodes reachable from node 0 through the views. */
function reachable (views: readonly (readonly number[])[]): number {
  const seen = new Set<number>([0])
  const queue = [0]
  for (let next = queue.pop(); next !== undefined; next = queue.pop()) {
    for (const peer of views[next] ?? []) {
      if (!seen.has(peer)) {
        seen.add(peer)
        queue.push(peer)
      }
    }
  }
  return seen.size
}

describe('boundedViews', () => {
  it.each([1, 2, 10, 500, 3_000])('connects all %i nodes with mutual views and a bounded degree', (nodeCount) => {
    const views = boundedViews(new Prng(nodeCount), nodeCount, 4)
    expect(views).toHaveLength(nodeCount)
    expect(reachable(views)).toBe(nodeCount)
    views.forEach((view, node) => {
      expect(view).toEqual([...new Set(view)].sort((a, b) => a - b))
      expect(view.includes(node)).toBe(false)
      for (const peer of view) expect(views[peer]?.includes(node)).toBe(true)
    })
    const degrees = views.map((view) => view.length)
    const average = degrees.reduce((sum, degree) => sum + degree, 0) / nodeCount
    // Each node makes 4 links (one tree edge, three random), and receives as many on average.
    if (nodeCount >= 500) {
      expect(average).toBeGreaterThan(7)
      expect(average).toBeLessThanOrEqual(8)
      expect(Math.max(...degrees)).toBeLessThan(30)
    }
  })

  it('is a function of the generator', () => {
    expect(boundedViews(new Prng(7), 200, 3)).toEqual(boundedViews(new Prng(7), 200, 3))
    expect(boundedViews(new Prng(7), 200, 3)).not.toEqual(boundedViews(new Prng(8), 200, 3))
  })
})

/** A codec that counts how often it encodes. */
function countingCodec (inner: WireCodec): WireCodec & { encodes: number } {
  const codec = {
    encodes: 0,
    encode: (message: WireMessage) => {
      codec.encodes += 1
      return inner.encode(message)
    },
    decode: inner.decode
  }
  return codec
}

/** A fake node that sends one new object to every peer it knows on each tick. */
function broadcaster (counts: { sends: number, ticks: number }): NodeFactory {
  return (init: CoreNodeInit): CoreNode => {
    const peers: string[] = []
    let send: Envelope[] = []
    return {
      nodeId: init.key.nodeId,
      tick: () => {
        const message = { kind: 'fake/news', from: init.key.nodeId }
        send = peers.map((to) => ({ from: init.key.nodeId, to, message }))
        if (send.length > 0) counts.ticks += 1
        counts.sends += send.length
      },
      step: () => {},
      discover: (peer) => { peers.push(peer) },
      ready: () => ({ persist: { records: [], sync: false }, send, events: [] }),
      advance: () => { send = [] },
      status: () => ({ nodeId: init.key.nodeId, clusterId: init.clusterId, phase: 'discovering', waitingFor: 'nothing', members: [], proposer: null, ballot: null, epoch: 0, plan: null, role: null, history: [], leaving: false, localHealth: 0 }),
      leave: () => {},
      inspect: () => ({ nodeId: init.key.nodeId, plans: new Map(), promised: new Map(), role: null })
    }
  }
}

describe('encoding once per batch', () => {
  it('encodes one object once per batch, counts every copy, and encodes again in another batch', () => {
    const codec = countingCodec(cborCodec)
    const network = new Network(QUIET_LINKS, codec, new Prng(1), 1_000)
    const message = { kind: 'test/data', payload: 'y'.repeat(50) }
    const batch = new Map<WireMessage, Uint8Array>()
    const sizes = ['b', 'c', 'd'].map((to) => network.send({ from: 'a', to, message }, 0, batch).deliveries[0]?.bytes.byteLength)
    expect(codec.encodes).toBe(1)
    expect(new Set(sizes).size).toBe(1)
    expect(network.trafficOf('a')).toEqual({ messagesSent: 3, bytesSent: 3 * (sizes[0] ?? 0) })
    expect(network.totals).toEqual({ messagesSent: 3, bytesSent: 3 * (sizes[0] ?? 0) })
    network.send({ from: 'a', to: 'b', message }, 0)
    network.send({ from: 'a', to: 'b', message }, 0, new Map())
    expect(codec.encodes).toBe(3)
  })

  it('in a run, a node broadcasting one object per tick costs one encode per tick', () => {
    const codec = countingCodec(cborCodec)
    const counts = { sends: 0, ticks: 0 }
    const result = runSimulation({ scenario: 'lossy', seed: 2, nodes: 6, nodeFactory: broadcaster(counts), codec, maxSimTimeMs: 3_000 })
    expect(counts.ticks).toBeGreaterThan(100)
    expect(codec.encodes).toBe(counts.ticks)
    expect(counts.sends).toBeGreaterThan(3 * counts.ticks)
    expect(result.messagesPerNode * 6).toBe(counts.sends)
  })
})

describe('write-only store', () => {
  it('encodes and counts every record but keeps none, and refuses to restore or crash', () => {
    const store = new MemoryStore({ encode: cborCodec.encode, decode: (bytes) => cborCodec.decode(bytes) })
    expect(store.restore()).toEqual([])
    store.writeOnly()
    store.append({ records: [{ kind: 'a' }, { kind: 'b' }], sync: true })
    expect(store.recordsWritten).toBe(2)
    expect(store.bytesWritten).toBeGreaterThan(4)
    expect(store.recordCount).toBe(0)
    expect(() => store.restore()).toThrow(InvariantError)
    expect(() => store.crash(true)).toThrow(InvariantError)
    // A record that cannot be encoded still fails, as on a keeping store.
    expect(() => { store.append({ records: [{ kind: 'c', value: () => 1 } as unknown as { kind: string }], sync: false }) }).toThrow()
  })

  it('can only be made write-only before its first write', () => {
    const store = new MemoryStore({ encode: cborCodec.encode, decode: (bytes) => cborCodec.decode(bytes) })
    store.append({ records: [{ kind: 'a' }], sync: false })
    expect(() => { store.writeOnly() }).toThrow(InvariantError)
    expect(store.restore()).toEqual([{ kind: 'a' }])
  })
})

/** A quiet LAN where each node first sees only a few random peers, as the scale benchmark runs it. */
const boundedLan: Scenario = {
  name: 'bounded-lan',
  description: 'a quiet LAN, each node dialling 2 random peers',
  nodesMin: 1,
  build: (prng, nodeCount) => ({
    shape: { expect: nodeCount, controlPlanes: 3 },
    links: QUIET_LINKS,
    clocks: Array.from({ length: nodeCount }, () => randomClockSettings(prng, 100, 50)),
    tickIntervalsMs: randomTickIntervals(prng, nodeCount),
    starts: spreadStarts(prng, nodeCount, 1_000),
    views: boundedViews(prng, nodeCount, 2),
    discoveries: [],
    partitions: [],
    crashes: [],
    crashesOnSend: [],
    liveness: { kind: 'last-start' }
  })
}

describe('run reports for scale', () => {
  it('the real core commits on a bounded-view LAN; the report places the first and last commit and the traffic until then', () => {
    const result = runSimulation({ scenario: boundedLan, seed: 4, nodes: 12, codec: coreWireCodec })
    expect(result.violations).toEqual([])
    expect(result.firstStartMs).not.toBeNull()
    expect(result.firstCommitMs).not.toBeNull()
    expect(result.allCommittedMs).not.toBeNull()
    const first = result.firstStartMs ?? Infinity
    const committed = result.firstCommitMs ?? -1
    const all = result.allCommittedMs ?? -1
    expect(first).toBeLessThanOrEqual(committed)
    expect(committed).toBeLessThanOrEqual(all)
    expect(result.commitTimeMs).toBeLessThanOrEqual(all - first)
    const toCommit = result.trafficToAllCommitted
    expect(toCommit?.messages).toBeGreaterThan(0)
    expect(toCommit?.messages).toBeLessThan(result.messagesPerNode)
    expect(toCommit?.bytes).toBeLessThan(result.bytesPerNode)
    expect(result.dropped).toEqual({ loss: 0, partition: 0, overflow: 0, down: 0 })
  })

  it('reports progress every PROGRESS_EVERY_EVENTS events', () => {
    const progress: SimulationProgress[] = []
    const result = runSimulation({
      scenario: 'lossy', seed: 3, nodes: 6, nodeFactory: broadcaster({ sends: 0, ticks: 0 }), maxSimTimeMs: 30_000, onProgress: (report) => progress.push(report)
    })
    expect(result.events).toBeGreaterThan(2 * PROGRESS_EVERY_EVENTS)
    expect(progress.map((report) => report.events)).toEqual(
      Array.from({ length: Math.floor(result.events / PROGRESS_EVERY_EVENTS) }, (_, index) => (index + 1) * PROGRESS_EVERY_EVENTS))
    const times = progress.map((report) => report.simTimeMs)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    expect(times.at(-1)).toBeLessThanOrEqual(result.endTimeMs)
    expect(progress.every((report) => report.holdingPlan === 0)).toBe(true)
  })

  it('counts drops by reason', () => {
    const result = runSimulation({ scenario: 'lossy', seed: 1, nodes: 5 })
    expect(result.dropped.loss).toBeGreaterThan(0)
    expect(result.dropped.partition).toBe(0)
  })

  it('stops at eventsMax and rejects a bad one', () => {
    const result = runSimulation({ scenario: boundedLan, seed: 1, nodes: 5, eventsMax: 50 })
    expect(result.stopReason).toBe('event-limit')
    expect(result.events).toBe(50)
    expect(() => runSimulation({ scenario: boundedLan, seed: 1, nodes: 5, eventsMax: 0 })).toThrow(/eventsMax must be a positive integer/)
  })
})
