// Goal: the command prints a per-scenario table, exits 0 when clean, 1 with the seed, a replay
// line and a readable trace when a run violates a property, and 2 on bad usage; percentiles are
// nearest-rank. Method: call `main` with the strawman injected and capture what it writes.
import { describe, expect, it } from 'vitest'
import { EXIT_OK, EXIT_USAGE, EXIT_VIOLATION, main } from '../src/cli.js'
import { formatTable, percentile, summarise } from '../src/index.js'
import { strawmanNode } from './strawman.js'

function cli (...argv: string[]): { status: number, output: string } {
  let output = ''
  const status = main(argv, { write: (text) => { output += text }, nodeFactory: strawmanNode })
  return { status, output }
}

describe('sim command', () => {
  it('prints the table and exits 0 when no run violates anything', () => {
    const { status, output } = cli('--scenario', 'clock-skew', '--seeds', '3', '--nodes', '4')
    expect(status).toBe(EXIT_OK)
    expect(output).toMatch(/^scenario\s+runs\s+failed\s+violations\s+committed\s+p50 ms\s+p90 ms\s+p99 ms\s+max ms\s+msgs\/node\s+bytes\/node/)
    expect(output).toMatch(/clock-skew\s+3\s+0\s+0\s+3\s+\d+/)
  })

  it('exits 1 on a violation and prints scenario, seed, replay command and trace', () => {
    const { status, output } = cli('--scenario', 'partition-minority', '--seeds', '2', '--seed', '4')
    expect(status).toBe(EXIT_VIOLATION)
    expect(output).toMatch(/FAILED scenario partition-minority, seed [45], 5 nodes/)
    expect(output).toMatch(/S1: two initialisers/)
    expect(output).toMatch(/replay: npm run sim -- --scenario partition-minority --nodes 5 --seed [45] --seeds 1/)
    expect(output).toMatch(/partition\s+n\d.* \| n\d/)
    expect(output).toMatch(/commit\s+n\d\s+epoch 1, init n\d/)
  })

  it('prints JSON with --json', () => {
    const { status, output } = cli('--scenario', 'clock-skew', '--seeds', '1', '--json')
    expect(status).toBe(EXIT_OK)
    const parsed = JSON.parse(output) as { runs: number, scenarios: Array<{ scenario: string }> }
    expect(parsed.runs).toBe(1)
    expect(parsed.scenarios[0]?.scenario).toBe('clock-skew')
  })

  it.each([
    [['--scenario', 'nope']],
    [['--nodes', 'many']],
    [['--seeds', '0']],
    [['--bogus']]
  ])('exits 2 on bad usage %j', (argv) => {
    expect(cli(...argv).status).toBe(EXIT_USAGE)
  })
})

describe('report', () => {
  it.each([
    [[5], 50, 5],
    [[1, 2, 3, 4], 50, 2],
    [[1, 2, 3, 4], 90, 4],
    [Array.from({ length: 100 }, (_, i) => i + 1), 99, 99],
    [Array.from({ length: 100 }, (_, i) => i + 1), 100, 100]
  ])('percentile(%j, %i) = %i (nearest rank)', (values, percent, expected) => {
    expect(percentile(values, percent)).toBe(expected)
  })

  it('summarises counts, violations by property and commit times', () => {
    const base = {
      seed: 1, nodes: 3, messagesPerNode: 10, bytesPerNode: 100, traffic: [], nodeIds: [], endTimeMs: 0, events: 0, stopReason: 'settled' as const, fingerprint: '', trace: [], falseDeaths: 0,
      firstStartMs: 0, firstCommitMs: null, allCommittedMs: null, trafficToAllCommitted: null, dropped: { loss: 0, partition: 0, overflow: 0, down: 0 }, latestPlan: null, downAtEnd: []
    }
    const summary = summarise('x', [
      { ...base, scenario: 'x', ok: true, violations: [], commitTimeMs: 100 },
      { ...base, scenario: 'x', ok: false, violations: [{ property: 'S1', timeMs: 0, nodes: [], message: 'S1: …' }], commitTimeMs: null }
    ])
    expect(summary).toMatchObject({ runs: 2, failed: 1, committed: 1, violationsByProperty: { S1: 1 }, commitTimeMs: { p50: 100, max: 100 } })
    expect(formatTable([summary])).toMatch(/x\s+2\s+1\s+S1×1\s+1\s+100\s+100\s+100\s+100\s+10\s+100/)
  })
})
