// Goal: prove the simulator finds the bug class it exists for. Method: run the naive "lowest live
// id decides" strawman under partition-minority for a handful of seeds and require an S1
// violation (two initialisers) on one of them; print that seed. As a control, the same strawman on
// a healthy network where everyone sees everyone commits everywhere with no violation, so the
// checkers do not cry wolf. (With partial mDNS views the strawman fails even on a quiet LAN.)
import { describe, expect, it } from 'vitest'
import { runSimulation, scenarioByName } from '../src/index.js'
import type { Scenario } from '../src/index.js'
import { strawmanNode } from './strawman.js'

const SEEDS_TRIED = 5
const healthy = scenarioByName('healthy')
const healthyFullView: Scenario = {
  ...healthy,
  name: 'healthy-full-view',
  build: (prng, nodeCount) => ({ ...healthy.build(prng, nodeCount), views: null })
}

describe('strawman ("lowest live id decides", no consensus)', () => {
  it('violates S1 under partition-minority within a few seeds', () => {
    let found: { seed: number, message: string } | null = null
    for (let seed = 1; seed <= SEEDS_TRIED && found === null; seed++) {
      const result = runSimulation({ scenario: 'partition-minority', seed, nodes: 5, nodeFactory: strawmanNode })
      const violation = result.violations.find((candidate) => candidate.property === 'S1')
      if (violation !== undefined) found = { seed, message: violation.message }
    }
    expect(found).not.toBeNull()
    console.log(`strawman S1 violation found at seed ${found?.seed}: ${found?.message}`)
    expect(found?.message).toMatch(/^S1: two initialisers/)
  })

  it.each([1, 2, 3])('commits everywhere without violations on a healthy network (seed %i)', (seed) => {
    const result = runSimulation({ scenario: healthyFullView, seed, nodes: 5, nodeFactory: strawmanNode })
    expect(result.violations).toEqual([])
    expect(result.commitTimeMs).not.toBeNull()
    expect(result.stopReason).toBe('settled')
  })
})
