import type { NodeFactory } from './core-types.js'
import { SimError } from './errors.js'
import { FAILURES_KEPT_MAX, SEEDS_MAX } from './limits.js'
import { summarise } from './report.js'
import type { ScenarioSummary } from './report.js'
import { runSimulation } from './runner.js'
import type { SimulationOptions, SimulationResult } from './runner.js'
import { SCENARIOS, scenarioByName } from './scenarios.js'
import type { Scenario } from './scenarios.js'

export interface ManyOptions extends Omit<SimulationOptions, 'scenario' | 'seed'> {
  /** Scenarios by name or value; all of them by default. */
  readonly scenarios?: readonly (string | Scenario)[]
  readonly seeds: readonly number[]
  readonly nodeFactory?: NodeFactory
  /** Called after each run (progress output). */
  readonly onRun?: (result: SimulationResult) => void
}

export interface ManySummary {
  readonly runs: number
  readonly failed: number
  readonly scenarios: readonly ScenarioSummary[]
  /** The first failing runs, with their traces (at most FAILURES_KEPT_MAX). */
  readonly failures: readonly SimulationResult[]
}

/** `count` consecutive seeds from `first`: the CLI's `--seed S --seeds K`. */
export function seedRange (first: number, count: number): number[] {
  if (!Number.isSafeInteger(first) || first < 0) throw new SimError('SIM_BAD_OPTION', `--seed must be a non-negative integer, got ${first}`)
  if (!Number.isSafeInteger(count) || count < 1 || count > SEEDS_MAX) throw new SimError('SIM_BAD_OPTION', `--seeds must be 1 to ${SEEDS_MAX}, got ${count}`)
  return Array.from({ length: count }, (_, offset) => first + offset)
}

/** Every scenario × every seed; results are folded per scenario, failures kept with traces. */
export function runMany (options: ManyOptions): ManySummary {
  const { scenarios = SCENARIOS, seeds, onRun, ...shared } = options
  const summaries: ScenarioSummary[] = []
  const failures: SimulationResult[] = []
  let runs = 0
  let failed = 0
  for (const entry of scenarios) {
    const scenario = typeof entry === 'string' ? scenarioByName(entry) : entry
    const results: SimulationResult[] = []
    for (const seed of seeds) {
      const result = runSimulation({ ...shared, scenario, seed })
      runs += 1
      onRun?.(result)
      if (!result.ok) {
        failed += 1
        if (failures.length < FAILURES_KEPT_MAX) failures.push(result)
      }
      // Keep only what the summary needs, so thousands of runs do not hold their traces.
      results.push({ ...result, trace: [], traffic: [] })
    }
    summaries.push(summarise(scenario.name, results))
  }
  return { runs, failed, scenarios: summaries, failures }
}
