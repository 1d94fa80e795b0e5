// Goal: a control plane that dies and stays dead is replaced by a committed epoch after the
// fail-over delay (L3): exactly one worker's output becomes a joining server's, once, the other
// worker keeps its worker output, and every survivor holds the same new epoch, which names the
// dead server as replaced (S2, S4: roles change only by a committed epoch). Method: five hosts,
// expect 5 and three control planes, `--failover-delay 3` (the test profile's, written out); once
// every host holds one plan with three servers, a server that is not the initialiser is
// SIGKILLed and never started again; then the survivors' files are polled until a worker renders
// a server's config, each survivor's `epoch` events and `status --json` are read, and every file
// is checked as in the other scenarios.
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait.js'
import type { Host } from '../netns-harness/index.js'
import { assertConsistentFleet, readFleetFiles } from './fleet-files.js'
import type { HostFiles } from './fleet-files.js'
import {
  FAILOVER_DELAY_SECONDS, FORMATION_TIMEOUT_MS, REPLACEMENT_TIMEOUT_MS, SCENARIO_TIMEOUT_MS, labSkipReason, rootsOf,
  startFailoverFleet, statusOf, titled, useLab
} from './scenario-kit.js'

const { lab: newLab } = useLab()

/** A server's config names an agent token for its agents; a worker's never does (design §7). */
function rendersServer (file: HostFiles): boolean {
  const values = file.k3sConfig?.values
  return values !== undefined && values['agent-token'] !== undefined && file.plan?.thisNode.role === 'control-plane'
}

/** A joining server's config: a server to join through, no cluster-init. */
function rendersJoiningServer (file: HostFiles): boolean {
  const values = file.k3sConfig?.values
  return rendersServer(file) && values?.server !== undefined && values['cluster-init'] === undefined
}

/**
 * Waits until every host's files are for one epoch whose plan has `controlPlanes` servers, k3s
 * config included (a bootstrap decided before all expected nodes were seen grows in a later
 * epoch). Files, not `status`: each status is a process of its own, and polling five is slow.
 */
async function filesAtOneEpoch (hosts: readonly Host[], controlPlanes: number, what: string): Promise<number> {
  let epoch = 0
  await waitFor(async () => {
    const files = await readFleetFiles(rootsOf(hosts))
    const epochs = new Set(files.map(file => file.plan?.epoch))
    epoch = files[0]?.plan?.epoch ?? 0
    return epochs.size === 1 && files.every(file => file.plan?.controlPlanes.length === controlPlanes && file.k3sConfig !== null)
  }, { timeoutMs: FORMATION_TIMEOUT_MS, intervalMs: 200, what })
  return epoch
}

async function epochEvents (host: Host): Promise<number[]> {
  return (await host.events()).filter(event => event.event === 'epoch').map(event => Number(event.epoch))
}

describe.skipIf(labSkipReason !== undefined)(titled('real network: a dead control plane is replaced'), () => {
  it('kill -9 of a server that stays down: after the fail-over delay one worker becomes a joining server, once', async () => {
    const { hosts, vip } = await startFailoverFleet(await newLab())
    const formed = await filesAtOneEpoch(hosts, 3, 'every host to write its output for one plan with 3 control planes')
    const before = await readFleetFiles(rootsOf(hosts))
    const summary = assertConsistentFleet(before, { controlPlanes: 3, workers: 2, vip, epoch: formed, nodeIps: hosts.map(host => host.ip) })

    const victim = hosts.find(host => summary.controlPlanes.includes(host.nodeId) && host.nodeId !== summary.init)
    if (victim === undefined) throw new Error('no server besides the initialiser')
    const survivors = hosts.filter(host => host !== victim)
    const workers = survivors.filter(host => !summary.controlPlanes.includes(host.nodeId))
    expect(workers).toHaveLength(2)
    await victim.kill('SIGKILL')

    // The replacement: one worker's files turn into a joining server's.
    await waitFor(async () => (await readFleetFiles(rootsOf(workers))).some(rendersJoiningServer), {
      timeoutMs: REPLACEMENT_TIMEOUT_MS, intervalMs: 200, what: 'a worker to render a joining server\'s config'
    })
    const next = formed + 1
    await Promise.all(survivors.map(async host => await host.waitForEvent(event => event.event === 'epoch' && event.epoch === next, {
      timeoutMs: REPLACEMENT_TIMEOUT_MS, what: `epoch ${next}`
    })))
    expect(await filesAtOneEpoch(survivors, 3, `every survivor to write its output for epoch ${next}`)).toBe(next)

    const statuses = await statusOf(survivors)
    const plans = new Set(statuses.map(report => JSON.stringify(report.plan)))
    expect(plans.size, [...plans].join('\n')).toBe(1)
    const plan = statuses[0]?.plan
    if (plan === null || plan === undefined) throw new Error('no plan')
    expect(plan.epoch).toBe(next)
    expect(plan.replaced).toEqual([victim.nodeId])
    expect(plan.controlPlanes).toHaveLength(3)
    expect(plan.controlPlanes).not.toContain(victim.nodeId)
    expect(plan.init).toBe(summary.init)
    for (const report of statuses) expect(report.failoverDelayMs).toBe(FAILOVER_DELAY_SECONDS * 1000)
    const promoted = workers.filter(host => plan.controlPlanes.includes(host.nodeId))
    expect(promoted).toHaveLength(1)
    const record = statuses[0]?.history?.find(entry => entry.epoch === next)
    expect(record?.replaced).toEqual([victim.nodeId])
    expect(record?.notes.join(' ')).toMatch(new RegExp(`dead for \\d+ s \\(fail-over delay ${FAILOVER_DELAY_SECONDS} s\\); …\\S+ replaces it`))
    // The previous epoch's live control planes voted it; the dead one could not.
    expect(record?.voters).not.toContain(victim.nodeId)

    const after = await readFleetFiles(rootsOf(survivors))
    assertConsistentFleet(after, { controlPlanes: 3, workers: 1, vip, epoch: next, nodeIps: survivors.map(host => host.ip) })
    const workerFiles = after.filter((file, index) => workers.includes(survivors[index] ?? victim))
    expect(workerFiles.filter(rendersJoiningServer)).toHaveLength(1)
    expect(workerFiles.filter(file => !rendersServer(file))).toHaveLength(1)
    // The worker that stayed a worker kept its bytes.
    const stayed = workers.find(host => !plan.controlPlanes.includes(host.nodeId))
    const stayedBefore = before[hosts.indexOf(stayed ?? victim)]
    const stayedAfter = after[survivors.indexOf(stayed ?? victim)]
    expect(stayedAfter?.k3sConfig?.text).toBe(stayedBefore?.k3sConfig?.text)

    // Once: one epoch after the bootstrap's, on every survivor, and one server start on the promoted worker.
    for (const host of survivors) {
      const epochs = await epochEvents(host)
      expect(epochs.filter(epoch => epoch > formed), `${host.name} announced ${epochs.join(', ')}`).toEqual([next])
    }
    const promotedHost = promoted[0]
    if (promotedHost === undefined) throw new Error('no promoted worker')
    const applied = (await promotedHost.events()).filter(event => event.event === 'applied')
    expect(applied.filter(event => event.role === 'control-plane')).toHaveLength(1)
    expect(applied.at(-1)).toMatchObject({ role: 'control-plane', service: 'k3s' })
    for (const event of await (stayed ?? victim).events()) {
      if (event.event === 'applied') expect(event.role).toBe('worker')
    }
    for (const report of statuses) expect(report.epoch).toBe(next)
  }, SCENARIO_TIMEOUT_MS)
})
