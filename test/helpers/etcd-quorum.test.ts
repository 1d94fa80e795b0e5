// Goal: the quorum monitor the etcd-backed netns tests rely on can fail. Its verdict is checked on
// hand-written member lists, then against a real etcd on loopback: a second member added as a
// voter and not yet running leaves 1 of 2 voters answering (a loss the monitor must report), while
// the same member added as a learner, started and promoted, as k3s does it, never costs the quorum.
// Method: Debian's etcd on 127.0.0.1 with free ports; skipped with the packages to install when absent.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { QuorumMonitor, describeLosses, judgeQuorum, localEtcdctl, parseMemberTable } from './etcd-quorum.js'
import type { MemberRow } from './etcd-quorum.js'
import { freePort } from './free-port.js'
import { waitFor } from './wait.js'

const ETCD = '/usr/bin/etcd'
const ETCDCTL = '/usr/bin/etcdctl'
const skipReason = existsSync(ETCD) && existsSync(ETCDCTL) ? undefined : 'etcd-server and etcd-client are not installed (apt-get install etcd-server etcd-client)'

const voter = (id: string, url: string): MemberRow => ({ id, started: true, name: id, clientUrls: [url], isLearner: false })

describe('judgeQuorum', () => {
  it('counts only voting members, and needs more than half of them answering', () => {
    const a = voter('a', 'http://a:2379')
    const unstartedVoter: MemberRow = { id: 'b', started: false, name: '', clientUrls: [], isLearner: false }
    const unstartedLearner: MemberRow = { ...unstartedVoter, isLearner: true }
    const answered = new Set(['http://a:2379'])
    expect(judgeQuorum([a], answered)).toEqual({ voters: 1, reachableVoters: 1, quorum: true })
    // A voter added before its etcd runs: 1 of 2 is no majority.
    expect(judgeQuorum([a, unstartedVoter], answered)).toEqual({ voters: 2, reachableVoters: 1, quorum: false })
    // The same member as a learner does not count.
    expect(judgeQuorum([a, unstartedLearner], answered)).toEqual({ voters: 1, reachableVoters: 1, quorum: true })
    // Three voters, one dead: 2 of 3 still hold it.
    expect(judgeQuorum([a, voter('c', 'http://c:2379'), voter('d', 'http://d:2379')], new Set(['http://a:2379', 'http://c:2379'])).quorum).toBe(true)
    expect(judgeQuorum([a, voter('c', 'http://c:2379'), voter('d', 'http://d:2379')], answered).quorum).toBe(false)
  })

  it('reads etcdctl 3.4 member list lines, started or not, voter or learner', () => {
    const rows = parseMemberTable([
      'e05d9dc59043aa0, unstarted, , http://127.0.0.1:23802, , true',
      'bdae9bbc11dd390d, started, a, http://127.0.0.1:23801, http://127.0.0.1:23791, false',
      ''
    ].join('\n'))
    expect(rows).toEqual([
      { id: 'e05d9dc59043aa0', started: false, name: '', clientUrls: [], isLearner: true },
      { id: 'bdae9bbc11dd390d', started: true, name: 'a', clientUrls: ['http://127.0.0.1:23791'], isLearner: false }
    ])
    expect(() => parseMemberTable('Error: context deadline exceeded')).toThrow(/cannot read/)
  })
})

interface Member { readonly name: string, readonly client: string, readonly peer: string }

describe.skipIf(skipReason !== undefined)(`the quorum monitor against a real etcd on loopback${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`, () => {
  const processes: ChildProcess[] = []
  const dirs: string[] = []
  const etcdctl = localEtcdctl(ETCDCTL)

  afterEach(async () => {
    for (const child of processes.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise(resolve => child.once('exit', resolve))
        child.kill('SIGKILL')
        await exited
      }
    }
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true })
  })

  async function member (name: string): Promise<Member> {
    return { name, client: `http://127.0.0.1:${await freePort('127.0.0.1')}`, peer: `http://127.0.0.1:${await freePort('127.0.0.1')}` }
  }

  async function startEtcd (self: Member, cluster: readonly Member[], state: 'new' | 'existing'): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), 'etcd-quorum-'))
    dirs.push(dir)
    const child = spawn(ETCD, [
      '--name', self.name, '--data-dir', join(dir, 'data'),
      '--listen-client-urls', self.client, '--advertise-client-urls', self.client,
      '--listen-peer-urls', self.peer, '--initial-advertise-peer-urls', self.peer,
      '--initial-cluster', cluster.map(m => `${m.name}=${m.peer}`).join(','), '--initial-cluster-state', state
    ], { stdio: 'ignore' })
    processes.push(child)
    await waitFor(async () => await etcdctl([`--endpoints=${self.client}`, 'endpoint', 'status']).then(() => true, () => false),
      { timeoutMs: 20_000, intervalMs: 100, what: `etcd ${self.name} to answer` })
  }

  it('reports a loss of quorum when a member is added as a voter before it runs', async () => {
    const a = await member('a')
    const b = await member('b')
    await startEtcd(a, [a], 'new')
    const monitor = new QuorumMonitor({ etcdctl, endpoints: [a.client], intervalMs: 50 })
    monitor.start()
    await etcdctl([`--endpoints=${a.client}`, 'member', 'add', b.name, `--peer-urls=${b.peer}`])
    // b never starts: the cluster stays without quorum, and the monitor must say so.
    const before = monitor.report().samples
    await waitFor(() => monitor.report().samples >= before + 5, { timeoutMs: 10_000, what: 'five samples after the add' })
    const report = await monitor.stop()
    expect(report.losses.length, `${report.samples} samples`).toBeGreaterThan(0)
    expect(report.losses[0]).toMatchObject({ voters: 2, reachableVoters: 1, quorum: false })
  })

  it('sees no loss when the member joins as a learner and is promoted once it runs (as k3s does)', async () => {
    const a = await member('a')
    const b = await member('b')
    await startEtcd(a, [a], 'new')
    const monitor = new QuorumMonitor({ etcdctl, endpoints: [a.client, b.client], intervalMs: 50 })
    monitor.start()
    await etcdctl([`--endpoints=${a.client}`, 'member', 'add', b.name, '--learner', `--peer-urls=${b.peer}`])
    await startEtcd(b, [a, b], 'existing')
    const learnerId = parseMemberTable(await etcdctl([`--endpoints=${a.client}`, 'member', 'list'])).find(row => row.isLearner)?.id
    if (learnerId === undefined) throw new Error('no learner listed')
    // etcd refuses to promote a learner that is not yet in sync with the leader: retry until it is.
    await waitFor(async () => await etcdctl([`--endpoints=${a.client}`, 'member', 'promote', learnerId]).then(() => true, () => false),
      { timeoutMs: 20_000, intervalMs: 200, what: 'the learner to be promoted' })
    await waitFor(() => monitor.report().last?.voters === 2, { timeoutMs: 10_000, what: 'two voters sampled' })
    const report = await monitor.stop()
    expect(report.losses, describeLosses(report)).toEqual([])
    expect(report.last).toMatchObject({ voters: 2, reachableVoters: 2, quorum: true })
  })
})
