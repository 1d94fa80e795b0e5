// Goal: fleets of real bootstrappers (libp2p on loopback, state dirs on disk) form one cluster:
// every node commits the same plan, exactly one node initialises, the control-plane count is the
// token's. Node 0 is every other node's only static peer, so reaching the rest relies on the
// addresses published in the ledger. Sizes 3, 10 and 25 (the last in one process: a measured
// stress on the event loop; see LIBP2P-NOTES).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { PLAN_OUTPUT_PATH, planView } from '../src/index.js'
import type { Plan } from '@p2p-bootstrap/core'
import { waitFor } from '../../../test/helpers/wait.js'
import { makeFleet, rootOf } from './fleet.js'
import type { Fleet } from './fleet.js'

let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
})

async function formFleet (size: number, controlPlanes: number, timeoutMs: number): Promise<Plan[]> {
  fleet = await makeFleet({ expect: size, controlPlanes })
  for (let index = 0; index < size; index++) await fleet.start(index)
  const signal = AbortSignal.timeout(timeoutMs)
  return await Promise.all(fleet.nodes.map(async node => await node.waitForPlan({ signal })))
}

describe('formation on loopback', () => {
  it.each([
    [3, 1, 30_000],
    [10, 3, 60_000],
    [25, 5, 120_000]
  ])('%i nodes commit one plan with %i control plane(s)', async (size, controlPlanes, timeoutMs) => {
    const plans = await formFleet(size, controlPlanes, timeoutMs)
    const nodes = fleet?.nodes ?? []
    // What this test is about: epoch 1 was committed, the same everywhere, with the control
    // planes asked for. (A later epoch may follow on a loaded machine; it is not this test's.)
    const firstRecords = nodes.map(node => node.status().history?.find(record => record.epoch === 1))
    const first = firstRecords[0]
    if (first === undefined) throw new Error('node 0 holds no record of epoch 1')
    // Certificates may differ (the proposer's and an acceptor's, other voters); the plan may not.
    for (const record of firstRecords) expect(record?.controlPlanes).toEqual(first.controlPlanes)
    expect(first.controlPlanes).toHaveLength(controlPlanes)
    const firstPlans = plans.filter(plan => plan.epoch === 1)
    expect(new Set(firstPlans.map(plan => JSON.stringify(planView(plan)))).size).toBe(1)
    const plan = firstPlans[0]
    if (plan === undefined) throw new Error('no node saw epoch 1 as its first plan')
    expect(plan.controlPlanes).toEqual(first.controlPlanes)
    expect(plan.controlPlanes[0]).toBe(plan.init)
    // A node that came after the gather window is not listed; it is a worker all the same (L2).
    const ids = nodes.map(node => node.nodeId)
    const listed = [...plan.controlPlanes, ...plan.workers]
    expect(listed.every(id => ids.includes(id))).toBe(true)
    expect(listed.length).toBeGreaterThanOrEqual(Math.floor(size / 2) + 1)
    // Every node ends up acting on the same latest plan, with the role it gives, and exactly one
    // is told to initialise.
    await waitFor(() => new Set(nodes.map(node => node.status().epoch)).size === 1, { timeoutMs: 15_000, what: 'every node on the same epoch' })
    const latest = nodes[0]?.status().plan
    for (const node of nodes) {
      const status = node.status()
      expect(status.plan).toEqual(latest)
      expect(status.role).toBe(latest?.controlPlanes.includes(node.nodeId) === true ? 'control-plane' : 'worker')
    }
    expect(nodes.map(node => node.status().part).filter(part => part?.init === true)).toHaveLength(1)
  }, 180_000)

  it('writes each node\'s output under its root, naming its own part', async () => {
    await formFleet(3, 1, 30_000)
    const nodes = fleet?.nodes ?? []
    await Promise.all(nodes.map(async node => { await node.waitForApplied({ signal: AbortSignal.timeout(10_000) }) }))
    for (const [index, node] of nodes.entries()) {
      const path = join(rootOf(fleet?.dir ?? '', index), PLAN_OUTPUT_PATH)
      const written = JSON.parse(await readFile(path, 'utf8')) as { thisNode: { nodeId: string }, epoch: number }
      expect(written.thisNode.nodeId).toBe(node.nodeId)
      expect(written.epoch).toBe(1)
      // The plan view, then k3s' config (a dry run: rendered, nothing started).
      expect(node.status().files).toEqual([path, join(rootOf(fleet?.dir ?? '', index), 'etc/rancher/k3s/config.yaml')])
      expect(node.status().phase).toBe('applied')
    }
    // Every node waits for the others' published phases: all of them applied.
    await Promise.all(nodes.map(async node => { await node.waitForFleet('applied', { signal: AbortSignal.timeout(15_000) }) }))
  }, 60_000)
})
