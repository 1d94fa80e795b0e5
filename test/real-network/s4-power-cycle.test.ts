// Goal: a power cycle changes nothing: after every host loses power at once, once committed and
// written, and boots again on its state dir, the fleet holds the same plan, every host the same
// role and byte-identical output, and no new vote is held (S2, S3, S4, S6). Method: five hosts
// form; every agent is SIGKILLed at once (no clean shutdown, as on a power loss); all are started
// again; the files before and after, each run's events and `status --json` are compared.
import { describe, expect, it } from 'vitest'
import { assertConsistentFleet, readFleetFiles } from './fleet-files.js'
import {
  DRY_RUN, SCENARIO_TIMEOUT_MS, TEST_PROFILE, labSkipReason, newToken, printed, rootsOf, startAll, statusOf, titled,
  useLab, waitForOutput
} from './scenario-kit.js'

const { lab: newLab } = useLab()

describe.skipIf(labSkipReason !== undefined)(titled('real network: whole-fleet power cycle'), () => {
  it('every host killed at once and restarted: same plan, same roles, no new bootstrap', async () => {
    const lab = await newLab()
    const hosts = await lab.addHosts(5)
    const vip = lab.vip()
    const expected = { controlPlanes: 3, workers: 2, vip, nodeIps: hosts.map(host => host.ip) }
    startAll(hosts, newToken({ expect: 5, controlPlanes: 3, vip }), [...DRY_RUN, ...TEST_PROFILE, '--no-dht'])
    await waitForOutput(hosts)
    const before = await readFleetFiles(rootsOf(hosts))
    const summary = assertConsistentFleet(before, expected)
    const rolesBefore = (await statusOf(hosts)).map(status => status.role)

    await Promise.all(hosts.map(async host => await host.kill('SIGKILL')))
    for (const host of hosts) host.restart()
    await waitForOutput(hosts)

    const after = await readFleetFiles(rootsOf(hosts))
    expect(assertConsistentFleet(after, expected)).toEqual(summary)
    for (const [index, file] of after.entries()) {
      const earlier = before[index]
      expect(file.planText).toBe(earlier?.planText)
      expect(file.k3sConfig?.text).toBe(earlier?.k3sConfig?.text)
      expect(file.kubeVip?.text).toBe(earlier?.kubeVip?.text)
    }
    const statuses = await statusOf(hosts)
    expect(statuses.map(status => status.role)).toEqual(rolesBefore)
    for (const status of statuses) {
      expect(status.epoch).toBe(1)
      expect(status.plan?.init).toBe(summary.init)
    }
    // The restarted agents restored the plan from disk: none of them voted again.
    for (const host of hosts) {
      expect(host.incarnations).toHaveLength(2)
      expect(await printed(host, event => event.event === 'phase' && event.phase === 'voting'), `${host.name} voted after the power cycle`).toBe(false)
    }
  }, SCENARIO_TIMEOUT_MS)
})
