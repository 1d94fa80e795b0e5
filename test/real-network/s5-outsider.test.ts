// Goal: outsiders never get in (design §3, S5): a machine on the same switch with another token,
// which even knows every member's address and is dialled by one of them, never becomes a member
// and never sees ledger content. Method: an outsider host starts first with the fleet's addresses
// as static peers; then three fleet hosts form by mDNS, one of them with the outsider as a static
// peer. Checked: the fleet's plan and members, the outsider's status (alone, no plan, no
// connection), its output (none), and both sides' state dirs (neither holds the other's node id,
// while fleet members hold each other's).
import { describe, expect, it } from 'vitest'
import { PLAN_PATH, assertConsistentFleet, readFleetFiles } from './fleet-files.js'
import {
  DRY_RUN, SCENARIO_TIMEOUT_MS, TEST_PROFILE, labSkipReason, newToken, rootsOf, stateHolds, statusOf, titled, useLab,
  waitForOutput
} from './scenario-kit.js'

const { lab: newLab } = useLab()

describe.skipIf(labSkipReason !== undefined)(titled('real network: a host with another token'), () => {
  it('is never a member and never sees ledger content', async () => {
    const lab = await newLab()
    const fleet = await lab.addHosts(3)
    const outsider = await lab.addHost('x1')
    const [h1, h2] = fleet
    if (h1 === undefined || h2 === undefined) throw new Error('three hosts')
    const vip = lab.vip()
    const flags = [...DRY_RUN, ...TEST_PROFILE, '--no-dht']
    // Same shape, other secret: only the token tells them apart.
    outsider.start({ token: newToken({ expect: 3, controlPlanes: 1, vip }), flags: [...flags, ...fleet.flatMap(host => ['--peer', host.peerAddress])] })
    await outsider.waitForEvent('start', { timeoutMs: 30_000 })
    const token = newToken({ expect: 3, controlPlanes: 1, vip })
    h1.start({ token, flags: [...flags, '--peer', outsider.peerAddress] })
    for (const host of fleet.slice(1)) host.start({ token, flags })
    await waitForOutput(fleet)

    assertConsistentFleet(await readFleetFiles(rootsOf(fleet)), { controlPlanes: 1, workers: 2, vip })
    for (const status of await statusOf(fleet)) {
      expect(status.members.map(member => member.nodeId).sort()).toEqual(fleet.map(host => host.nodeId).sort())
    }
    // The outsider dialled and was dialled all along, and is still alone.
    const seen = await outsider.status()
    expect(seen.members.map(member => member.nodeId)).toEqual([outsider.nodeId])
    expect(seen.connections).toBe(0)
    expect(seen.plan).toBeNull()
    expect(await outsider.readOutput(PLAN_PATH)).toBeNull()
    // Ledger content: keys name their writer, so a merged entry would leave the writer's id on disk.
    expect(await stateHolds(h1, h2.nodeId)).toBe(true)
    for (const host of fleet) {
      expect(await stateHolds(outsider, host.nodeId), `the outsider's state holds ${host.name}'s id`).toBe(false)
      expect(await stateHolds(host, outsider.nodeId), `${host.name}'s state holds the outsider's id`).toBe(false)
    }
  }, SCENARIO_TIMEOUT_MS)
})
