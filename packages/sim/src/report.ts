import { assert } from '@p2p-bootstrap/core'
import type { Property } from './checkers.js'
import type { SimulationResult } from './runner.js'

export interface Percentiles {
  readonly p50: number
  readonly p90: number
  readonly p99: number
  readonly max: number
}

/** Nearest-rank percentile of sorted values: the smallest value with at least p % at or below it. */
export function percentile (sorted: readonly number[], percent: number): number {
  assert(sorted.length > 0, 'a percentile needs values')
  assert(percent > 0 && percent <= 100, 'a percentile is in (0, 100]')
  const rank = Math.ceil((percent / 100) * sorted.length)
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number
}

export function percentiles (values: readonly number[]): Percentiles | null {
  if (values.length === 0) return null
  const sorted = [...values].sort((a, b) => a - b)
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: percentile(sorted, 100) }
}

export interface ScenarioSummary {
  readonly scenario: string
  readonly runs: number
  /** Runs with at least one violation. */
  readonly failed: number
  readonly violationsByProperty: Readonly<Partial<Record<Property, number>>>
  /** Runs in which every node came to hold a plan. */
  readonly committed: number
  readonly commitTimeMs: Percentiles | null
  readonly messagesPerNode: number
  readonly bytesPerNode: number
}

/** Folds one scenario's results into its table row. */
export function summarise (scenario: string, results: readonly SimulationResult[]): ScenarioSummary {
  const violationsByProperty: Partial<Record<Property, number>> = {}
  for (const result of results) {
    for (const violation of result.violations) {
      violationsByProperty[violation.property] = (violationsByProperty[violation.property] ?? 0) + 1
    }
  }
  const commitTimes = results.flatMap((result) => (result.commitTimeMs === null ? [] : [result.commitTimeMs]))
  const runs = results.length
  return {
    scenario,
    runs,
    failed: results.filter((result) => !result.ok).length,
    violationsByProperty,
    committed: commitTimes.length,
    commitTimeMs: percentiles(commitTimes),
    messagesPerNode: runs === 0 ? 0 : results.reduce((sum, result) => sum + result.messagesPerNode, 0) / runs,
    bytesPerNode: runs === 0 ? 0 : results.reduce((sum, result) => sum + result.bytesPerNode, 0) / runs
  }
}

const HEADERS = ['scenario', 'runs', 'failed', 'violations', 'committed', 'p50 ms', 'p90 ms', 'p99 ms', 'max ms', 'msgs/node', 'bytes/node'] as const

/** A plain-text table, one row per scenario; commit times are simulated milliseconds. */
export function formatTable (summaries: readonly ScenarioSummary[]): string {
  const rows = summaries.map((summary) => {
    const times = summary.commitTimeMs
    const violations = Object.entries(summary.violationsByProperty).map(([property, count]) => `${property}×${count}`).join(' ')
    return [
      summary.scenario,
      String(summary.runs),
      String(summary.failed),
      violations === '' ? '0' : violations,
      String(summary.committed),
      times === null ? '-' : String(times.p50),
      times === null ? '-' : String(times.p90),
      times === null ? '-' : String(times.p99),
      times === null ? '-' : String(times.max),
      summary.messagesPerNode.toFixed(0),
      summary.bytesPerNode.toFixed(0)
    ]
  })
  const table = [[...HEADERS], ...rows]
  const widths = HEADERS.map((_, column) => Math.max(...table.map((row) => (row[column] ?? '').length)))
  return table
    .map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column] ?? 0) : cell.padStart(widths[column] ?? 0))).join('  '))
    .join('\n')
}
