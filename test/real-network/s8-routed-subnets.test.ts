// Goal: hosts on two subnets joined by a router (no multicast crosses it) still form one cluster,
// given a single static peer: members learn each other's addresses from the ledger and the private
// DHT, not from mDNS (design §6). Method: two subnets of two hosts each behind a router namespace;
// expect 4, so neither subnet alone holds a quorum (3); only b1 is told one address (a1's); every
// host runs with the default discovery (mDNS and DHT on). Checked: one plan everywhere, and a2
// sees b2 alive although neither multicast nor configuration ever told either about the other.
import { describe, expect, it } from 'vitest'
import { multicastReaches, tcpReachable } from '../netns-harness/index.js'
import { assertConsistentFleet, readFleetFiles } from './fleet-files.js'
import {
  DRY_RUN, FORMATION_TIMEOUT_MS, SCENARIO_TIMEOUT_MS, TEST_PROFILE, labSkipReason, newToken, rootsOf, statusOf, titled,
  useLab, waitForOutput
} from './scenario-kit.js'
import { waitFor } from '../helpers/wait.js'

const { lab: newLab } = useLab()

describe.skipIf(labSkipReason !== undefined)(titled('real network: two subnets behind a router'), () => {
  it('form one cluster from one static peer', async () => {
    const lab = await newLab({ subnets: 2 })
    await lab.addRouter()
    const [a1, a2] = await lab.addHosts(2, { prefix: 'a', subnet: 0 })
    const [b1, b2] = await lab.addHosts(2, { prefix: 'b', subnet: 1 })
    if (a1 === undefined || a2 === undefined || b1 === undefined || b2 === undefined) throw new Error('four hosts')
    const hosts = [a1, a2, b1, b2]
    expect(await tcpReachable(b2, a2)).toBe(true) // unicast is routed
    expect(await multicastReaches(a1, b1, { timeoutMs: 500 })).toBe(false) // mDNS is not

    const token = newToken({ expect: 4, controlPlanes: 3 })
    const flags = [...DRY_RUN, ...TEST_PROFILE]
    for (const host of [a1, a2, b2]) host.start({ token, flags })
    b1.start({ token, flags: [...flags, '--peer', a1.peerAddress] })
    await waitForOutput(hosts)

    assertConsistentFleet(await readFleetFiles(rootsOf(hosts)), { controlPlanes: 3, workers: 1, nodeIps: hosts.map(host => host.ip) })
    for (const status of await statusOf(hosts)) expect(status.epoch).toBe(1)
    await waitFor(async () => {
      const seen = await a2.status()
      return seen.members.some(member => member.nodeId === b2.nodeId && member.state === 'alive')
    }, { timeoutMs: FORMATION_TIMEOUT_MS, intervalMs: 500, what: 'a2 to see b2 alive across the router' })
  }, SCENARIO_TIMEOUT_MS)
})
