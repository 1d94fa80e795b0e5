// Goal: the applier brings k3s up in the order DESIGN §7 requires, against stand-in `k3s` and
// `systemctl` executables (test/standins: they record calls and answer /readyz; nothing touches
// systemd). One initialiser starts at once; server 2 starts only after server 1 is Ready, server 3
// after server 2; joiners pin the init server's CA (K10 tokens); workers join through the VIP once
// it answers; the cluster-wide `ready` event and the on-ready command come once; a restart writes
// and starts nothing again. Readiness is held back per node with the stand-in's hold-ready file,
// so each step is observed in a state that cannot change until the test releases it.
import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { Server } from 'node:net'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import type { Plan } from '@p2p-bootstrap/core'
import { parse } from 'yaml'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import {
  STATUS_SOCKET_NAME, createBootstrapper, fetchSealedKubeconfig, generateAdminKey, openKubeconfig, parseAdminPrivateKey
} from '../src/index.js'
import type { Bootstrapper, BootstrapperError, BootstrapperOptions, NodeOutput, SealedKubeconfig } from '../src/index.js'
import { makeFleet, rootOf } from './fleet.js'
import type { Fleet } from './fleet.js'

const STANDINS = join(dirname(fileURLToPath(import.meta.url)), 'standins')
const VIP = '127.0.0.100'
const CONFIG = 'etc/rancher/k3s/config.yaml'
const MANIFEST = 'var/lib/rancher/k3s/server/manifests/kube-vip.yaml'
const CA = 'var/lib/rancher/k3s/server/tls/server-ca.crt'

let fleet: Fleet | undefined
let vipListener: Server | undefined
const savedPath = process.env.PATH

beforeAll(() => { process.env.PATH = `${STANDINS}:${savedPath ?? ''}` })
afterAll(() => { process.env.PATH = savedPath })
afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
  await new Promise<void>((resolve) => { if (vipListener === undefined) resolve(); else vipListener.close(() => { resolve() }) })
  vipListener = undefined
})

/** A node that runs k3s through the stand-ins: loopback node-ips (accepted for the stand-in), the lo interface, 127/8 as its subnet. */
function realNode (index: number, extra: Partial<BootstrapperOptions> = {}): Partial<BootstrapperOptions> {
  return {
    dryRun: false,
    node: { nodeIp: `127.0.0.${11 + index}`, hostname: `edge-${index}`, interface: 'lo' },
    k3s: { subnet: '127.0.0.0/8' },
    ...extra,
    // The stand-in k3s runs on loopback, which no real kubelet accepts outside a dry run.
    apply: { acceptLocalNodeIp: true, ...(extra.apply ?? {}) }
  }
}

function standinFile (index: number, name: string): string {
  return join(rootOf(fleet?.dir ?? '', index), 'standin', name)
}

async function calls (index: number): Promise<string[]> {
  const text = await readFile(standinFile(index, 'calls.log'), 'utf8').catch(() => '')
  return text.split('\n').filter(line => line !== '')
}

async function started (index: number): Promise<boolean> {
  return (await calls(index)).some(line => line.startsWith('systemctl start'))
}

async function holdReady (index: number): Promise<void> {
  await mkdir(dirname(standinFile(index, 'hold-ready')), { recursive: true })
  await writeFile(standinFile(index, 'hold-ready'), '')
}

async function releaseReady (index: number): Promise<void> {
  await rm(standinFile(index, 'hold-ready'), { force: true })
}

async function configOf (index: number): Promise<Record<string, unknown>> {
  return parse(await readFile(join(rootOf(fleet?.dir ?? '', index), CONFIG), 'utf8')) as Record<string, unknown>
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

function indexOf (nodes: readonly Bootstrapper[], nodeId: string): number {
  const index = nodes.findIndex(node => node.nodeId === nodeId)
  if (index < 0) throw new Error(`no node ${nodeId}`)
  return index
}

function waitingFor (node: Bootstrapper | undefined): string {
  return node?.status().waitingFor ?? ''
}

describe('k3s applier with stand-in k3s and systemctl', () => {
  it('starts servers one at a time after each is Ready, pins the CA, routes workers through the VIP, and repeats nothing on restart', async () => {
    const token = formatToken(generateToken({ expect: 5, controlPlanes: 3, vip: VIP }))
    fleet = await makeFleet({ expect: 5, controlPlanes: 3 }, token)
    const onReady: BootstrapperOptions['apply'] = {
      onReadyCommand: ['sh', '-c', 'echo "$P2PB_EPOCH" >> "$P2PB_ROOT/standin/on-ready.log"']
    }
    for (let index = 0; index < 5; index++) await holdReady(index)
    for (let index = 0; index < 5; index++) await fleet.start(index, realNode(index, { apply: onReady }))
    const nodes = fleet.nodes
    const signal = AbortSignal.timeout(60_000)
    const plan: Plan = await (nodes[0] as Bootstrapper).waitForPlan({ signal })
    await Promise.all(nodes.map(async node => await node.waitForPlan({ signal })))
    const [first, second, third] = plan.controlPlanes.map(id => indexOf(nodes, id))
    if (first === undefined || second === undefined || third === undefined) throw new Error('the plan has no 3 control planes')
    const workers = plan.workers.map(id => indexOf(nodes, id))
    expect(plan.init).toBe(plan.controlPlanes[0])

    // Only the initialiser starts; everyone else waits for it to be Ready.
    await waitFor(async () => await started(first), { timeoutMs: 30_000, what: 'the init server to start k3s' })
    await waitFor(() => waitingFor(nodes[second]).includes('to be Ready'), { timeoutMs: 30_000, what: 'server 2 to wait for server 1' })
    for (const index of [second, third, ...workers]) expect(await started(index), `node ${index}`).toBe(false)
    const init = await configOf(first)
    expect(init['cluster-init']).toBe(true)
    expect(init.server).toBeUndefined()
    expect(String(init.token)).not.toMatch(/^K10/) // the CA does not exist before the first start
    expect(init['tls-san']).toEqual([VIP])
    const serverToken = String(init.token)

    // Server 1 Ready: the VIP answers from now on; server 2 and the workers join, server 3 waits.
    vipListener = createServer(socket => { socket.destroy() })
    await new Promise<void>((resolve, reject) => { vipListener?.once('error', reject).listen(6443, VIP, resolve) })
    await releaseReady(first)
    await waitFor(async () => await started(second), { timeoutMs: 30_000, what: 'server 2 to start after server 1 is Ready' })
    await waitFor(() => waitingFor(nodes[third]).includes('to be Ready'), { timeoutMs: 30_000, what: 'server 3 to wait for server 2' })
    expect(await started(third)).toBe(false)
    const caHash = createHash('sha256').update(await readFile(join(rootOf(fleet.dir, first), CA))).digest('hex')
    const joiner = await configOf(second)
    expect(joiner['cluster-init']).toBeUndefined()
    expect(joiner.server).toBe(`https://127.0.0.${11 + first}:6443`) // a Ready server, never the VIP
    expect(joiner.token).toBe(`K10${caHash}::server:${serverToken}`)
    for (const index of workers) {
      await waitFor(async () => await exists(join(rootOf(fleet?.dir ?? '', index), CONFIG)), { timeoutMs: 30_000, what: `worker ${index} to render` })
      const worker = await configOf(index)
      expect(worker.server).toBe(`https://${VIP}:6443`)
      expect(String(worker.token)).toMatch(new RegExp(`^K10${caHash}::node:`))
      const text = await readFile(join(rootOf(fleet.dir, index), CONFIG), 'utf8')
      expect(text).not.toContain(serverToken)
      expect(await exists(join(rootOf(fleet.dir, index), MANIFEST))).toBe(false)
      expect(await calls(index)).toContain('systemctl start k3s-agent')
    }

    // Server 2 Ready: server 3 starts; once it is Ready too, the whole cluster is.
    await releaseReady(second)
    await waitFor(async () => await started(third), { timeoutMs: 30_000, what: 'server 3 to start after server 2 is Ready' })
    expect((await configOf(third)).token).toBe(`K10${caHash}::server:${serverToken}`)
    await releaseReady(third)
    for (const index of workers) await releaseReady(index)
    await Promise.all(nodes.map(async node => { await node.waitForReady({ signal: AbortSignal.timeout(30_000) }) }))
    // Identical manifests and critical keys on every server.
    const manifests = await Promise.all([first, second, third].map(async index => await readFile(join(rootOf(fleet?.dir ?? '', index), MANIFEST), 'utf8')))
    expect(new Set(manifests).size).toBe(1)
    await waitFor(async () => {
      const logs = await Promise.all(nodes.map(async (_, index) => await readFile(standinFile(index, 'on-ready.log'), 'utf8').catch(() => '')))
      return logs.every(log => log === '1\n')
    }, { timeoutMs: 15_000, what: 'every node to run its on-ready command once' })

    // Restart: same bytes, no second start, Ready again, on-ready not repeated.
    const before = await Promise.all(nodes.map(async (_, index) => {
      const path = join(rootOf(fleet?.dir ?? '', index), CONFIG)
      return { text: await readFile(path, 'utf8'), mtimeMs: (await stat(path)).mtimeMs, calls: await calls(index) }
    }))
    await fleet.stopAll()
    for (let index = 0; index < 5; index++) await fleet.start(index, realNode(index, { apply: onReady }))
    await Promise.all(fleet.nodes.map(async node => { await node.waitForReady({ signal: AbortSignal.timeout(30_000) }) }))
    await Promise.all(fleet.nodes.map(async node => { await node.waitForFleet('ready', { signal: AbortSignal.timeout(30_000) }) }))
    for (const [index, was] of before.entries()) {
      const path = join(rootOf(fleet.dir, index), CONFIG)
      expect(await readFile(path, 'utf8')).toBe(was.text)
      expect((await stat(path)).mtimeMs).toBe(was.mtimeMs)
      const now = await calls(index)
      const starts = (lines: string[]): string[] => lines.filter(line => /^systemctl (enable|restart|start)/.test(line))
      expect(starts(now)).toEqual(starts(was.calls))
      expect(await readFile(standinFile(index, 'on-ready.log'), 'utf8')).toBe('1\n')
    }
  }, 150_000)

  it('retries a failed start with back-off and reports it', async () => {
    fleet = await makeFleet({ expect: 1, controlPlanes: 1 })
    await mkdir(dirname(standinFile(0, 'fail-start')), { recursive: true })
    await writeFile(standinFile(0, 'fail-start'), '')
    const errors: BootstrapperError[] = []
    const node = await fleet.start(0, realNode(0))
    node.addEventListener('error', (event) => { errors.push(event.detail) })
    await waitFor(() => errors.some(error => error.code === 'BOOTSTRAP_START_FAILED'), { timeoutMs: 30_000, what: 'the failed start to be reported' })
    expect(errors.find(error => error.code === 'BOOTSTRAP_START_FAILED')?.message).toContain('systemctl start k3s')
    expect(node.status().phase).toBe('committed')
    await rm(standinFile(0, 'fail-start'))
    await node.waitForReady({ signal: AbortSignal.timeout(30_000) })
    expect((await calls(0)).filter(line => line === 'systemctl start k3s').length).toBeGreaterThanOrEqual(2)
    expect(node.status().phase).toBe('ready')
  }, 60_000)

  it('a Ready server publishes the admin kubeconfig sealed to the admin keys, pointed at the VIP', async () => {
    const admin = await generateAdminKey()
    const outsider = await generateAdminKey()
    const token = formatToken(generateToken({ expect: 2, controlPlanes: 1, vip: VIP }))
    fleet = await makeFleet({ expect: 2, controlPlanes: 1 }, token)
    for (let index = 0; index < 2; index++) {
      await fleet.start(index, realNode(index, { adminKeys: [admin.publicKey], statusSocket: true }))
    }
    await Promise.all(fleet.nodes.map(async node => { await node.waitForReady({ signal: AbortSignal.timeout(30_000) }) }))
    const plan = await (fleet.nodes[0] as Bootstrapper).waitForPlan()
    const worker = fleet.nodes.findIndex(node => node.status().role === 'worker')
    // Asked on a worker: it holds the sealed value a control plane published, and cannot open it.
    const socket = join(fleet.dir, `node-${worker}`, 'state', STATUS_SOCKET_NAME)
    let fetched: SealedKubeconfig | undefined
    await waitFor(async () => {
      fetched = await fetchSealedKubeconfig(socket).catch(() => undefined)
      return fetched !== undefined
    }, { timeoutMs: 30_000, what: 'the sealed kubeconfig to reach the worker' })
    if (fetched === undefined) throw new Error('unreachable')
    expect(fetched.nodeId).toBe(plan.init)
    const kubeconfig = parse(openKubeconfig(fetched.sealed, await parseAdminPrivateKey(admin.privateKeyText))) as { clusters: Array<{ cluster: { server: string } }> }
    expect(kubeconfig.clusters[0]?.cluster.server).toBe(`https://${VIP}:6443`)
    const stranger = await parseAdminPrivateKey(outsider.privateKeyText)
    expect(() => openKubeconfig(fetched?.sealed ?? new Uint8Array(), stranger)).toThrow(/KUBECONFIG|sealed|key/i)
  }, 60_000)

  it('a restart with a changed node-local key rewrites the config and restarts k3s once; a damaged record is rebuilt', async () => {
    fleet = await makeFleet({ expect: 1, controlPlanes: 1 })
    const first = await fleet.start(0, realNode(0))
    await first.waitForReady({ signal: AbortSignal.timeout(30_000) })
    await fleet.stopAll()
    const tainted = realNode(0, { k3s: { subnet: '127.0.0.0/8', extra: { 'node-taint': ['dedicated=edge:NoSchedule'] } } })
    const second = await fleet.start(0, tainted)
    await second.waitForReady({ signal: AbortSignal.timeout(30_000) })
    expect((await configOf(0))['node-taint']).toEqual(['dedicated=edge:NoSchedule'])
    const starts = (await calls(0)).filter(line => /^systemctl (start|restart)/.test(line))
    expect(starts).toEqual(['systemctl start k3s', 'systemctl restart k3s'])

    // A damaged record: the node decides again from the ledger and writes a sound record.
    await fleet.stopAll()
    await writeFile(join(fleet.dir, 'node-0', 'state', 'k3s-applied.json'), '{ not json')
    const third = await fleet.start(0, tainted)
    await third.waitForReady({ signal: AbortSignal.timeout(30_000) })
    expect(third.status().phase).toBe('ready')
    expect(JSON.parse(await readFile(join(fleet.dir, 'node-0', 'state', 'k3s-applied.json'), 'utf8'))).toMatchObject({ epoch: 1, started: true })
  }, 60_000)

  it('hands rendered files and opened tokens to an installer callback instead of writing them', async () => {
    fleet = await makeFleet({ expect: 3, controlPlanes: 1 })
    const outputs = new Map<string, NodeOutput>()
    for (let index = 0; index < 3; index++) {
      await fleet.start(index, realNode(index, { apply: { onOutput: (output) => { outputs.set(output.nodeId, output) } } }))
    }
    await Promise.all(fleet.nodes.map(async node => { await node.waitForApplied({ signal: AbortSignal.timeout(30_000) }) }))
    expect(outputs.size).toBe(3)
    const all = [...outputs.values()]
    expect(all.filter(output => output.init)).toHaveLength(1)
    for (const output of all) {
      expect(output.files.map(file => file.path)).toContain('/etc/rancher/k3s/config.yaml')
      if (output.role === 'control-plane') expect(output.secrets.serverToken).toMatch(/^[0-9a-zA-Z]+$/)
      else expect(output.secrets.serverToken).toBeUndefined()
      expect(output.secrets.agentToken.length).toBeGreaterThan(16)
    }
    for (let index = 0; index < 3; index++) {
      expect(await exists(join(rootOf(fleet.dir, index), CONFIG))).toBe(false)
      expect(await calls(index)).toEqual([]) // nothing started either
    }
  }, 60_000)
})

describe('k3s applier refuses bad input, writing nothing', () => {
  /** A dry-run node on loopback: rendered only, so nothing is started whatever the test does. */
  function dryNode (index: number, extra: Partial<BootstrapperOptions> = {}): Partial<BootstrapperOptions> {
    return { ...realNode(index), dryRun: true, ...extra }
  }

  function errorsOf (node: Bootstrapper): BootstrapperError[] {
    const errors: BootstrapperError[] = []
    node.addEventListener('error', (event) => { errors.push(event.detail) })
    return errors
  }

  it('a k3s key unknown to the pinned k3s, a reserved key, or an even control-plane count stops the start', () => {
    const token = formatToken(generateToken({ expect: 1 }))
    expect(() => createBootstrapper({ token, k3s: { extra: { 'no-such-flag': true } } })).toThrow(/option k3s: .*no-such-flag.*not a flag of k3s/)
    expect(() => createBootstrapper({ token, k3s: { extra: { 'cluster-init': true } } })).toThrow(/option k3s: .*cluster-init/)
    expect(() => createBootstrapper({ token, k3s: { kairosArgs: { server: ['--bogus=1'] } } })).toThrow(/option k3s: .*bogus/)
    expect(() => createBootstrapper({ token, shape: { controlPlanes: 2 } })).toThrow(/controlPlanes: must be one of 1, 3, 5, 7/)
    expect(() => createBootstrapper({ token, adminKeys: ['not-a-key'] })).toThrow(/option adminKeys\[0\]/)
  })

  it('a VIP outside the node\'s subnet: a precise error and no config written', async () => {
    const token = formatToken(generateToken({ expect: 1, vip: VIP }))
    fleet = await makeFleet({ expect: 1, controlPlanes: 1 }, token)
    const node = await fleet.start(0, dryNode(0, { k3s: { subnet: '192.168.7.0/24' } }))
    const errors = errorsOf(node)
    await waitFor(() => errors.some(error => error.code === 'BOOTSTRAP_RENDER_FAILED'), { timeoutMs: 30_000, what: 'the render error' })
    const error = errors.find(error => error.code === 'BOOTSTRAP_RENDER_FAILED')
    expect((error?.cause as { code?: string } | undefined)?.code).toBe('K3S_VIP_OUTSIDE_SUBNET')
    expect(error?.message).toContain('192.168.7.0/24')
    expect(node.status().phase).toBe('committed')
    expect(node.status().waitingFor).toContain('a fix')
    expect(await exists(join(rootOf(fleet.dir, 0), CONFIG))).toBe(false)
  }, 60_000)

  it('a critical k3s key set on one node only: the nodes that differ from the init node write nothing', async () => {
    fleet = await makeFleet({ expect: 3, controlPlanes: 3 })
    const odd = 1
    const errors: BootstrapperError[][] = []
    for (let index = 0; index < 3; index++) {
      const node = await fleet.start(index, dryNode(index, index === odd ? { k3s: { subnet: '127.0.0.0/8', extra: { 'cluster-cidr': '10.99.0.0/16' } } } : {}))
      errors.push(errorsOf(node))
    }
    const plan = await (fleet.nodes[0] as Bootstrapper).waitForPlan({ signal: AbortSignal.timeout(30_000) })
    const init = indexOf(fleet.nodes, plan.init)
    // The init node's settings are the cluster's: if the odd node is the init node, the others differ.
    const differing = init === odd ? [0, 1, 2].filter(index => index !== odd) : [odd]
    for (const index of differing) {
      await waitFor(() => errors[index]?.some(error => error.code === 'BOOTSTRAP_CONFIG_MISMATCH') === true, { timeoutMs: 30_000, what: `node ${index} to refuse` })
      expect(await exists(join(rootOf(fleet.dir, index), CONFIG))).toBe(false)
    }
    for (const index of [0, 1, 2].filter(index => !differing.includes(index))) {
      await (fleet.nodes[index] as Bootstrapper).waitForApplied({ signal: AbortSignal.timeout(30_000) })
      expect(await exists(join(rootOf(fleet.dir, index), CONFIG))).toBe(true)
    }
  }, 60_000)
})
