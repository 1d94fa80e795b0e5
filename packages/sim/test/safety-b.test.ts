// Goal: S1–S6 hold on every step of every seeded run of the real core node (issue 3: ≥ 2,000
// seeded runs in CI, 0 violations). Method: the simulator runs each scenario below for
// SEEDS_PER_SCENARIO seeds of 5 nodes (and a few other sizes and modes), checking after every
// step; a failure prints its seed, a replay command and the trace. The scenarios are split over
// three files so the two cores of a CI machine share them.
import { describe, it } from 'vitest'
import { SUITE_TIMEOUT_MS, expectNoViolations, safetySuite } from './seeded.js'

safetySuite(['dueling-proposers', 'lossy', 'power-cycle'])

describe('best-effort mode', () => {
  it('best-effort (no expect): no violation in 100 seeds of 5 nodes', () => {
    expectNoViolations('best-effort', 5, 100)
  }, SUITE_TIMEOUT_MS)

  // Issue 15 finding 5: views that overlap through a bridge node never give two plans.
  it('best-effort-overlap: no violation in 100 seeds of 5 nodes', () => {
    expectNoViolations('best-effort-overlap', 5, 100)
  }, SUITE_TIMEOUT_MS)

  // Issue 15 finding 5: two halves that each bootstrapped meet; one plan kept everywhere, before and after restarts.
  it('best-effort-merge: no violation in 100 seeds of 5 nodes', () => {
    expectNoViolations('best-effort-merge', 5, 100)
  }, SUITE_TIMEOUT_MS)

  // Issue 15 finding 5: every fault of `random`, without expect; one plan everywhere at the end.
  it('best-effort-random: no violation in 100 seeds of 5 nodes', () => {
    expectNoViolations('best-effort-random', 5, 100)
  }, SUITE_TIMEOUT_MS)
})
