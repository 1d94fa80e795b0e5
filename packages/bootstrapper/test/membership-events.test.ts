// Goal: membership news an operator can trust (issue 16): a node that stops cleanly is reported
// by its peers as having left, not as dead, and when it starts again its peers say it is back.
// Method: three real bootstrappers on loopback; node 2 stops and starts again on its state dir.
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { makeFleet } from './fleet.js'
import type { Fleet } from './fleet.js'

let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
})

describe('membership events', () => {
  it('a node that stops is reported as left by its peers, and as back when it returns', async () => {
    fleet = await makeFleet({ expect: 3, controlPlanes: 1 })
    for (let index = 0; index < 3; index++) await fleet.start(index)
    const [first, second, third] = fleet.nodes
    if (first === undefined || second === undefined || third === undefined) throw new Error('three nodes')
    await Promise.all(fleet.nodes.map(async node => await node.waitForPlan({ signal: AbortSignal.timeout(30_000) })))
    const thirdId = third.nodeId
    const news: string[] = []
    for (const node of [first, second]) {
      node.addEventListener('peer:leave', (event) => { if (event.detail.nodeId === thirdId) news.push(`${event.detail.reason}`) })
      node.addEventListener('peer:back', (event) => { if (event.detail.nodeId === thirdId) news.push('back') })
    }
    await third.stop()
    const stateOfThird = (): Array<string | undefined> => [first, second].map(node => node.status().members.find(member => member.nodeId === thirdId)?.state)
    await waitFor(() => stateOfThird().every(state => state === 'left'), { timeoutMs: 10_000, what: 'both peers to show node 2 as left' })
    expect(news).toEqual(['left', 'left'])
    await fleet.start(2)
    await waitFor(() => stateOfThird().every(state => state === 'alive'), { timeoutMs: 15_000, what: 'both peers to show node 2 alive again' })
    expect(news).toEqual(['left', 'left', 'back', 'back'])
  }, 60_000)

  it('peers hold the plan once each published it, and a peer that left is not waited for', async () => {
    fleet = await makeFleet({ expect: 3, controlPlanes: 1 })
    for (let index = 0; index < 3; index++) await fleet.start(index)
    const [first, second, third] = fleet.nodes
    if (first === undefined || second === undefined || third === undefined) throw new Error('three nodes')
    await first.waitForPeersHoldPlan({ signal: AbortSignal.timeout(30_000) })
    const plan = await first.waitForPlan()
    const peers = first.status().members.filter(member => member.nodeId !== first.nodeId)
    expect(peers.map(member => member.phase === 'committed' || member.phase === 'applied' || member.phase === 'ready')).toEqual([true, true])
    expect(plan.epoch).toBe(1)
    await second.stop()
    await third.stop()
    // Gone, and said so: nothing left to wait for.
    await first.waitForPeersHoldPlan({ signal: AbortSignal.timeout(5_000) })
  }, 60_000)
})
