// Goal: issue finding 5 with real processes: the init node is SIGKILLed right after the commit and
// stays down past the fail-over delay. The epoch that replaces it must name a live server to run
// cluster-init in its place (nobody was Ready: the cluster never formed), every other server and
// worker must join through it, and no two servers may name each other (J1). Before the fix epoch 2
// left nobody with cluster-init and the servers' join targets formed a circle. Method: five hosts,
// expect 5 and three control planes, `--failover-delay 3`, dry run (no host runs k3s, so no server
// is ever Ready); once every host holds the bootstrap plan, the init host is killed and never
// started again; the survivors' files and `status --json` are then read and checked.
import { describe, expect, it } from 'vitest'
import { waitFor } from '../helpers/wait.js'
import type { Host } from '../netns-harness/index.js'
import { assertConsistentFleet, readFleetFiles } from './fleet-files.js'
import {
  FORMATION_TIMEOUT_MS, REPLACEMENT_TIMEOUT_MS, SCENARIO_TIMEOUT_MS, labSkipReason, rootsOf, startFailoverFleet, statusOf,
  titled, useLab
} from './scenario-kit.js'

const { lab: newLab } = useLab()

/** Waits until every host's files are for `epoch`, k3s config included; returns nothing but throws on timeout. */
async function filesAt (hosts: readonly Host[], epoch: number, timeoutMs: number): Promise<void> {
  await waitFor(async () => {
    const files = await readFleetFiles(rootsOf(hosts))
    return files.every(file => file.plan?.epoch === epoch && file.k3sConfig !== null)
  }, { timeoutMs, intervalMs: 200, what: `every host to write its output for epoch ${epoch}` })
}

describe.skipIf(labSkipReason !== undefined)(titled('real network: the init node dies before its cluster exists'), () => {
  it('kill -9 of the init node right after the commit: the replacing epoch names who initialises, and everyone joins through it', async () => {
    const { hosts, vip } = await startFailoverFleet(await newLab())
    await filesAt(hosts, 1, FORMATION_TIMEOUT_MS)
    const summary = assertConsistentFleet(await readFleetFiles(rootsOf(hosts)), { controlPlanes: 3, workers: 2, vip, epoch: 1, nodeIps: hosts.map(host => host.ip) })
    const victim = hosts.find(host => host.nodeId === summary.init)
    if (victim === undefined) throw new Error('no init host')
    await victim.kill('SIGKILL')
    const survivors = hosts.filter(host => host !== victim)

    await filesAt(survivors, 2, REPLACEMENT_TIMEOUT_MS)
    const statuses = await statusOf(survivors)
    expect(new Set(statuses.map(report => JSON.stringify(report.plan))).size).toBe(1)
    const plan = statuses[0]?.plan
    if (plan === null || plan === undefined) throw new Error('no plan')
    expect(plan.epoch).toBe(2)
    expect(plan.init).toBe(victim.nodeId) // S1: the field never changes
    expect(plan.replaced).toEqual([victim.nodeId])
    const reinit = plan.reinit
    if (reinit === undefined) throw new Error(`epoch 2 names nobody to initialise: ${JSON.stringify(plan)}`)
    expect(plan.controlPlanes).toContain(reinit)
    expect(plan.notes.join(' ')).toMatch(/no server was Ready yet, so …\S+ initialises the cluster in place of the replaced init node/)

    // One host runs cluster-init (S1 among the living); every other config names its node-ip.
    const files = await readFleetFiles(rootsOf(survivors))
    assertConsistentFleet(files, { controlPlanes: 3, workers: 1, vip, epoch: 2, nodeIps: survivors.map(host => host.ip) })
    const initialiser = survivors.find(host => host.nodeId === reinit)
    if (initialiser === undefined) throw new Error('the named initialiser is not a survivor')
    files.forEach((file, index) => {
      const host = survivors[index]
      const values = file.k3sConfig?.values ?? {}
      if (host === initialiser) {
        expect(values['cluster-init']).toBe('true') // read with YAML's failsafe schema
        expect(values.server).toBeUndefined()
      } else {
        expect(values['cluster-init'], host?.name).toBeUndefined()
        expect(values.server, host?.name).toBe(`https://${initialiser.ip}:6443`)
      }
    })
  }, SCENARIO_TIMEOUT_MS)
})
