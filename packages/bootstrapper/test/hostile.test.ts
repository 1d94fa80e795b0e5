// Goal: what a hostile or broken peer sends cannot hurt a fleet. An outsider with another token is
// never a member; a token holder that writes garbage, truncated or oversized frames to the sync
// protocol crashes nobody and changes no ledger, and the fleet keeps serving (a late joiner still
// learns the plan). Method: a formed 3-node fleet of real bootstrappers; a raw libp2p node with
// the same token opens sync streams by hand and writes bytes no encoder would.
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterEach, describe, expect, it } from 'vitest'
import { concat, sendFrames, startAttacker, varint } from '../../../test/helpers/attacker.js'
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
  await Promise.all(made.nodes.map(async node => { await node.waitForFleet('applied', { signal }) }))
  return made
}

describe('hostile peers', () => {
  it('an outsider with another token is never a member', async () => {
    const made = await formed(3)
    const target = made.nodes[0]?.addresses()[0] ?? ''
    const outsider = await made.start(3, { token: formatToken(generateToken({ expect: 3 })), peers: [target] })
    // It keeps re-dialling its static peer; in the test profile that is a dozen attempts, all refused.
    await expect(outsider.waitForPlan({ signal: AbortSignal.timeout(3_000) })).rejects.toThrow()
    for (const node of made.nodes.slice(0, 3)) {
      expect(node.status().members.map(member => member.nodeId)).not.toContain(outsider.nodeId)
    }
    expect(outsider.status().plan).toBeNull()
    expect(outsider.status().members.filter(member => member.state !== 'self')).toEqual([])
  }, 60_000)

  it('garbage, truncated and oversized frames crash nobody and change no ledger', async () => {
    const made = await formed(3)
    const victim = made.nodes[0]
    if (victim === undefined) throw new Error('no node 0')
    // Votes spread by anti-entropy after the plan: wait until every ledger holds the same count.
    const counts = (): number[] => made.nodes.map(node => node.status().ledgerEntries)
    // Converged: equal counts, and every node holds every member's facts (its address is known from them).
    const everyFactKnown = (): boolean => made.nodes.every(node => node.status().members.every(member => member.address !== null))
    await waitFor(() => everyFactKnown() && new Set(counts()).size === 1, { timeoutMs: 15_000, what: 'the three ledgers to converge' })
    const entriesBefore = counts()
    const planBefore = victim.status().plan

    const attacker = await startAttacker(made.token, 'test')
    try {
      const frames = [
        concat(varint(6), Uint8Array.from([0xff, 0x00, 0x13, 0x37, 0xde, 0xad])), // not CBOR
        concat(varint(4), Uint8Array.from([0xa1, 0x61, 0x6b, 0x01])), // CBOR, but no message
        concat(varint(500), new Uint8Array(20)), // truncated: the stream ends mid-frame
        concat(varint(64 * 1024 * 1024), new Uint8Array(16)) // oversized length prefix
      ]
      await sendFrames(attacker, victim.addresses()[0] ?? '', frames)
      await waitFor(() => (victim.stats()?.framesRejected ?? 0) >= frames.length,
        { timeoutMs: 10_000, what: `node 0 to reject ${frames.length} bad frames` })
    } finally {
      await attacker.overlay.stop()
    }

    // Nobody crashed or changed: same plan, no new ledger entries from the attack.
    expect(victim.status().plan).toEqual(planBefore)
    expect(made.nodes.map(node => node.status().ledgerEntries)).toEqual(entriesBefore)
    // And the fleet still serves: a late joiner that knows only node 0 learns the plan.
    const late = await made.start(3)
    const plan = await late.waitForPlan({ signal: AbortSignal.timeout(20_000) })
    expect(plan.init).toBe(planBefore?.init)
  }, 60_000)
})
