// Goal: issue 16's ballot livelock (25 agents in one process on a loaded machine restarted ballots
// for a minute without committing) stays fixed, and the slow-processing model behind it does what
// it says. Method: the `overload` scenario runs every node on one shared event loop where each
// message read costs 1–2 ms; with a fixed ballot wait, these 5 seeds of 25 nodes (of the first 10)
// committed nothing within 30 s, sending 682 messages per node of retried ballots. L1 is checked against 20 s, since
// the loop's work grows with the node count; the first plan must be epoch 1 and nobody declared dead.
import { describe, expect, it } from 'vitest'
import { EventLoops, runSimulation } from '../src/index.js'
import { SUITE_TIMEOUT_MS } from './seeded.js'

const OVERLOAD_COMMIT_BOUND_MS = 20_000
/** The seeds of 1–10 that livelocked before the fix. */
const LIVELOCKED_SEEDS = [1, 3, 6, 7, 8]

describe('overload scenario (one shared, slow event loop)', () => {
  it.each(LIVELOCKED_SEEDS)('seed %d: 25 nodes commit epoch 1 within the L1 bound, with no live node declared dead', (seed) => {
    const result = runSimulation({ scenario: 'overload', seed, nodes: 25, commitBoundMs: OVERLOAD_COMMIT_BOUND_MS })
    expect(result.violations).toEqual([])
    expect(result.commitTimeMs).not.toBeNull()
    expect(result.latestPlan?.epoch).toBe(1)
    expect(result.falseDeaths).toBe(0)
  }, SUITE_TIMEOUT_MS)

  it('a busy loop reads work in arrival order, each after the one before it', () => {
    const shared = new EventLoops({ messageCostMs: 3, tickCostMs: 1, shared: true })
    expect(shared.admitMessage(0, 100)).toBe(100)
    expect(shared.admitMessage(1, 100)).toBe(103) // another node, same loop: waits its turn
    expect(shared.admitTick(2, 101)).toBe(106)
    expect(shared.admitMessage(0, 200)).toBe(200) // the loop was free again
    const own = new EventLoops({ messageCostMs: 3, tickCostMs: 1, shared: false })
    expect(own.admitMessage(0, 100)).toBe(100)
    expect(own.admitMessage(1, 100)).toBe(100) // a loop each
    expect(own.admitMessage(0, 101)).toBe(103)
  })

  it('messages wait for the loop: the same seed reads later with processing than without', () => {
    const run = (processing: boolean): number => {
      const result = runSimulation({
        scenario: {
          name: processing ? 'slow' : 'fast',
          description: '',
          nodesMin: 1,
          build: () => ({
            shape: { expect: 3, controlPlanes: 1 },
            links: { latencyMsMin: 1, latencyJitterMsMax: 0, tailPerMille: 0, latencyTailMsMax: 0, lossPerMille: 0, duplicatePerMille: 0 },
            clocks: [0, 1, 2].map(() => ({ skewMs: 0, driftPpm: 0 })),
            tickIntervalsMs: [20, 20, 20],
            starts: [0, 1, 2].map((node) => ({ node, atMs: 0 })),
            views: null,
            discoveries: [],
            partitions: [],
            crashes: [],
            crashesOnSend: [],
            liveness: null,
            ...(processing ? { processing: { messageCostMs: 50, tickCostMs: 0, shared: true } } : {})
          })
        },
        seed: 1,
        nodes: 3
      })
      expect(result.violations).toEqual([])
      expect(result.firstCommitMs).not.toBeNull()
      return result.firstCommitMs ?? 0
    }
    expect(run(true)).toBeGreaterThan(run(false))
  }, SUITE_TIMEOUT_MS)
})
