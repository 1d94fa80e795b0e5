// Goal: examples/embed/node-agent.ts works as its comment says: three node agents embedding the
// bootstrapper form one cluster, log what happens, answer status while running, and stop cleanly
// when their stop signal (SIGTERM in the program) fires. Method: the example's `runNodeAgent`
// runs three times in this process on loopback (127.0.0.21–23, dry run, no mDNS or DHT); node 0
// starts first and the others get its address as their one static peer. The test waits on the
// agents' log lines, asks one agent's status socket, aborts, and checks what each returned and left.
import { access, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { STATUS_SOCKET_NAME, fetchStatus } from '@p2p-bootstrap/bootstrapper'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { parse } from 'yaml'
import { afterEach, describe, expect, it } from 'vitest'
import { runNodeAgent } from '../../examples/embed/node-agent.js'
import type { NodeAgentReport, NodeAgentSettings } from '../../examples/embed/node-agent.js'
import { waitFor } from '../helpers/wait.js'
import { track } from './kit.js'
import type { Tracked } from './kit.js'

let dir = ''
let stop = new AbortController()
let runs: Array<Tracked<NodeAgentReport>> = []

afterEach(async () => {
  stop.abort()
  await Promise.allSettled(runs.map(async run => await run.promise))
  runs = []
  stop = new AbortController()
  if (dir !== '') await rm(dir, { recursive: true, force: true })
  dir = ''
})

async function exists (path: string): Promise<boolean> {
  return await access(path).then(() => true, () => false)
}

describe('examples/embed/node-agent.ts', () => {
  it('three embedded agents form one cluster, serve status while running and stop on their stop signal', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-example-embed-'))
    // One control plane wanted: no later epoch grows the plan while the example runs (growth is
    // tested in packages/bootstrapper/test/epochs-apply.test.ts).
    const token = formatToken(generateToken({ expect: 3, controlPlanes: 1 }))
    const lines: string[][] = [[], [], []]
    const settingsOf = (index: number, peers: readonly string[], onListening?: (addresses: readonly string[]) => void): NodeAgentSettings => ({
      token,
      stateDir: join(dir, `node-${index}`, 'state'),
      root: join(dir, `node-${index}`, 'root'),
      listen: [`/ip4/127.0.0.${21 + index}/tcp/0`],
      peers,
      nodeIp: `127.0.0.${21 + index}`,
      dryRun: true,
      discovery: false,
      profile: 'test',
      log: (line) => { lines[index]?.push(line) },
      ...(onListening === undefined ? {} : { onListening })
    })
    let seed: readonly string[] = []
    runs.push(track(runNodeAgent(settingsOf(0, [], (addresses) => { seed = addresses }), stop.signal)))
    const first = runs[0]
    await waitFor(() => { first?.check(); return seed.length > 0 }, { timeoutMs: 20_000, what: 'node 0 to listen' })
    for (const index of [1, 2]) runs.push(track(runNodeAgent(settingsOf(index, seed.slice(0, 1)), stop.signal)))

    await waitFor(() => {
      for (const run of runs) run.check()
      return lines.every(log => log.some(line => line.startsWith('applied: ')))
    }, { timeoutMs: 40_000, what: 'every agent to log its applied output' })

    // While running, the agent answers `p2p-bootstrap status` over its socket.
    const socket = join(dir, 'node-1', 'state', STATUS_SOCKET_NAME)
    const live = await fetchStatus(socket, { signal: AbortSignal.timeout(10_000) })
    expect(live.phase).toBe('applied')
    expect(live.members).toHaveLength(3)

    stop.abort() // what SIGTERM does in the program
    const reports = await Promise.all(runs.map(async run => await run.promise))

    const plans = reports.map(report => report.plan)
    for (const plan of plans) expect(plan?.epoch).toBe(1)
    expect(new Set(plans.map(plan => JSON.stringify([plan?.init, plan?.controlPlanes, plan?.workers]))).size).toBe(1)
    expect(reports.filter(report => report.status.part?.init === true)).toHaveLength(1)
    const nodeIds = reports.map(report => report.nodeId)
    expect(new Set(nodeIds).size).toBe(3)
    // The plan lists the nodes its proposer saw: all three, or a quorum of two when the third
    // started after the gather timeout (it then joins the formed cluster as a worker).
    const plan = plans[0]
    expect(plan?.controlPlanes).toHaveLength(1)
    for (const id of [...(plan?.controlPlanes ?? []), ...(plan?.workers ?? [])]) expect(nodeIds).toContain(id)
    for (const report of reports) {
      expect(report.status.role).toBe(plan?.controlPlanes.includes(report.nodeId) === true ? 'control-plane' : 'worker')
    }
    for (const [index, report] of reports.entries()) {
      expect(report.status.phase).toBe('applied') // a dry run never reports k3s Ready
      const config = join(dir, `node-${index}`, 'root', 'etc/rancher/k3s/config.yaml')
      expect((await stat(config)).mode & 0o777).toBe(0o600)
      const rendered = parse(await readFile(config, 'utf8')) as Record<string, unknown>
      expect(rendered['node-ip']).toBe(`127.0.0.${21 + index}`)
      expect(rendered['cluster-init'] === true).toBe(report.status.part?.init === true)
      const log = lines[index] ?? []
      expect(log.some(line => line.startsWith('plan epoch 1: '))).toBe(true)
      expect(log.some(line => line.startsWith('peer joined: '))).toBe(true)
      expect(log.at(-1)).toMatch(/^stopped: phase applied, 3 member\(s\) known$/)
      // Stopped for real: the socket and the state dir's lock are gone.
      expect(await exists(join(dir, `node-${index}`, 'state', STATUS_SOCKET_NAME))).toBe(false)
      expect(await exists(join(dir, `node-${index}`, 'state', 'agent.lock'))).toBe(false)
    }
  }, 90_000)

  it('an agent stopped before any plan returns what it knew, without a plan', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-example-embed-'))
    const lines: string[] = []
    let listening = false
    const run = track(runNodeAgent({
      token: formatToken(generateToken({ expect: 3 })),
      stateDir: join(dir, 'state'),
      root: join(dir, 'root'),
      listen: ['/ip4/127.0.0.24/tcp/0'],
      peers: [],
      nodeIp: '127.0.0.24',
      dryRun: true,
      discovery: false,
      profile: 'test',
      log: (line) => { lines.push(line) },
      onListening: () => { listening = true }
    }, stop.signal))
    runs.push(run)
    await waitFor(() => { run.check(); return listening }, { timeoutMs: 20_000, what: 'the agent to listen' })
    stop.abort()
    const report = await run.promise
    expect(report.plan).toBeNull()
    expect(report.status.phase).toBe('discovering')
    expect(report.status.members.map(member => member.state)).toEqual(['self'])
    expect(await exists(join(dir, 'root', 'etc'))).toBe(false)
  }, 60_000)
})
