// Goal: the harness itself is right: runs replay exactly from their seed, faults reach the nodes
// as planned (skew in nowMs, partitions dropping in-flight messages, crashes after persist or after
// send, power loss), and L1, node errors and bad options are reported. Method: hand-written
// scenarios on a fake node that logs what it was given, plus the strawman for whole runs.
import { InvariantError } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import {
  EPOCH_BASE_MS, QUIET_LINKS, SimError, runSimulation, scenarioByName, formatTrace
} from '../src/index.js'
import type { CoreNode, NodeFactory, Scenario, ScenarioPlan, SimulationResult } from '../src/index.js'
import { fakeFactory, newFakeLog } from './fake.js'
import { strawmanNode } from './strawman.js'

/** A three-node quiet LAN with fixed numbers; each test overrides what it is about. */
function fixed (name: string, overrides: Partial<ScenarioPlan>): Scenario {
  const nodeCount = 3
  return {
    name,
    description: name,
    nodesMin: nodeCount,
    build: () => ({
      shape: { expect: nodeCount, controlPlanes: 1 },
      links: { ...QUIET_LINKS, tailPerMille: 0 },
      clocks: Array.from({ length: nodeCount }, () => ({ skewMs: 0, driftPpm: 0 })),
      tickIntervalsMs: Array.from({ length: nodeCount }, () => 20),
      starts: Array.from({ length: nodeCount }, (_, node) => ({ node, atMs: 0 })),
      views: null,
      discoveries: [],
      partitions: [],
      crashes: [],
      crashesOnSend: [],
      liveness: null,
      ...overrides
    })
  }
}

const SHORT_RUN_MS = 1_000

describe('determinism', () => {
  it.each(['random', 'power-cycle', 'partition-minority'])('replays %s identically from its seed', (scenario) => {
    const run = (seed: number): SimulationResult =>
      runSimulation({ scenario, seed, nodes: 5, nodeFactory: strawmanNode, trace: 100_000 })
    const first = run(9)
    const second = run(9)
    expect(formatTrace(second.trace)).toBe(formatTrace(first.trace))
    expect(second).toEqual(first)
    expect(first.trace.length).toBeGreaterThan(10)
    expect(run(10).fingerprint).not.toBe(first.fingerprint)
  })
})

describe('faults reach the nodes', () => {
  it('shows each node its skewed clock, on the real epoch', () => {
    const log = newFakeLog()
    const result = runSimulation({
      scenario: fixed('skew', { clocks: [{ skewMs: 30_000, driftPpm: 0 }, { skewMs: -30_000, driftPpm: 0 }, { skewMs: 0, driftPpm: 0 }] }),
      seed: 1, nodes: 3, nodeFactory: fakeFactory(log, { sync: true }), maxSimTimeMs: SHORT_RUN_MS
    })
    const [n0, n1, n2] = result.nodeIds
    expect(log.initNowMs.get(n0 ?? '')).toEqual([EPOCH_BASE_MS + 30_000])
    expect(log.initNowMs.get(n1 ?? '')).toEqual([EPOCH_BASE_MS - 30_000])
    expect(log.initNowMs.get(n2 ?? '')).toEqual([EPOCH_BASE_MS])
  })

  it('drops messages across a partition, including those in flight when it forms, and heals', () => {
    const log = newFakeLog()
    const result = runSimulation({
      // 50 ms of latency: every tick's pings are still in flight when the partition forms.
      scenario: fixed('split', {
        links: { ...QUIET_LINKS, latencyMsMin: 50, tailPerMille: 0 },
        partitions: [{ atMs: 300, groups: [[0], [1, 2]] }, { atMs: 600, groups: null }]
      }),
      seed: 1, nodes: 3, nodeFactory: fakeFactory(log, { sync: true }), maxSimTimeMs: SHORT_RUN_MS
    })
    const n0 = result.nodeIds[0]
    const crossing = log.received.filter((message) => (message.from === n0) !== (message.to === n0))
    const during = crossing.filter((message) => message.nowMs >= EPOCH_BASE_MS + 300 && message.nowMs < EPOCH_BASE_MS + 600)
    expect(crossing.some((message) => message.nowMs < EPOCH_BASE_MS + 300)).toBe(true)
    expect(during).toEqual([])
    expect(crossing.some((message) => message.nowMs >= EPOCH_BASE_MS + 600)).toBe(true)
    expect(result.trace.some((entry) => entry.type === 'drop' && entry.detail === 'fake/ping (partition)')).toBe(true)
  })

  it('a crash after persist keeps the record but sends nothing; the restart sees the record', () => {
    const log = newFakeLog()
    const result = runSimulation({
      scenario: fixed('crash-after-persist', {
        crashesOnSend: [{ node: 0, kind: 'fake/ping', point: 'after-persist', loseUnsynced: true, restartAfterMs: 100 }]
      }),
      seed: 1, nodes: 3, nodeFactory: fakeFactory(log, { sync: true }), maxSimTimeMs: SHORT_RUN_MS
    })
    const n0 = result.nodeIds[0] ?? ''
    const restoredCounts = log.restored.get(n0) ?? []
    expect(restoredCounts).toHaveLength(2)
    const crashedAt = restoredCounts[1]?.length ?? 0
    expect(crashedAt).toBeGreaterThan(0)
    // The last record written before the crash is the ping that never left.
    expect(log.received.filter((message) => message.from === n0 && message.count === crashedAt)).toEqual([])
    expect(log.received.some((message) => message.from === n0 && message.count === crashedAt + 1)).toBe(true)
  })

  it('a crash after send delivers the messages but never calls advance', () => {
    const log = newFakeLog()
    const result = runSimulation({
      scenario: fixed('crash-after-send', {
        crashesOnSend: [{ node: 0, kind: 'fake/ping', point: 'after-send', loseUnsynced: false, restartAfterMs: null }]
      }),
      seed: 1, nodes: 3, nodeFactory: fakeFactory(log, { sync: true }), maxSimTimeMs: SHORT_RUN_MS
    })
    const n0 = result.nodeIds[0] ?? ''
    const fromN0 = log.received.filter((message) => message.from === n0)
    expect(fromN0.length).toBeGreaterThan(0)
    expect(new Set(fromN0.map((message) => message.count)).size).toBe(1) // one ping, then down for good
    expect(result.trace.some((entry) => entry.type === 'crash' && entry.node === 0 && entry.detail === 'after-send')).toBe(true)
  })

  it('power loss loses un-synced records, a process crash keeps them', () => {
    const run = (loseUnsynced: boolean): number => {
      const log = newFakeLog()
      const result = runSimulation({
        scenario: fixed('power', { crashes: [{ node: 1, atMs: 300, point: 'idle', loseUnsynced, restartAfterMs: 100 }] }),
        seed: 1, nodes: 3, nodeFactory: fakeFactory(log, { sync: false }), maxSimTimeMs: SHORT_RUN_MS
      })
      return log.restored.get(result.nodeIds[1] ?? '')?.[1]?.length ?? -1
    }
    expect(run(true)).toBe(0)
    expect(run(false)).toBeGreaterThan(5)
  })

  it('starts late joiners only after the first commit', () => {
    const result = runSimulation({ scenario: 'late-joiners', seed: 3, nodes: 5, nodeFactory: strawmanNode, trace: 100_000 })
    const firstCommit = result.trace.findIndex((entry) => entry.type === 'commit')
    const starts = result.trace.filter((entry) => entry.type === 'start')
    expect(firstCommit).toBeGreaterThan(0)
    expect(starts).toHaveLength(5)
    const lastStart = result.trace.findLastIndex((entry) => entry.type === 'start')
    expect(lastStart).toBeGreaterThan(firstCommit)
  })
})

describe('reports', () => {
  it('fails L1 on a liveness scenario when nodes never commit', () => {
    const result = runSimulation({ scenario: 'healthy', seed: 1, nodes: 3, nodeFactory: fakeFactory(newFakeLog(), { sync: true }) })
    expect(result.ok).toBe(false)
    expect(result.violations[0]?.property).toBe('L1')
    expect(result.violations[0]?.message).toMatch(/^L1: n0, n1, n2 hold no committed plan 10000 ms after the last start/)
    expect(result.commitTimeMs).toBeNull()
  })

  it('runs the optional ledger audit (S5) when a node commits and fails on its problems', () => {
    const audited: NodeFactory = (init) => {
      const node = strawmanNode(init)
      return { ...node, inspect: () => ({ ...node.inspect(), audit: () => ['entry node/x/facts: bad signature'] }) }
    }
    const result = runSimulation({ scenario: 'clock-skew', seed: 1, nodes: 3, nodeFactory: audited })
    expect(result.violations[0]?.message).toMatch(/^S5: n\d\(…\w{4}\) fails its ledger audit: entry node\/x\/facts: bad signature/)
  })

  it('reports a node that throws as NODE_ERROR and stops the run', () => {
    const throwing: NodeFactory = (init) => {
      const node: CoreNode = fakeFactory(newFakeLog(), { sync: true })(init)
      return { ...node, tick: () => { throw new InvariantError('S2: accept below our promise') } }
    }
    const result = runSimulation({ scenario: 'healthy', seed: 1, nodes: 3, nodeFactory: throwing })
    expect(result.stopReason).toBe('violation')
    expect(result.violations[0]?.message).toMatch(/^NODE_ERROR: n\d\(…\w{4}\) threw InvariantError: invariant broken: S2/)
  })

  it('rejects unknown scenarios and too few nodes with typed errors', () => {
    expect(() => scenarioByName('nope')).toThrow(SimError)
    expect(() => runSimulation({ scenario: 'partition-minority', seed: 1, nodes: 2, nodeFactory: strawmanNode })).toThrow(/needs 3 to/)
  })

  it('runs the real core node when no factory is given', () => {
    const result = runSimulation({ scenario: 'healthy', seed: 1, nodes: 3 })
    expect(result.violations).toEqual([])
    expect(result.commitTimeMs).not.toBeNull()
  })
})
