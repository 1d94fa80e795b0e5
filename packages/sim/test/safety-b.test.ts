// Goal: S1–S6 hold on every step of every seeded run of the real core node (issue 3: ≥ 2,000
// seeded runs in CI, 0 violations). Method: the simulator runs each scenario below for
// SEEDS_PER_SCENARIO seeds with 5 nodes (and a few other sizes), checking after every step; a
// failure prints its seed, a replay command and the trace. The scenarios are split over three
// files so the two cores of a CI machine share them.
import { describe, it } from 'vitest'
import { SEEDS_PER_SCENARIO, expectNoViolations } from './seeded.js'

describe('seeded safety runs of the real node', () => {
  it(`dueling-proposers: no violation in ${SEEDS_PER_SCENARIO} seeds of 5 nodes`, () => {
    expectNoViolations('dueling-proposers', 5, SEEDS_PER_SCENARIO)
  }, 600_000)
  it(`lossy: no violation in ${SEEDS_PER_SCENARIO} seeds of 5 nodes`, () => {
    expectNoViolations('lossy', 5, SEEDS_PER_SCENARIO)
  }, 600_000)
  it(`power-cycle: no violation in ${SEEDS_PER_SCENARIO} seeds of 5 nodes`, () => {
    expectNoViolations('power-cycle', 5, SEEDS_PER_SCENARIO)
  }, 600_000)
  it('best-effort (no expect): no violation in 100 seeds of 5 nodes', () => {
    expectNoViolations('best-effort', 5, 100)
  }, 600_000)
})
