// Goal: every committed plan's join graph leads to a running cluster (J1), above all when the init
// node dies right after the commit, before any server can be Ready (issue finding 5: epoch 2
// replaced it, nobody had cluster-init, and the servers' join targets formed a circle). Method: the
// `init-dies` scenario runs the real core for a range of seeds while the checker tests the join
// graph of every plan after every step; each run must also have replaced the init node and named
// the live server that initialises in its place. The checker itself is tried on hand-made plans.
import { describe, expect, it } from 'vitest'
import type { Plan } from '@p2p-bootstrap/core'
import { checkJoinGraph } from '../src/checkers.js'
import { formatFailure, runMany, seedRange } from '../src/index.js'
import type { SimulationResult } from '../src/index.js'
import { SUITE_TIMEOUT_MS } from './seeded.js'

const SEEDS = 20
const NODES = 5

const secrets = { serverTokenHash: 'a'.repeat(64), agentTokenHash: 'b'.repeat(64), serverTokenSealed: {}, agentTokenSealed: new Uint8Array() }
const formed: Plan = { clusterId: 'c', epoch: 1, init: 'n1', controlPlanes: ['n1', 'n2', 'n3'], workers: ['n4'], decidedUnder: { expect: 4, controlPlanes: 3 }, secrets, notes: [] }

describe('J1: the join graph of a plan', () => {
  it('a bootstrap plan: the init node is the root, each server joins through it or one before it', () => {
    expect(checkJoinGraph(formed)).toEqual([])
  })

  it('finding 5: the init node replaced with nobody to initialise: the servers would wait for each other', () => {
    const stuck: Plan = { ...formed, epoch: 2, controlPlanes: ['n2', 'n3', 'n4'], workers: [], replaced: ['n1'] }
    const problems = checkJoinGraph(stuck)
    expect(problems.join('\n')).toMatch(/nobody runs cluster-init/)
    expect(problems.join('\n')).toMatch(/server n2 has nobody to join through/)
  })

  it('the same epoch naming who initialises in place of the init node leads to a cluster', () => {
    expect(checkJoinGraph({ ...formed, epoch: 2, controlPlanes: ['n2', 'n3', 'n4'], workers: [], replaced: ['n1'], reinit: 'n2' })).toEqual([])
  })

  it('the init node handed its role over: it runs until its successors are Ready, and they join through it', () => {
    expect(checkJoinGraph({ ...formed, epoch: 2, controlPlanes: ['n2', 'n3', 'n4'], workers: [], retired: ['n1'] })).toEqual([])
  })

  it('a node named to initialise while the init node still is a control plane: two initialisers', () => {
    expect(checkJoinGraph({ ...formed, reinit: 'n2' }).join('\n')).toMatch(/two initialisers/)
  })
})

describe('init-dies in the simulator', () => {
  it(`${SEEDS} seeds of ${NODES} nodes: the replacement epoch names a live initialiser, and J1 holds at every step`, () => {
    const results = runWithoutViolations('init-dies')
    for (const result of results) {
      const plan = result.latestPlan
      const dead = result.nodeIds[0]
      expect(plan?.init).toBe(dead)
      expect(plan?.replaced).toEqual([dead])
      expect(plan?.reinit).toBeDefined()
      expect(plan?.controlPlanes).toContain(plan?.reinit)
      expect(plan?.reinit).not.toBe(dead)
    }
  }, SUITE_TIMEOUT_MS)
})

// The init node reported its k3s server Ready alone, then died before any other server was Ready:
// the cluster lived only in its single etcd member, so no control plane left can be joined, and the
// replacing epoch must name who initialises anew (before the planner counted the init node's own
// Ready as "formed", named nobody, and J1 saw the servers waiting for each other for ever).
describe('init-ready-dies in the simulator', () => {
  it(`${SEEDS} seeds of ${NODES} nodes: the init node was Ready alone and died; a live server is named to initialise, J1 holds at every step`, () => {
    const results = runWithoutViolations('init-ready-dies')
    for (const result of results) {
      const plan = result.latestPlan
      const dead = result.nodeIds[0]
      expect(plan?.replaced).toEqual([dead])
      expect(plan?.controlPlanes).toContain(plan?.reinit)
      expect(plan?.reinit).not.toBe(dead)
    }
  }, SUITE_TIMEOUT_MS)
})

/** Every seed of `scenario` without a violation (else the first failure, replayable); the runs. */
function runWithoutViolations (scenario: string): SimulationResult[] {
  const results: SimulationResult[] = []
  const summary = runMany({
    scenarios: [scenario],
    seeds: seedRange(1, SEEDS),
    nodes: NODES,
    onRun: (result) => { results.push({ ...result, trace: [], traffic: [] }) }
  })
  const first = summary.failures[0]
  if (first !== undefined) throw new Error(formatFailure(first))
  expect(summary.failed).toBe(0)
  expect(results).toHaveLength(SEEDS)
  return results
}
