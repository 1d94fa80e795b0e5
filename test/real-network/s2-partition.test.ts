// Goal: a fleet split 2|3 before anything is committed never gets two clusters: only the side
// with a quorum (3 of expect 5) commits; once the network heals, the other two join that same
// cluster (same cluster id, same secrets, same initialiser), and still exactly one host is told to
// run cluster-init (S1, S2, L2). Method: five hosts whose switch is split before the agents
// start (the groups sit on separate bridges; links stay up), the real binary on each; after the
// majority has written its output, the minority's files and status are checked, the switch is
// joined again, and every host's files and status are compared.
import { describe, expect, it } from 'vitest'
import { tcpReachable } from '../netns-harness/index.js'
import { PLAN_PATH, assertConsistentFleet, readFleetFiles } from './fleet-files.js'
import {
  DRY_RUN, FORMATION_TIMEOUT_MS, SCENARIO_TIMEOUT_MS, TEST_PROFILE, OUTPUT_WRITTEN, labSkipReason, newToken, printed,
  rootsOf, startAll, statusOf, titled, useLab, waitForOutput
} from './scenario-kit.js'

const { lab: newLab } = useLab()

describe.skipIf(labSkipReason !== undefined)(titled('real network: partition before the first commit'), () => {
  it('2|3: only the 3 commit; after healing the 2 join the same cluster', async () => {
    const lab = await newLab()
    const hosts = await lab.addHosts(5)
    const [h1, h2, h3, h4, h5] = hosts
    if (h1 === undefined || h2 === undefined || h3 === undefined || h4 === undefined || h5 === undefined) throw new Error('five hosts')
    const minority = [h1, h2]
    const majority = [h3, h4, h5]
    await lab.partition([minority, majority])
    // The split is real before any agent runs: no packet crosses it.
    expect(await tcpReachable(h1, h3, { timeoutMs: 500 })).toBe(false)

    const vip = lab.vip()
    startAll(hosts, newToken({ expect: 5, controlPlanes: 3, vip }), [...DRY_RUN, ...TEST_PROFILE, '--no-dht'])
    await waitForOutput(majority)
    const majorityPlan = assertConsistentFleet(await readFleetFiles(rootsOf(majority)), { controlPlanes: 3, workers: 0, vip })

    // The minority ran as long as the majority did, saw only each other, and committed nothing.
    for (const [index, status] of (await statusOf(minority)).entries()) {
      const host = minority[index]
      if (host === undefined) continue
      expect(status.plan, `${host.name} holds a plan without a quorum`).toBeNull()
      expect(status.epoch).toBe(0)
      expect(['discovering', 'voting']).toContain(status.phase)
      expect(status.members.map(member => member.nodeId).sort()).toEqual(minority.map(other => other.nodeId).sort())
      expect(await host.readOutput(PLAN_PATH)).toBeNull()
      expect(await printed(host, event => event.event === 'plan')).toBe(false)
    }

    await lab.heal()
    await Promise.all(minority.map(async host => await host.waitForEvent(OUTPUT_WRITTEN, { timeoutMs: FORMATION_TIMEOUT_MS, what: 'its output after the heal' })))
    const fleet = assertConsistentFleet(await readFleetFiles(rootsOf(hosts)), {
      controlPlanes: 3, workers: 2, vip, nodeIps: hosts.map(host => host.ip)
    })
    // The very plan the majority committed: same cluster, secrets, initialiser and servers.
    expect(fleet).toEqual(majorityPlan)
    for (const status of await statusOf(hosts)) {
      expect(status.epoch).toBe(1)
      expect(status.plan?.init).toBe(majorityPlan.init)
    }
  }, SCENARIO_TIMEOUT_MS)
})
