// Goal: S1–S6 hold on every step of every seeded run of the real core node (issue 3: ≥ 2,000
// seeded runs in CI, 0 violations). Method: the simulator runs each scenario below for
// SEEDS_PER_SCENARIO seeds of 5 nodes (and a few other sizes and modes), checking after every
// step; a failure prints its seed, a replay command and the trace. The scenarios are split over
// three files so the two cores of a CI machine share them.
import { describe, it } from 'vitest'
import { SUITE_TIMEOUT_MS, expectNoViolations, safetySuite } from './seeded.js'

safetySuite(['clock-skew', 'late-joiners', 'random'])

describe('a larger fleet under every fault', () => {
  it('random: no violation in 60 seeds of 7 nodes', () => {
    expectNoViolations('random', 7, 60, 20_000)
  }, SUITE_TIMEOUT_MS)
})
