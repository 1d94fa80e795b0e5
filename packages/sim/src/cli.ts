import { Command, CommanderError, InvalidArgumentError } from 'commander'
import type { NodeFactory } from './core-types.js'
import { P2pBootstrapError } from '@p2p-bootstrap/core'
import { defaultNodeFactory } from './factory.js'
import { COMMIT_BOUND_MS_DEFAULT, SIM_TIME_MS_DEFAULT, TRACE_EVENTS_DEFAULT } from './limits.js'
import { runMany, seedRange } from './many.js'
import type { ManySummary } from './many.js'
import { formatTable } from './report.js'
import type { SimulationResult } from './runner.js'
import { SCENARIO_NAMES, scenarioByName } from './scenarios.js'
import { formatTrace } from './trace.js'

/** Exit statuses: 1 means the simulator found a violation, 2 that it was asked wrongly. */
export const EXIT_OK = 0
export const EXIT_VIOLATION = 1
export const EXIT_USAGE = 2

export interface CliIo {
  readonly write: (text: string) => void
  readonly nodeFactory: NodeFactory
}

const defaultIo: CliIo = {
  write: (text) => process.stdout.write(text),
  nodeFactory: defaultNodeFactory
}

function integer (text: string): number {
  const value = Number(text)
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value)) throw new InvalidArgumentError('expected a non-negative integer')
  return value
}

interface CliOptions {
  readonly nodes: number
  readonly seeds: number
  readonly seed: number
  readonly scenario?: string
  readonly json: boolean
  readonly maxSimTimeMs: number
  readonly commitBoundMs: number
  readonly traceEvents: number
}

function program (io: CliIo): Command {
  return new Command('sim')
    .description('Run the p2p-bootstrap core under seeded faults and check S1–S6 and L1 on every step.')
    .option('--nodes <n>', 'nodes per run', integer, 5)
    .option('--seeds <k>', 'runs per scenario (seeds S, S+1, …)', integer, 100)
    .option('--seed <s>', 'first seed; with --seeds 1 it replays one run exactly', integer, 1)
    .option('--scenario <name>', `one of ${SCENARIO_NAMES.join(', ')} (default: all)`)
    .option('--json', 'print the summary and failures as JSON', false)
    .option('--max-sim-time-ms <ms>', 'simulated time limit per run', integer, SIM_TIME_MS_DEFAULT)
    .option('--commit-bound-ms <ms>', 'L1 bound: simulated time to a plan on every node', integer, COMMIT_BOUND_MS_DEFAULT)
    .option('--trace-events <n>', 'events of a failing run to print', integer, TRACE_EVENTS_DEFAULT)
    .exitOverride()
    .configureOutput({ writeOut: io.write, writeErr: io.write })
}

/** Parses `argv` (without node and script), runs, prints; returns the exit status. */
export function main (argv: readonly string[], io: CliIo = defaultIo): number {
  let options: CliOptions
  try {
    options = program(io).parse(argv, { from: 'user' }).opts<CliOptions>()
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE
    throw error
  }
  try {
    const summary = runMany({
      scenarios: options.scenario === undefined ? undefined : [scenarioByName(options.scenario)],
      seeds: seedRange(options.seed, options.seeds),
      nodes: options.nodes,
      nodeFactory: io.nodeFactory,
      maxSimTimeMs: options.maxSimTimeMs,
      commitBoundMs: options.commitBoundMs,
      trace: options.traceEvents
    })
    io.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary))
    return summary.failed === 0 ? EXIT_OK : EXIT_VIOLATION
  } catch (error) {
    if (!(error instanceof P2pBootstrapError)) throw error
    io.write(`sim: ${error.message}\n`)
    return EXIT_USAGE
  }
}

function formatSummary (summary: ManySummary): string {
  const lines = [formatTable(summary.scenarios), '', `${summary.runs} runs, ${summary.failed} with violations (commit times in simulated ms from the last node's start)`]
  // One failing run per scenario is enough to start from; its seed replays the rest.
  const shown = new Set<string>()
  for (const failure of summary.failures) {
    if (shown.has(failure.scenario)) continue
    shown.add(failure.scenario)
    lines.push('', formatFailure(failure))
  }
  return `${lines.join('\n')}\n`
}

export function formatFailure (result: SimulationResult): string {
  return [
    `FAILED scenario ${result.scenario}, seed ${result.seed}, ${result.nodes} nodes, at ${result.endTimeMs} ms simulated`,
    ...result.violations.map((violation) => `  ${violation.message}`),
    `  replay: npm run sim -- --scenario ${result.scenario} --nodes ${result.nodes} --seed ${result.seed} --seeds 1`,
    '  nodes (n0 has the lowest id):',
    ...result.nodeIds.map((nodeId, index) => `    n${index} ${nodeId}`),
    `  last ${result.trace.length} events:`,
    formatTrace(result.trace)
  ].join('\n')
}
