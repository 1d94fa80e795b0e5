// Goal: the join order proven against a real etcd (issue item 7). k3s cannot run here (no container
// runtime, no registry), but k3s' embedded etcd is exactly what the join order protects, and
// Debian's etcd-server can: the netns hosts run the real p2p-bootstrap binary, not a dry run, with
// the stand-ins of test/standins-etcd, whose control plane is a real etcd member (cluster-init
// starts a one-member cluster; `server:` has that server add the member, then it starts with
// initial-cluster-state existing; readiness is the member's health; deleting a Node removes its
// member; a joining member is added as a learner and promoted once caught up, as k3s does). Checked:
// 3 servers and 2 workers form and report Ready; a quorum monitor sampling every member during the
// joins never saw fewer than a majority of the voting members answer (test/helpers/etcd-quorum.ts,
// shown to catch a member added as a voter); etcd then has exactly 3 started, healthy voting
// members, one per server, and no learner. Then a server's machine dies (agent and etcd SIGKILLed):
// after the fail-over delay etcd again has 3 healthy members, the dead member removed before its
// successor was added (the stand-ins log both, with the time, to one shared file); the dead
// machine's reboot starts nothing (the start gate), and its agent, back, starts no member.
// Method: five hosts, expect 5, three control planes; afterwards every etcd a stand-in started is
// stopped by its pid.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterEach, describe, expect, it } from 'vitest'
import { parseMemberList } from '../../packages/bootstrapper/src/apply/etcd-members.js'
import type { EtcdMember } from '../../packages/bootstrapper/src/apply/etcd-members.js'
import { waitFor } from '../helpers/wait.js'
import { QuorumMonitor, describeLosses, netnsEtcdctl, parseMemberTable } from '../helpers/etcd-quorum.js'
import type { Host } from '../netns-harness/index.js'
import {
  FORMATION_TIMEOUT_MS, SCENARIO_TIMEOUT_MS, TEST_PROFILE, labSkipReason, newToken, statusOf, titled, useLab
} from './scenario-kit.js'

const execFileAsync = promisify(execFile)
const STANDINS = join(dirname(fileURLToPath(import.meta.url)), '..', 'standins-etcd')
const ETCD = '/usr/bin/etcd'
const ETCDCTL = '/usr/bin/etcdctl'
/** The shortest fail-over delay that keeps a loaded machine from replacing a live server (as in s9). */
const FAILOVER_DELAY_SECONDS = 3
const skipReason = labSkipReason ?? (existsSync(ETCD) && existsSync(ETCDCTL) ? undefined : 'etcd-server and etcd-client are not installed (apt-get install etcd-server etcd-client)')

const { lab: newLab } = useLab()
const started: Host[] = []

// Every etcd a stand-in started runs outside the agents' process trees: stop each by its pid.
afterEach(async () => {
  for (const host of started.splice(0)) await killEtcd(host)
})

/** etcd's member list as seen from inside `host`'s network namespace, read as the agent reads it. */
async function members (host: Host): Promise<EtcdMember[]> {
  const { stdout } = await execFileAsync('ip', ['netns', 'exec', host.namespace, ETCDCTL, '--endpoints', `http://${host.ip}:2379`, '--hex', 'member', 'list', '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' } })
  return parseMemberList(stdout)
}

/** A monitor of etcd's quorum over every host's client URL, sampling from `vantage`'s namespace. */
function quorumMonitor (vantage: Host, hosts: readonly Host[]): QuorumMonitor {
  const monitor = new QuorumMonitor({ etcdctl: netnsEtcdctl(vantage.namespace, ETCDCTL), endpoints: hosts.map(host => `http://${host.ip}:2379`), intervalMs: 200 })
  monitor.start()
  return monitor
}

/** How many members etcd lists, or -1 while one is a learner or has not started. */
async function voters (host: Host): Promise<number> {
  const rows = parseMemberTable(await netnsEtcdctl(host.namespace, ETCDCTL)([`--endpoints=http://${host.ip}:2379`, 'member', 'list']))
  return rows.every(row => !row.isLearner && row.started) ? rows.length : -1
}

async function healthy (host: Host, endpoints: readonly string[]): Promise<boolean> {
  return await execFileAsync('ip', ['netns', 'exec', host.namespace, ETCDCTL, '--endpoints', endpoints.join(','), 'endpoint', 'health'], { env: { ...process.env, ETCDCTL_API: '3' } })
    .then(() => true, () => false)
}

describe.skipIf(skipReason !== undefined)(titled('real network: servers join a real etcd one at a time', skipReason), () => {
  it('3 servers and 2 workers form: etcd has 3 healthy voting members, one per server', async () => {
    const lab = await newLab()
    const hosts = await lab.addHosts(5)
    const vip = lab.vip()
    const token = newToken({ expect: 5, controlPlanes: 3, vip })
    const env = { PATH: `${STANDINS}:${process.env.PATH ?? ''}`, P2PB_STANDIN_ETCD: ETCD, P2PB_STANDIN_ETCDCTL: ETCDCTL }
    const monitor = quorumMonitor(hosts[0] as Host, hosts)
    for (const host of hosts) {
      started.push(host)
      host.start({ token, flags: [...TEST_PROFILE, '--no-dht'], env })
    }
    await Promise.all(hosts.map(async host => await host.waitForEvent('ready', { timeoutMs: FORMATION_TIMEOUT_MS * 2, what: 'the cluster to be Ready' })))
    const statuses = await statusOf(hosts)
    const plan = statuses[0]?.plan
    if (plan === null || plan === undefined) throw new Error('no plan')
    const servers = hosts.filter(host => plan.controlPlanes.includes(host.nodeId))
    expect(servers).toHaveLength(3)

    const first = servers[0] as Host
    await waitFor(async () => (await members(first)).length === 3, { timeoutMs: 30_000, what: 'etcd to list three members' })
    const list = await members(first)
    expect(list.every(member => member.name !== '')).toBe(true) // every member started
    expect(list.map(member => member.peerUrls[0]).sort()).toEqual(servers.map(host => `http://${host.ip}:2380`).sort())
    expect(await healthy(first, servers.map(host => `http://${host.ip}:2379`))).toBe(true)
    await waitFor(async () => await voters(first) === 3, { timeoutMs: 30_000, what: 'three voting members, no learner' })
    const report = await monitor.stop()
    expect(report.losses, describeLosses(report)).toEqual([])
    expect(report.last).toMatchObject({ voters: 3, reachableVoters: 3, quorum: true })
    // The joins went through learners: each joining server's member was promoted once.
    const calls = (await Promise.all(servers.map(async host => await readFile(join(host.root, 'standin', 'calls.log'), 'utf8').catch(() => '')))).join('')
    expect(calls.match(/^promoted learner /gm) ?? [], calls).toHaveLength(2)
    // Workers run no member.
    for (const host of hosts.filter(host => !servers.includes(host))) {
      expect(existsSync(join(host.root, 'standin', 'etcd.pid')), host.name).toBe(false)
    }
  }, SCENARIO_TIMEOUT_MS * 2)

  it('kill -9 of a server: after fail-over 3 healthy members, the dead one removed before its successor was added; its reboot starts no member', async () => {
    const lab = await newLab()
    const hosts = await lab.addHosts(5)
    const vip = lab.vip()
    const token = newToken({ expect: 5, controlPlanes: 3, vip })
    const log = join(lab.dir, 'standin-calls.log')
    const env = { PATH: `${STANDINS}:${process.env.PATH ?? ''}`, P2PB_STANDIN_ETCD: ETCD, P2PB_STANDIN_ETCDCTL: ETCDCTL, P2PB_STANDIN_LOG: log }
    const monitor = quorumMonitor(hosts[0] as Host, hosts)
    for (const host of hosts) {
      started.push(host)
      host.start({ token, flags: [...TEST_PROFILE, '--no-dht', '--failover-delay', String(FAILOVER_DELAY_SECONDS)], env })
    }
    await Promise.all(hosts.map(async host => await host.waitForEvent('ready', { timeoutMs: FORMATION_TIMEOUT_MS * 2, what: 'the cluster to be Ready' })))
    const plan = (await statusOf(hosts))[0]?.plan
    if (plan === null || plan === undefined) throw new Error('no plan')
    const victim = hosts.find(host => plan.controlPlanes.includes(host.nodeId) && host.nodeId !== plan.init)
    if (victim === undefined) throw new Error('no server besides the initialiser')
    const survivors = hosts.filter(host => host !== victim)
    const witness = survivors.find(host => plan.controlPlanes.includes(host.nodeId)) as Host
    const victimMember = (await members(witness)).find(member => member.peerUrls.includes(`http://${victim.ip}:2380`))
    expect(victimMember).toBeDefined()

    // The machine dies: its agent and its etcd member, at once.
    await victim.kill('SIGKILL')
    await killEtcd(victim)
    await waitFor(async () => {
      const list = await members(witness)
      return list.length === 3 && !list.some(member => member.id === victimMember?.id) && list.every(member => member.name !== '')
    }, { timeoutMs: 90_000, intervalMs: 500, what: 'the dead member replaced by a started one' })
    const servers = survivors.filter(host => (plan.controlPlanes.includes(host.nodeId) || existsSync(join(host.root, 'standin', 'etcd.pid'))))
    await waitFor(async () => await healthy(witness, servers.map(host => `http://${host.ip}:2379`)), { timeoutMs: 30_000, what: 'three healthy members' })
    await waitFor(async () => await voters(witness) === 3, { timeoutMs: 30_000, what: 'three voting members, no learner' })
    // Formation, the death (2 of 3 voters left), the removal and the successor's join: never without quorum.
    const report = await monitor.stop()
    expect(report.losses, describeLosses(report)).toEqual([])
    expect(report.last?.quorum).toBe(true)
    const lines = (await readFile(log, 'utf8')).split('\n').filter(line => line !== '')
    const removedAt = lines.findIndex(line => line.includes(`etcd member remove ${victimMember?.id ?? '?'}`))
    // Two members were added at formation (the initialiser started the cluster); the third add is the successor's.
    const adds = lines.flatMap((line, index) => line.includes('etcd member add') ? [index] : [])
    expect(adds, lines.join('\n')).toHaveLength(3)
    const addedAt = adds[2] ?? -1
    expect(removedAt, lines.join('\n')).toBeGreaterThanOrEqual(0)
    expect(addedAt, lines.join('\n')).toBeGreaterThan(removedAt)

    // The dead machine reboots: /run is empty, nothing runs; systemd would start an enabled k3s,
    // and the gate skips it. Its agent comes back, learns it was replaced, and starts no member.
    await rm(join(victim.root, 'run'), { recursive: true, force: true })
    await rm(join(victim.root, 'standin', 'k3s.running'), { force: true })
    await execFileAsync('ip', ['netns', 'exec', victim.namespace, join(STANDINS, 'systemctl'), 'start', 'k3s'], { env: { ...process.env, ...env, P2PB_ROOT: victim.root } })
    expect(await etcdAlive(victim)).toBe(false)
    const rebootedAt = (await readFile(log, 'utf8')).split('\n').length
    victim.restart()
    await victim.waitForEvent(event => event.event === 'error' && String(event.message).includes('apply.clean-replaced-server'), { timeoutMs: 60_000, what: 'the replaced server to hold its k3s' })
    const afterReboot = (await readFile(log, 'utf8')).split('\n').slice(rebootedAt - 1).filter(line => line.includes(victim.nodeId))
    expect(afterReboot.filter(line => line.includes('systemctl start') || line.includes('etcd member add')), afterReboot.join('\n')).toEqual([])
    expect(await etcdAlive(victim)).toBe(false)
    expect((await members(witness)).map(member => member.peerUrls[0])).not.toContain(`http://${victim.ip}:2380`)
  }, SCENARIO_TIMEOUT_MS * 2)
})

async function etcdPid (host: Host): Promise<number | undefined> {
  const pid = Number((await readFile(join(host.root, 'standin', 'etcd.pid'), 'utf8').catch(() => '')).trim())
  return Number.isInteger(pid) && pid > 0 ? pid : undefined
}

/** True while the host's etcd runs: a killed one not yet reaped (a zombie, state Z) does not. */
async function etcdAlive (host: Host): Promise<boolean> {
  const pid = await etcdPid(host)
  if (pid === undefined) return false
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
  return stat !== '' && state !== 'Z'
}

/** Ends the host's etcd and its learner manager (both run outside the agent's process tree). */
async function killEtcd (host: Host): Promise<void> {
  for (const file of ['etcd.pid', 'learner-manager.pid']) {
    const pid = Number((await readFile(join(host.root, 'standin', file), 'utf8').catch(() => '')).trim())
    if (Number.isInteger(pid) && pid > 0) {
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
  }
}
