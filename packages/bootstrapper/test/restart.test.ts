// Goal: state survives restarts (S4, S6). A node stopped after the commit and started with the same
// state dir keeps its identity and role and takes part in no new bootstrap; a whole fleet stopped
// and started again keeps its plan. Method: real bootstrappers on loopback; the plan and the node
// id are compared across runs, and the restarted node must report the plan before any peer could
// have told it (it is read from disk at start).
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { makeFleet } from './fleet.js'
import type { Fleet } from './fleet.js'

let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
})

async function formed (size: number): Promise<Fleet> {
  const made = await makeFleet({ expect: size, controlPlanes: 1 })
  fleet = made
  for (let index = 0; index < size; index++) await made.start(index)
  const signal = AbortSignal.timeout(30_000)
  await Promise.all(made.nodes.map(async node => { await node.waitForApplied({ signal }) }))
  return made
}

/** The round of a ballot shown as "round.proposer". */
function roundOf (ballot: string | null): number {
  const round = Number.parseInt(ballot ?? '', 10)
  if (!Number.isSafeInteger(round)) throw new Error(`not a ballot: ${String(ballot)}`)
  return round
}

describe('restarts', () => {
  it('a node restarted with its state dir keeps identity, role and plan, with no new bootstrap', async () => {
    const made = await formed(3)
    const before = made.nodes[1]
    if (before === undefined) throw new Error('no node 1')
    await before.stop()
    // Read after stop: until then a late promise or vote may still move the ballot.
    const id = before.nodeId
    const role = before.status().role
    const plan = before.status().plan
    const ballot = before.status().ballot

    // Alone: no peer can tell it anything, so what it knows comes from disk.
    const after = await made.start(1, { peers: [] })
    expect(after.nodeId).toBe(id)
    const status = after.status()
    expect(status.plan).toEqual(plan)
    expect(status.role).toBe(role)
    expect(status.epoch).toBe(1)
    // Restored, not a new one: it takes part in no new vote. Two proposers may have duelled in
    // round 1 (a loaded machine); the node then restores the ballot of the decision it holds,
    // which may be the other round-1 ballot, but never a higher round of its own.
    // A restored node that has not yet looked at epoch 1's instance shows no ballot at all: no new vote either.
    if (status.ballot !== null) {
      expect(roundOf(status.ballot)).toBeLessThanOrEqual(roundOf(ballot))
      if (status.ballot !== ballot) expect(roundOf(status.ballot)).toBe(1)
    }
    expect(['committed', 'applied']).toContain(status.phase)
    await after.waitForApplied({ signal: AbortSignal.timeout(10_000) })
  }, 60_000)

  it('a whole fleet stopped and started again keeps its plan', async () => {
    const made = await formed(3)
    const plan = made.nodes[0]?.status().plan
    const ids = made.nodes.map(node => node.nodeId)
    await made.stopAll()
    for (let index = 0; index < 3; index++) await made.start(index)
    for (const [index, node] of made.nodes.entries()) {
      expect(node.nodeId).toBe(ids[index])
      expect(node.status().plan).toEqual(plan)
    }
    expect(plan).not.toBeNull()
    // And they still talk: node 0 listens on a new port, yet everyone finds everyone again.
    await waitFor(() => made.nodes.every(node => node.status().members.filter(member => member.state === 'alive').length === 2),
      { timeoutMs: 20_000, what: 'every restarted node to see the other two alive' })
  }, 90_000)
})
