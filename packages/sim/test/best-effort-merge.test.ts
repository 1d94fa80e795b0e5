// Goal: issue 15 finding 5 — after two best-effort halves that each bootstrapped meet, every node
// holds the plan the ledger keeps and `status` says there was a conflict, also on nodes that
// restarted since (the losing entry is gone from their ledger then). Method: run seeds of the
// best-effort-merge scenario in which no epoch follows the merge (one control plane) and read
// each node's last status and inspection through the node factory.
import { describe, expect, it } from 'vitest'
import { createCoreNode } from '@p2p-bootstrap/core'
import type { CoreNode, NodeId } from '@p2p-bootstrap/core'
import { runSimulation } from '../src/index.js'

/** Seeds of 5 nodes where both halves bootstrapped and nothing was committed after the merge. */
const SEEDS = [3, 5, 10]

describe('best-effort-merge: one plan and a reported conflict on every node', () => {
  it.each(SEEDS)('seed %i', (seed) => {
    const latest = new Map<NodeId, CoreNode>()
    const result = runSimulation({
      scenario: 'best-effort-merge',
      seed,
      nodes: 5,
      nodeFactory: (init) => {
        const node = createCoreNode(init)
        latest.set(init.key.nodeId, node)
        return node
      }
    })
    expect(result.violations).toEqual([])
    const statuses = [...latest.values()].map((node) => node.status())
    expect(statuses).toHaveLength(5)
    // The plan each node holds: one for the whole fleet.
    expect(new Set(statuses.map((status) => status.plan?.init))).toHaveLength(1)
    for (const status of statuses) {
      expect(status.epoch).toBe(1)
      expect(status.planConflict).toContain(`lost to the one with initialiser ${status.plan?.init ?? '?'}`)
    }
  })
})
