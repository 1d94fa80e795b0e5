// Goal: the scenario the reference system gets wrong. With expect = 5 and the fleet split 2 | 3
// from the first boot, only the majority side may commit a plan; after the partition heals, the
// minority joins the same cluster (the same plan, so the same cluster id, initialiser and secrets)
// and nobody initialises a second one. Method: run the real node in the simulator with the whole
// trace kept, read the partition groups and the commits from it, and check where and when each
// commit happened; the S1–S3 checkers run on every step besides.
import { describe, expect, it } from 'vitest'
import { runSimulation } from '../src/index.js'
import type { TraceEntry } from '../src/index.js'

const TRACE_ALL = 1_000_000

function groupsOf (trace: readonly TraceEntry[]): number[][] {
  const split = trace.find(entry => entry.type === 'partition')
  if (split === undefined) throw new Error('the scenario never partitioned the network')
  return split.detail.split(' | ').map(group => group.split(',').map(label => Number(label.slice(1))))
}

describe('partition-minority (5 nodes, expect 5, split 2 | 3)', () => {
  it.each(Array.from({ length: 25 }, (_, index) => index + 1))('seed %d: only the majority commits before the heal; then all join one plan', (seed) => {
    const result = runSimulation({ scenario: 'partition-minority', seed, nodes: 5, trace: TRACE_ALL })
    expect(result.violations).toEqual([])
    const groups = groupsOf(result.trace)
    expect(groups.map(group => group.length).sort()).toEqual([2, 3])
    const majority = new Set(groups.find(group => group.length === 3))
    const healAt = result.trace.find(entry => entry.type === 'heal')?.timeMs
    expect(healAt).toBeDefined()
    const commits = result.trace.filter(entry => entry.type === 'commit')
    const beforeHeal = commits.filter(entry => entry.timeMs < (healAt ?? 0))
    // The majority can commit on its own (a quorum of 3 of 5); the minority never can.
    expect(beforeHeal.length).toBeGreaterThan(0)
    for (const commit of beforeHeal) expect(majority.has(commit.node)).toBe(true)
    // After the heal every node holds a plan; one initialiser across all of them.
    const committedNodes = new Set(commits.map(entry => entry.node))
    expect(committedNodes.size).toBe(5)
    const inits = new Set(commits.map(entry => /init (\S+)/.exec(entry.detail)?.[1]))
    expect(inits.size).toBe(1)
    expect(result.commitTimeMs).not.toBeNull()
  })
})
