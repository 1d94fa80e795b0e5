// Shared by the seeded safety suites: runs the real core under one scenario for a range of seeds
// and fails with the seed, the replay command and the trace of the first failing run.
import { describe, expect, it } from 'vitest'
import { formatFailure, runMany, seedRange } from '../src/index.js'

/** Seeds per scenario in CI: 9 scenarios × 230 ≥ 2,000 seeded runs of the real node. */
export const SEEDS_PER_SCENARIO = 230

export function expectNoViolations (scenario: string, nodes: number, seeds: number, firstSeed = 1, options: { readonly auditEveryStep?: boolean } = {}): void {
  const summary = runMany({ scenarios: [scenario], seeds: seedRange(firstSeed, seeds), nodes, ...options })
  const first = summary.failures[0]
  if (first !== undefined) throw new Error(formatFailure(first))
  expect(summary.runs).toBe(seeds)
  expect(summary.failed).toBe(0)
}

/** One `it` per scenario: SEEDS_PER_SCENARIO seeds of 5 nodes each, no violation allowed. */
export function safetySuite (scenarios: readonly string[]): void {
  describe('seeded safety runs of the real node', () => {
    it.each(scenarios)(`%s: no violation in ${SEEDS_PER_SCENARIO} seeds of 5 nodes`, (scenario) => {
      expectNoViolations(scenario, 5, SEEDS_PER_SCENARIO)
    }, SUITE_TIMEOUT_MS)
  })
}

/** Generous: a loaded CI machine runs a scenario's seeds in tens of seconds. */
export const SUITE_TIMEOUT_MS = 600_000
