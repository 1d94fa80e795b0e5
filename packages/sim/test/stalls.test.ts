// Goal: CPU starvation and wall-clock steps are faults the simulator models (issues 15 and 16), so
// a failure detector that lies about slow nodes, or a timer that reads the wall clock, is found
// by a seed. Method: the `stalls` scenario freezes every node as it starts and some later; a
// stalled node's messages wait and its timers fire late. No live node may be declared dead there,
// and the former 250-ms LAN timing must fail that check (the scenario can fail). Clock steps move
// only the wall clock: a fail-over delay is measured on the monotonic one.
import { describe, expect, it } from 'vitest'
import { createCoreNode, lanProfile } from '@p2p-bootstrap/core'
import type { CoreNode, CoreNodeInit } from '@p2p-bootstrap/core'
import { runSimulation, scenarioByName, separateStalls } from '../src/index.js'
import type { Scenario, SimulationResult } from '../src/index.js'
import { SUITE_TIMEOUT_MS } from './seeded.js'

/** The LAN profile before issue 16: probe every 250 ms, 100-ms timeout, 1 s of suspicion. */
const FORMER_LAN = { ...lanProfile(), probeIntervalMs: 250, probeTimeoutMs: 100, suspicionTimeoutMs: 1_000 }

function runStalls (seeds: number, options: { profile?: typeof FORMER_LAN } = {}): SimulationResult[] {
  return Array.from({ length: seeds }, (_, index) => runSimulation({ scenario: 'stalls', seed: index + 1, nodes: 10, ...options }))
}

describe('stalls scenario (CPU starvation)', () => {
  it('forms under stalls of every node (L1 checked) and declares no live node dead, in 12 seeds of 10 nodes', () => {
    for (const result of runStalls(12)) {
      expect(result.violations, `seed ${result.seed}`).toEqual([])
      expect(result.commitTimeMs, `seed ${result.seed}`).not.toBeNull()
      expect(result.falseDeaths, `seed ${result.seed}: live nodes declared dead`).toBe(0)
      // The first plan is the one there is: all ten were found, so it has the 3 control planes asked for.
      expect(result.latestPlan?.epoch, `seed ${result.seed}`).toBe(1)
      expect(result.latestPlan?.controlPlanes, `seed ${result.seed}`).toHaveLength(3)
    }
  }, SUITE_TIMEOUT_MS)

  it('the former 250-ms LAN timing declares stalled live nodes dead under the same stalls', () => {
    const deaths = runStalls(3, { profile: FORMER_LAN }).reduce((sum, result) => sum + result.falseDeaths, 0)
    expect(deaths).toBeGreaterThan(0)
  }, SUITE_TIMEOUT_MS)

  it('a stalled node reads nothing while frozen, then wakes told how long it was frozen', () => {
    const scenario: Scenario = {
      ...scenarioByName('healthy'),
      name: 'one-stall',
      build: (prng, nodes) => ({ ...scenarioByName('healthy').build(prng, nodes), stalls: [{ node: 1, atMs: 3_000, durationMs: 2_000 }] })
    }
    const result = runSimulation({ scenario, seed: 7, nodes: 3, trace: 100_000 })
    expect(result.violations).toEqual([])
    const stall = result.trace.find((entry) => entry.type === 'stall' && entry.node === 1)
    const resume = result.trace.find((entry) => entry.type === 'resume' && entry.node === 1)
    expect(stall?.timeMs).toBe(3_000)
    expect(resume?.timeMs).toBe(5_000)
    expect(resume?.detail).toBe('after 2000 ms')
    const readWhileFrozen = result.trace.filter((entry) => entry.type === 'deliver' && entry.peer === 1 && entry.timeMs > 3_000 && entry.timeMs < 5_000)
    expect(readWhileFrozen).toEqual([])
    const readOnWaking = result.trace.filter((entry) => entry.type === 'deliver' && entry.peer === 1 && entry.timeMs === 5_000)
    expect(readOnWaking.length).toBeGreaterThan(0)
  })

  it('separateStalls drops a stall that begins inside an earlier one of the same node', () => {
    expect(separateStalls([
      { node: 0, atMs: 100, durationMs: 1_000 },
      { node: 0, atMs: 500, durationMs: 4_000 },
      { node: 1, atMs: 500, durationMs: 100 },
      { node: 0, atMs: 1_200, durationMs: 100 }
    ])).toEqual([
      { node: 0, atMs: 100, durationMs: 1_000 },
      { node: 1, atMs: 500, durationMs: 100 },
      { node: 0, atMs: 1_200, durationMs: 100 }
    ])
  })
})

describe('wall-clock steps', () => {
  /** A control plane down for 60 s (a reboot) while every wall clock jumps an hour ahead, then back 10 min. */
  function rebootUnderClockSteps (down: number): Scenario {
    const healthy = scenarioByName('healthy')
    return {
      ...healthy,
      name: `reboot-${down}-under-clock-steps`,
      build: (prng, nodes) => ({
        ...healthy.build(prng, nodes),
        shape: { expect: nodes, controlPlanes: 3 },
        crashes: [{ node: down, atMs: 8_000, point: 'idle', loseUnsynced: false, restartAfterMs: 60_000 }],
        clockSteps: Array.from({ length: nodes }, (_, node) => [
          { node, atMs: 20_000, stepMs: 3_600_000 },
          { node, atMs: 40_000, stepMs: -600_000 }
        ]).flat(),
        liveness: null,
        holdUntilMs: 75_000
      })
    }
  }

  /** A node whose timers read the wall clock, as the agent did before issue 15. */
  const wallTimed = (init: CoreNodeInit): CoreNode => {
    const node = createCoreNode({ ...init, nowMs: init.wallMs ?? init.nowMs })
    return {
      nodeId: node.nodeId,
      tick: (nowMs, wallMs) => { node.tick(wallMs ?? nowMs, wallMs) },
      step: (envelope, nowMs, wallMs) => { node.step(envelope, wallMs ?? nowMs, wallMs) },
      discover: (peer, nowMs, wallMs) => { node.discover(peer, wallMs ?? nowMs, wallMs) },
      leave: (nowMs, wallMs) => { node.leave(wallMs ?? nowMs, wallMs) },
      ready: () => node.ready(),
      advance: (ready) => { node.advance(ready) },
      status: () => node.status(),
      inspect: () => node.inspect()
    }
  }

  it('a control plane rebooting for 60 s is not replaced when wall clocks step an hour ahead and back (fail-over delay 5 min)', () => {
    let controlPlaneRebooted = false
    for (const down of [1, 2, 3, 4]) {
      const result = runSimulation({ scenario: rebootUnderClockSteps(down), seed: 3, nodes: 5, maxSimTimeMs: 80_000 })
      expect(result.violations, `node ${down} down`).toEqual([])
      expect(result.latestPlan?.epoch, `node ${down} down: no replacement epoch`).toBe(1)
      controlPlaneRebooted ||= result.latestPlan?.controlPlanes.includes(result.nodeIds[down] ?? '') === true
    }
    // At least one of the four rebooted nodes was a control plane, so a replacement was possible.
    expect(controlPlaneRebooted).toBe(true)
  }, SUITE_TIMEOUT_MS)

  it('with timers on the wall clock, the same reboot is replaced at once (the check can fail)', () => {
    const epochs = [1, 2, 3, 4].map((down) =>
      runSimulation({ scenario: rebootUnderClockSteps(down), seed: 3, nodes: 5, maxSimTimeMs: 80_000, nodeFactory: wallTimed }).latestPlan?.epoch ?? 0)
    expect(Math.max(...epochs)).toBeGreaterThan(1)
  }, SUITE_TIMEOUT_MS)
})
