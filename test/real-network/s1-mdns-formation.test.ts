// Goal: on one LAN, with nothing but the token, five machines form one cluster by mDNS alone:
// exactly one cluster-init, three servers and two workers, identical critical k3s keys and
// kube-vip manifest on the servers, the agent token only on workers (S1, S2, design §6-7).
// Method: five test hosts on one bridge, each running the real binary with the default (lan)
// timing profile, no static peer and no DHT; then every host's files and `status --json`.
import { describe, expect, it } from 'vitest'
import { assertConsistentFleet, readFleetFiles } from './fleet-files.js'
import { DRY_RUN, SCENARIO_TIMEOUT_MS, labSkipReason, newToken, rootsOf, startAll, statusOf, titled, useLab, waitForOutput } from './scenario-kit.js'

const { lab: newLab } = useLab()

describe.skipIf(labSkipReason !== undefined)(titled('real network: formation by mDNS only'), () => {
  it('5 hosts, expect 5, 3 control planes: one init, 3 servers, 2 workers, one plan', async () => {
    const lab = await newLab()
    const hosts = await lab.addHosts(5)
    const vip = lab.vip()
    startAll(hosts, newToken({ expect: 5, controlPlanes: 3, vip }), [...DRY_RUN, '--no-dht'])
    await waitForOutput(hosts)

    const summary = assertConsistentFleet(await readFleetFiles(rootsOf(hosts)), {
      controlPlanes: 3, workers: 2, vip, nodeIps: hosts.map(host => host.ip)
    })
    const statuses = await statusOf(hosts)
    for (const [index, status] of statuses.entries()) {
      const host = hosts[index]
      expect(status.nodeId).toBe(host?.nodeId)
      expect(status.phase).toBe('applied')
      expect(status.epoch).toBe(1)
      expect(status.plan?.init).toBe(summary.init)
      expect(status.plan?.clusterId).toBe(summary.clusterId)
      expect(status.role).toBe(summary.controlPlanes.includes(status.nodeId) ? 'control-plane' : 'worker')
    }
    // Found by multicast: every host knows every other, and no one had a static peer or the DHT.
    for (const status of statuses) {
      expect(status.members.map(member => member.nodeId).sort()).toEqual(hosts.map(host => host.nodeId).sort())
    }
    for (const host of hosts) {
      expect((await host.events()).filter(event => event.event === 'error'), `errors printed by ${host.name}`).toEqual([])
    }
  }, SCENARIO_TIMEOUT_MS)
})
