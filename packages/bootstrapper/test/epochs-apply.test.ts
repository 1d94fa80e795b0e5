// Goal: the applier carries out later committed epochs (grow, replace, return, retire) in the order
// that keeps etcd safe, against stand-in `k3s` and `systemctl` executables (test/standins: they
// record every call, "run" units as marker files, answer /readyz, delete and drain nodes; nothing
// touches systemd or a cluster). Fleet scenarios run real bootstrappers on loopback with the
// `test` profile: growth 1 → 3 (servers still one at a time, the promoted worker's agent stopped
// first), replacement of a dead server after the fail-over delay (the dead node deleted from
// Kubernetes exactly once, after the epoch commits and before its replacement starts), and the
// return of the replaced node (nothing started without the opt-in; with it, stale server state
// cleaned under the root and the agent started). Retirement and the deletion duty run against the
// applier itself with a hand-made ledger and plans, so each step is observed before the next.
// Readiness is held back with the stand-in's hold-ready file, so no step depends on timing.
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { generateClusterSecrets, nodeKeyFromSeed, Prng, sealPlanSecrets } from '@p2p-bootstrap/core'
import type { NodeFacts, NodeId, NodeKey, Plan } from '@p2p-bootstrap/core'
import { nodeNameFor } from '@p2p-bootstrap/k3s'
import { parse } from 'yaml'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { K3sApplier } from '../src/apply/applier.js'
import type { ApplierLedger } from '../src/apply/applier.js'
import type { ApplyOptions } from '../src/apply/apply-options.js'
import { APPLY_RECORD_FILE, loadApplyRecord, saveApplyRecord } from '../src/apply/apply-record.js'
import type { ApplyRecord, K3sService } from '../src/apply/apply-record.js'
import { nextJoinStep } from '../src/apply/join-sequence.js'
import type { JoinInput } from '../src/apply/join-sequence.js'
import { k3sBlocksOf } from '../src/apply/k3s-blocks.js'
import {
  SERVER_READY_ENTRY_NAME, STOPPED_ENTRY_NAME, chooseRemover, pendingRemovals, removedEntryName, retiringServers,
  serverRemovalsPending
} from '../src/apply/node-removal.js'
import { CONSENT_DIR, GATE_DROP_IN_NAME, bootStartHold, grantConsent, installGate } from '../src/apply/start-gate.js'
import type { AgentPhase, PublishedStatus } from '../src/published-status.js'
import { openStateDir } from '../src/state/state-dir.js'
import type { StateDir } from '../src/state/state-dir.js'
import type { Bootstrapper, BootstrapperError, BootstrapperOptions } from '../src/index.js'
import { makeFleet, rootOf, stateDirOf } from './fleet.js'
import type { Fleet } from './fleet.js'

const execFileAsync = promisify(execFile)
const STANDINS = join(dirname(fileURLToPath(import.meta.url)), 'standins')
const CONFIG = 'etc/rancher/k3s/config.yaml'
const SERVER_DIR = 'var/lib/rancher/k3s/server'
const ADMIN_KUBECONFIG = 'etc/rancher/k3s/k3s.yaml'
/** The bootstrapper option under test: replace a dead server after 3 s (the test profile's own value). */
const FAILOVER_DELAY_MS = 3_000

let fleet: Fleet | undefined
const cleanups: Array<() => Promise<void>> = []
const savedPath = process.env.PATH

beforeAll(() => { process.env.PATH = `${STANDINS}:${savedPath ?? ''}` })
afterAll(() => { process.env.PATH = savedPath })
afterEach(async () => {
  delete process.env.P2PB_STANDIN_LOG
  await fleet?.dispose()
  fleet = undefined
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

// ---- fleet helpers ----

/** A node that runs k3s through the stand-ins: loopback node-ips (accepted for the stand-in), the lo interface, 127/8 as its subnet. */
function realNode (index: number, extra: Partial<BootstrapperOptions> = {}): Partial<BootstrapperOptions> {
  return {
    dryRun: false,
    node: { nodeIp: `127.0.0.${21 + index}`, hostname: `edge-${index}`, interface: 'lo' },
    k3s: { subnet: '127.0.0.0/8' },
    failoverDelayMs: FAILOVER_DELAY_MS,
    ...extra,
    // The stand-in k3s runs on loopback, which no real kubelet accepts outside a dry run.
    apply: { acceptLocalNodeIp: true, ...(extra.apply ?? {}) }
  }
}

function root (index: number): string {
  return rootOf(fleet?.dir ?? '', index)
}

async function calls (index: number): Promise<string[]> {
  const text = await readFile(join(root(index), 'standin', 'calls.log'), 'utf8').catch(() => '')
  return text.split('\n').filter(line => line !== '')
}

/** Calls that change a service (no probes). */
async function serviceCalls (index: number): Promise<string[]> {
  return (await calls(index)).filter(line => /^systemctl (enable|disable|start|stop|restart)/.test(line))
}

async function startedServer (index: number): Promise<boolean> {
  return (await calls(index)).includes('systemctl start k3s')
}

async function holdReady (index: number): Promise<void> {
  await mkdir(join(root(index), 'standin'), { recursive: true })
  await writeFile(join(root(index), 'standin', 'hold-ready'), '')
}

async function releaseReady (index: number): Promise<void> {
  await rm(join(root(index), 'standin', 'hold-ready'), { force: true })
}

async function configOf (index: number): Promise<Record<string, unknown>> {
  return parse(await readFile(join(root(index), CONFIG), 'utf8')) as Record<string, unknown>
}

async function exists (path: string): Promise<boolean> {
  return await stat(path).then(() => true, () => false)
}

async function recordOf (index: number): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(join(stateDirOf(fleet?.dir ?? '', index), APPLY_RECORD_FILE), 'utf8')) as Record<string, unknown>
}

function indexOf (nodes: readonly Bootstrapper[], nodeId: string): number {
  const index = nodes.findIndex(node => node.nodeId === nodeId)
  if (index < 0) throw new Error(`no node ${nodeId}`)
  return index
}

function waitingFor (node: Bootstrapper | undefined): string {
  return node?.status().waitingFor ?? ''
}

/** Lines of the fleet's shared stand-in log: [ms, node id, call]. */
async function sharedLog (path: string): Promise<Array<{ atMs: number, nodeId: string, call: string }>> {
  const text = await readFile(path, 'utf8').catch(() => '')
  return text.split('\n').filter(line => line !== '').map((line) => {
    const [atMs = '', nodeId = '', ...call] = line.split(' ')
    return { atMs: Number(atMs), nodeId, call: call.join(' ') }
  })
}

interface Replaced {
  readonly fleet: Fleet
  readonly before: Plan
  readonly after: Plan
  /** Index of the server stopped for good, and of the worker that replaced it. */
  readonly dead: number
  readonly replacement: number
  readonly survivors: readonly Bootstrapper[]
  readonly log: string
  /** Errors the survivors reported since the server stopped. */
  readonly errors: BootstrapperError[]
}

/**
 * Three servers and a worker, all Ready; then a server that is neither the init node nor node 0
 * (the others' seed) stops for good, and the survivors commit the epoch that replaces it. With
 * `blockDeletion`, every stand-in k3s refuses `kubectl delete` until the test removes fail-delete.
 */
async function formAndReplace (options: { blockDeletion?: boolean } = {}): Promise<Replaced> {
  const current = await makeFleet({ expect: 4, controlPlanes: 3 })
  fleet = current
  const log = join(current.dir, 'all-calls.log')
  process.env.P2PB_STANDIN_LOG = log
  for (let index = 0; index < 4; index++) await current.start(index, realNode(index))
  const nodes = current.nodes
  await Promise.all(nodes.map(async node => { await node.waitForReady({ signal: AbortSignal.timeout(45_000) }) }))
  const before = await (nodes[0] as Bootstrapper).waitForPlan()
  expect(before.controlPlanes).toHaveLength(3)
  const deadId = before.controlPlanes.find(id => id !== before.init && indexOf(nodes, id) !== 0)
  const workerId = before.workers[0]
  if (deadId === undefined || workerId === undefined) throw new Error('no server to stop or no worker')
  const dead = indexOf(nodes, deadId)
  const replacement = indexOf(nodes, workerId)
  if (options.blockDeletion === true) {
    for (let index = 0; index < 4; index++) await writeFile(join(root(index), 'standin', 'fail-delete'), '')
  }
  const survivors = nodes.filter((_, index) => index !== dead)
  const errors: BootstrapperError[] = []
  for (const node of survivors) node.addEventListener('error', (event) => { errors.push(event.detail) })
  await (nodes[dead] as Bootstrapper).stop()
  await waitFor(() => survivors.every(node => node.status().epoch >= 2), { timeoutMs: 30_000, what: 'the survivors to commit the epoch that replaces the dead server' })
  const after = await (nodes[0] as Bootstrapper).waitForPlan()
  return { fleet: current, before, after, dead, replacement, survivors, log, errors }
}

// ---- direct applier helpers ----

const SEALING_KEY = new Prng(41).bytes(32)
const TOKEN_ENTROPY = new Prng(42)
const TOKENS = generateClusterSecrets((length) => TOKEN_ENTROPY.bytes(length))

function keyOf (seed: number): NodeKey {
  return nodeKeyFromSeed(new Prng(seed).bytes(32))
}

function planOf (fields: Pick<Plan, 'epoch' | 'init' | 'controlPlanes' | 'workers'> & Partial<Plan>): Plan {
  const entropy = new Prng(fields.epoch + 100)
  return {
    clusterId: 'c1test',
    notes: [],
    decidedUnder: { expect: 3, controlPlanes: 3 },
    secrets: sealPlanSecrets({ ...TOKENS, controlPlanes: fields.controlPlanes, sealingKey: SEALING_KEY, entropy: (length) => entropy.bytes(length) }),
    ...fields
  }
}

/** A ledger the test writes by hand: entries, facts, published statuses and liveness. */
class TestLedger {
  readonly entries = new Map<string, Uint8Array>()
  readonly facts = new Map<NodeId, NodeFacts>()
  readonly statuses = new Map<NodeId, PublishedStatus>()
  readonly dead = new Set<NodeId>()
  /** Members this agent has not heard from since it started (only read about on disk). */
  readonly unheard = new Set<NodeId>()
  /**
   * Publications whose name this matches wait in `pending` until `flush()`: the real agent's go
   * through the driver and reach the ledger a moment after the call.
   */
  defer: (name: string) => boolean = () => false
  readonly pending: Array<[string, Uint8Array]> = []
  private readonly self: NodeId

  constructor (self: NodeId) {
    this.self = self
  }

  set (nodeId: NodeId, name: string, value = 'x'): void {
    this.entries.set(`node/${nodeId}/${name}`, new TextEncoder().encode(value))
  }

  has (nodeId: NodeId, name: string): boolean {
    return this.entries.has(`node/${nodeId}/${name}`)
  }

  port (): ApplierLedger {
    return {
      lookup: (key) => this.entries.get(key),
      factsOf: (nodeId) => this.facts.get(nodeId),
      statusOf: (nodeId) => this.statuses.get(nodeId) ?? null,
      publish: (name, value) => {
        if (this.defer(name)) this.pending.push([name, value])
        else this.entries.set(`node/${this.self}/${name}`, value)
      },
      alive: (nodeId) => !this.dead.has(nodeId),
      heard: (nodeId) => !this.dead.has(nodeId) && !this.unheard.has(nodeId)
    }
  }
}

/**
 * A dry-run applier for `key` over `ledger`, which answers the init node's cluster-wide k3s hash
 * with ours; it reports each phase to `onPhase`, and it and its folder go after the test.
 */
async function dryRunApplier (key: NodeKey, ledger: TestLedger, onPhase: (phase: string, waitingFor: string) => void): Promise<{ applier: K3sApplier, root: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'p2pb-epochs-'))
  cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
  const state = await openStateDir(join(dir, 'state'))
  const clusterHash = new TextEncoder().encode(k3sBlocksOf(undefined, undefined).clusterHash)
  const applier = new K3sApplier({
    nodeId: key.nodeId,
    nodeKey: key,
    sealingKey: SEALING_KEY,
    root: join(dir, 'root'),
    dryRun: true,
    node: { interface: 'lo', subnet: '127.0.0.0/8' },
    blocks: k3sBlocksOf(undefined, undefined),
    apply: {},
    state,
    ledger: { ...ledger.port(), lookup: (name) => name.endsWith('/k3s-hash') ? clusterHash : ledger.entries.get(name) },
    backoff: { initialMs: 20, maxMs: 100 },
    reports: {
      phase: (phase, waitingFor) => { onPhase(phase, waitingFor) },
      applied: () => {},
      clusterReady: () => {},
      nodeReady: async () => {},
      error: () => {},
      notice: () => {}
    }
  })
  cleanups.push(async () => { await applier.stop(); await state.close() })
  await applier.load()
  return { applier, root: join(dir, 'root') }
}

interface Harness {
  readonly applier: K3sApplier
  readonly ledger: TestLedger
  readonly root: string
  readonly state: StateDir
  readonly phases: Array<{ phase: AgentPhase, waitingFor: string, epoch: number }>
  readonly errors: BootstrapperError[]
  readonly notices: string[]
  readonly retired: Plan[]
  calls: () => Promise<string[]>
  /** Stops the applier (the state dir stays, for a second applier on it). */
  stop: () => Promise<void>
}

/** An applier for node `key`, on a fresh dir (or `dir` again), with the stand-ins and a short back-off. */
async function harness (key: NodeKey, ledger: TestLedger, options: { dir?: string, record?: ApplyRecord, apply?: ApplyOptions, consented?: K3sService[] } = {}): Promise<Harness & { dir: string }> {
  const dir = options.dir ?? await mkdtemp(join(tmpdir(), 'p2pb-epochs-'))
  if (options.dir === undefined) cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
  const rootDir = join(dir, 'root')
  const state = await openStateDir(join(dir, 'state'))
  if (options.record !== undefined) await saveApplyRecord(state, options.record)
  for (const service of options.consented ?? []) await grantConsent(rootDir, service, options.record?.epoch ?? 1)
  const phases: Harness['phases'] = []
  const errors: BootstrapperError[] = []
  const notices: string[] = []
  const retired: Plan[] = []
  const applier = new K3sApplier({
    nodeId: key.nodeId,
    nodeKey: key,
    sealingKey: SEALING_KEY,
    root: rootDir,
    dryRun: false,
    node: { interface: 'lo', subnet: '127.0.0.0/8' },
    blocks: k3sBlocksOf(undefined, undefined),
    apply: { acceptLocalNodeIp: true, ...(options.apply ?? {}) },
    state,
    ledger: ledger.port(),
    backoff: { initialMs: 20, maxMs: 100 },
    reports: {
      phase: (phase, waitingFor, epoch) => { phases.push({ phase, waitingFor, epoch }) },
      applied: () => {},
      clusterReady: () => {},
      nodeReady: async () => {},
      error: (error) => { errors.push(error) },
      notice: (message) => { notices.push(message) },
      retired: (plan) => { retired.push(plan) }
    }
  })
  await applier.load()
  let stopped = false
  const stop = async (): Promise<void> => {
    if (stopped) return
    stopped = true
    await applier.stop()
    await state.close()
  }
  cleanups.push(stop)
  const readCalls = async (): Promise<string[]> => {
    const text = await readFile(join(rootDir, 'standin', 'calls.log'), 'utf8').catch(() => '')
    return text.split('\n').filter(line => line !== '')
  }
  return { applier, ledger, root: rootDir, state, phases, errors, notices, retired, calls: readCalls, stop, dir }
}

async function installGateForTest (rootDir: string): Promise<void> {
  await installGate(rootDir, AbortSignal.timeout(5_000))
}

function factsFor (index: number): NodeFacts {
  return { labels: {}, nodeIp: `127.0.0.${31 + index}`, hostname: `box-${index}` }
}

function serverRecord (nodeId: NodeId, fields: Partial<ApplyRecord> = {}): ApplyRecord {
  return {
    epoch: 1,
    nodeId,
    role: 'control-plane',
    join: { kind: 'join', server: '127.0.0.31', viaVip: false },
    filesHash: 'a'.repeat(64),
    started: true,
    ranService: 'k3s',
    onReadyRan: false,
    ...fields
  }
}

// ---- pure pieces ----

describe('join sequencing in later epochs', () => {
  const ids = { cp1: 'cp1', cp2: 'cp2', cp3: 'cp3', w1: 'w1', w2: 'w2' }
  const ips: Record<string, string> = { cp1: '10.0.0.1', cp2: '10.0.0.2', cp3: '10.0.0.3', w1: '10.0.0.4', w2: '10.0.0.5' }
  const secrets = { serverTokenHash: '', agentTokenHash: '', serverTokenSealed: {}, agentTokenSealed: new Uint8Array() }
  // Epoch 2 replaced the init node cp1 with w1, appended last.
  const replacedInit: Plan = { clusterId: 'c', epoch: 2, init: ids.cp1, controlPlanes: ['cp2', 'cp3', 'w1'], workers: ['w2'], replaced: ['cp1'], decidedUnder: { expect: 3, controlPlanes: 3 }, secrets, notes: [] }

  function step (plan: Plan, nodeId: string, ready: string[], extra: Partial<JoinInput> = {}): ReturnType<typeof nextJoinStep> {
    return nextJoinStep({ plan, nodeId, readyServers: new Set(ready), nodeIpOf: id => ips[id], caHashKnown: true, vipAnswers: false, ...extra })
  }

  it('a replaced init node runs no cluster-init: back, it joins as a worker (S1)', () => {
    expect(step(replacedInit, 'cp1', ['cp2'])).toEqual({ kind: 'join', server: '10.0.0.2', viaVip: false })
  })

  it('the init node replaced before any server was Ready: the node named in its place initialises, everyone joins through it', () => {
    const named: Plan = { ...replacedInit, reinit: 'cp2' }
    expect(step(named, 'cp2', [])).toEqual({ kind: 'init' })
    expect(step(named, 'cp3', []).kind).toBe('wait')
    expect(step(named, 'cp3', ['cp2'])).toEqual({ kind: 'join', server: '10.0.0.2', viaVip: false })
    expect(step(named, 'w1', ['cp2', 'cp3'])).toEqual({ kind: 'join', server: '10.0.0.2', viaVip: false })
    expect(step(named, 'cp1', ['cp2'])).toEqual({ kind: 'join', server: '10.0.0.2', viaVip: false }) // back, a worker
  })

  it('the first server in order when the init node is gone joins any Ready server; the next still waits for the one before it', () => {
    expect(step(replacedInit, 'cp2', []).kind).toBe('wait')
    expect(step(replacedInit, 'cp2', ['cp3'])).toEqual({ kind: 'join', server: '10.0.0.3', viaVip: false })
    const waiting = step(replacedInit, 'w1', ['cp2'])
    expect(waiting.kind === 'wait' ? waiting.waitingFor : '').toMatch(/control plane 2 .*one at a time/)
    expect(step(replacedInit, 'w1', ['cp2', 'cp3'])).toEqual({ kind: 'join', server: '10.0.0.2', viaVip: false })
  })

  it('workers join once any server is Ready, even with the init node gone', () => {
    expect(step(replacedInit, 'w2', []).kind).toBe('wait')
    expect(step(replacedInit, 'w2', ['cp3'])).toEqual({ kind: 'join', server: '10.0.0.3', viaVip: false })
  })

  it('a server waits for gone servers to leave Kubernetes; a worker does not', () => {
    const waiting = step(replacedInit, 'w1', ['cp2', 'cp3'], { awaitingRemoval: ['cp1'] })
    expect(waiting.kind === 'wait' ? waiting.waitingFor : '').toMatch(/delete cp1 from Kubernetes/)
    expect(step(replacedInit, 'w2', ['cp2'], { awaitingRemoval: ['cp1'] }).kind).toBe('join')
  })

  it('the successor of a single server that leaves joins through it; a worker never does', () => {
    const handedOver: Plan = { clusterId: 'c', epoch: 2, init: 'cp1', controlPlanes: ['w1'], workers: ['w2'], retired: ['cp1'], decidedUnder: { expect: 3, controlPlanes: 3 }, secrets, notes: [] }
    expect(step(handedOver, 'w1', [], { retiringServers: ['cp1'] })).toEqual({ kind: 'join', server: '10.0.0.1', viaVip: false })
    expect(step(handedOver, 'w1', []).kind).toBe('wait')
    expect(step(handedOver, 'w2', [], { retiringServers: ['cp1'] }).kind).toBe('wait')
  })
})

describe('who deletes gone nodes from Kubernetes', () => {
  const secrets = { serverTokenHash: '', agentTokenHash: '', serverTokenSealed: {}, agentTokenSealed: new Uint8Array() }
  const plan: Plan = { clusterId: 'c', epoch: 3, init: 'a', controlPlanes: ['b', 'c', 'd'], workers: ['e'], replaced: ['a'], retired: ['f', 'g'], decidedUnder: { expect: 3, controlPlanes: 3 }, secrets, notes: [] }

  function view (entries: string[], dead: string[] = []): { lookup: (key: string) => Uint8Array | undefined, alive: (id: string) => boolean } {
    const held = new Set(entries)
    return { lookup: key => held.has(key) ? new Uint8Array([1]) : undefined, alive: id => !dead.includes(id) }
  }

  it('a replaced server is pending until someone published its removal; a retired node once it said it stopped', () => {
    expect(pendingRemovals(plan, view([]))).toEqual(['a'])
    expect(pendingRemovals(plan, view([`node/g/${STOPPED_ENTRY_NAME}`]))).toEqual(['a', 'g'])
    expect(pendingRemovals(plan, view([`node/c/${removedEntryName('a')}`, `node/g/${STOPPED_ENTRY_NAME}`, `node/f/${removedEntryName('g')}`]))).toEqual([])
  })

  it('a new server waits only for gone servers: replaced ones, and retired ones that ran a server', () => {
    const stopped = [`node/f/${STOPPED_ENTRY_NAME}`, `node/g/${STOPPED_ENTRY_NAME}`]
    expect(pendingRemovals(plan, view(stopped))).toEqual(['a', 'f', 'g'])
    expect(serverRemovalsPending(plan, view([...stopped, `node/g/${SERVER_READY_ENTRY_NAME}`]))).toEqual(['a', 'g'])
  })

  it('the lowest live server that has been Ready is the one deleter', () => {
    expect(chooseRemover(plan, view([]))).toBeUndefined() // nobody has run a server yet
    const ready = ['b', 'c', 'd'].map(id => `node/${id}/${SERVER_READY_ENTRY_NAME}`)
    expect(chooseRemover(plan, view(ready))).toBe('b')
    expect(chooseRemover(plan, view(ready, ['b']))).toBe('c')
    expect(chooseRemover(plan, view(ready.slice(1)))).toBe('c') // b was only just promoted
  })

  it('a retiring server is a join target only while it runs', () => {
    const base = [`node/f/${SERVER_READY_ENTRY_NAME}`, `node/g/${SERVER_READY_ENTRY_NAME}`]
    expect(retiringServers(plan, view(base))).toEqual(['f', 'g'])
    expect(retiringServers(plan, view([...base, `node/f/${STOPPED_ENTRY_NAME}`], ['g']))).toEqual([])
  })
})

describe('the apply record', () => {
  it('reads a record of an earlier version as running the service of its role', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2pb-record-'))
    cleanups.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const state = await openStateDir(dir)
    cleanups.push(async () => { await state.close() })
    const { ranService: _, ...old } = serverRecord('n1')
    await state.writeFile(APPLY_RECORD_FILE, JSON.stringify({ ...old, ranBefore: true }))
    expect((await loadApplyRecord(state, () => {}))?.ranService).toBe('k3s')
    await state.writeFile(APPLY_RECORD_FILE, JSON.stringify({ ...old, role: 'worker', started: false }))
    expect((await loadApplyRecord(state, () => {}))?.ranService).toBeNull()
    await saveApplyRecord(state, serverRecord('n1', { ranService: null, retiredEpoch: 4 }))
    expect(await loadApplyRecord(state, () => {})).toMatchObject({ ranService: null, retiredEpoch: 4 })
  })
})

// ---- the applier on its own: retirement and the deletion duty ----

describe('retirement, against the applier', () => {
  const self = keyOf(1)
  const successor = keyOf(2)
  const others = [keyOf(3), keyOf(4)]
  const retiring = planOf({ epoch: 2, init: others[0]?.nodeId ?? '', controlPlanes: [...others.map(key => key.nodeId), successor.nodeId], workers: [], retired: [self.nodeId] })

  function ledgerFor (): TestLedger {
    const ledger = new TestLedger(self.nodeId)
    ;[self, successor, ...others].forEach((key, index) => ledger.facts.set(key.nodeId, factsFor(index)))
    for (const key of others) ledger.statuses.set(key.nodeId, { phase: 'ready', epoch: 2 })
    return ledger
  }

  it('a server that left waits for its successor, drains itself, deletes its Node, stops and disables k3s, once', async () => {
    const ledger = ledgerFor()
    const first = await harness(self, ledger, { record: serverRecord(self.nodeId) })
    first.applier.setPlan(retiring)
    // The successor is not Ready: the leaving server keeps running and says why.
    await waitFor(() => first.phases.some(({ waitingFor }) => waitingFor.includes('to be Ready: this server left')), { timeoutMs: 5_000, what: 'the leaving server to wait for its successor' })
    await first.applier.settled()
    expect(await first.calls()).toEqual([])
    expect(first.applier.retired).toBeNull()

    ledger.statuses.set(successor.nodeId, { phase: 'ready', epoch: 2 })
    first.applier.poke()
    const plan = await first.applier.waitForRetired({ signal: AbortSignal.timeout(5_000) })
    expect(plan.epoch).toBe(2)
    const name = nodeNameFor(self.nodeId, 'box-0')
    expect(await first.calls()).toEqual([
      `k3s kubectl drain ${name} --ignore-daemonsets --delete-emptydir-data`,
      `k3s kubectl delete node ${name} --ignore-not-found`,
      'systemctl disable --now k3s'
    ])
    expect(ledger.has(self.nodeId, STOPPED_ENTRY_NAME)).toBe(true)
    expect(ledger.has(self.nodeId, removedEntryName(self.nodeId))).toBe(true)
    expect(first.retired).toHaveLength(1)
    expect(first.phases.at(-1)).toMatchObject({ phase: 'applied', epoch: 2 })
    expect(await loadApplyRecord(first.state, () => {})).toMatchObject({ retiredEpoch: 2, ranService: null, started: false })
    await first.stop()

    // A restart of the agent repeats nothing and knows at once that the node left.
    const second = await harness(self, ledger, { dir: first.dir })
    second.applier.setPlan(retiring)
    await second.applier.waitForRetired({ signal: AbortSignal.timeout(5_000) })
    await second.applier.settled()
    expect(await second.calls()).toHaveLength(3)
    expect(second.retired).toHaveLength(1)
  })

  it('a failed drain is reported, not fatal: the server still stops', async () => {
    const ledger = ledgerFor()
    ledger.statuses.set(successor.nodeId, { phase: 'ready', epoch: 2 })
    const h = await harness(self, ledger, { record: serverRecord(self.nodeId) })
    await mkdir(join(h.root, 'standin'), { recursive: true })
    await writeFile(join(h.root, 'standin', 'fail-drain'), '')
    h.applier.setPlan(retiring)
    await h.applier.waitForRetired({ signal: AbortSignal.timeout(5_000) })
    expect(h.errors.map(error => error.message).join('\n')).toMatch(/drain .*unable to drain.*stops anyway/)
    expect((await h.calls()).at(-1)).toBe('systemctl disable --now k3s')
  })

  it('a worker that left stops its agent without a drain; a failed stop is retried', async () => {
    const ledger = ledgerFor()
    const workerRecord = serverRecord(self.nodeId, { role: 'worker', ranService: 'k3s-agent' })
    const h = await harness(self, ledger, { record: workerRecord })
    await mkdir(join(h.root, 'standin'), { recursive: true })
    await writeFile(join(h.root, 'standin', 'fail-start'), '') // the stand-in systemctl fails every call
    h.applier.setPlan(retiring)
    await waitFor(() => h.errors.some(error => error.code === 'BOOTSTRAP_START_FAILED'), { timeoutMs: 5_000, what: 'the failed stop to be reported' })
    expect(h.applier.retired).toBeNull()
    await rm(join(h.root, 'standin', 'fail-start'))
    await h.applier.waitForRetired({ signal: AbortSignal.timeout(5_000) })
    const lines = await h.calls()
    expect(lines.every(line => line === 'systemctl disable --now k3s-agent')).toBe(true)
    expect(lines.length).toBeGreaterThanOrEqual(2)
  })
})

describe('deleting a replaced server from Kubernetes, against the applier', () => {
  const self = keyOf(11)
  const peer = keyOf(12)
  const dead = keyOf(13)
  const promoted = keyOf(14)
  // Epoch 2 replaced `dead`; this node is the init server and starts k3s for it (fresh agent).
  const plan = planOf({ epoch: 2, init: self.nodeId, controlPlanes: [self.nodeId, peer.nodeId, promoted.nodeId], workers: [], replaced: [dead.nodeId] })
  const deadName = nodeNameFor(dead.nodeId, 'box-2')

  function ledgerFor (): TestLedger {
    const ledger = new TestLedger(self.nodeId)
    ;[self, peer, dead, promoted].forEach((key, index) => ledger.facts.set(key.nodeId, factsFor(index)))
    return ledger
  }

  it('the lowest live Ready server deletes it once it is Ready itself, retries a failure, and publishes it', async () => {
    const ledger = ledgerFor()
    // The peer ran a server too: whichever id is lower deletes; this test makes that one the peer first.
    ledger.set(peer.nodeId, SERVER_READY_ENTRY_NAME, '1')
    const selfFirst = self.nodeId < peer.nodeId
    if (selfFirst) ledger.dead.add(peer.nodeId)
    const h = await harness(self, ledger)
    await mkdir(join(h.root, 'standin'), { recursive: true })
    await writeFile(join(h.root, 'standin', 'fail-delete'), '')
    h.applier.setPlan(plan)
    await waitFor(() => ledger.has(self.nodeId, SERVER_READY_ENTRY_NAME), { timeoutMs: 5_000, what: 'this server to be Ready' })
    if (!selfFirst) {
      // A lower live server that ran is the deleter: this one does nothing until it is seen dead.
      await h.applier.settled()
      expect((await h.calls()).filter(line => line.includes('delete node'))).toEqual([])
      ledger.dead.add(peer.nodeId)
      h.applier.poke()
    }
    await waitFor(() => h.errors.some(error => error.message.includes('still counts as an etcd member')), { timeoutMs: 5_000, what: 'the failed deletion to be reported' })
    expect(ledger.has(self.nodeId, removedEntryName(dead.nodeId))).toBe(false)
    await rm(join(h.root, 'standin', 'fail-delete'))
    await waitFor(() => ledger.has(self.nodeId, removedEntryName(dead.nodeId)), { timeoutMs: 5_000, what: 'the deletion to be retried and published' })
    const deletions = (await h.calls()).filter(line => line.includes('delete node'))
    expect(deletions.every(line => line === `k3s kubectl delete node ${deadName} --ignore-not-found`)).toBe(true)
    expect(deletions.length).toBeGreaterThanOrEqual(2)
    expect(h.notices.some(notice => notice.includes(deadName))).toBe(true)
    // Done is done: more pokes delete nothing more.
    const count = deletions.length
    h.applier.poke()
    await h.applier.settled()
    expect((await h.calls()).filter(line => line.includes('delete node'))).toHaveLength(count)
  })

  it('a removal done in this run is not run again before its publication reaches the ledger; after a restart without it, it is', async () => {
    const ledger = ledgerFor()
    ledger.dead.add(peer.nodeId)
    ledger.defer = name => name.startsWith('removed-')
    const h = await harness(self, ledger)
    h.applier.setPlan(plan)
    const deletions = async (calls: () => Promise<string[]>): Promise<string[]> => (await calls()).filter(line => line.includes('delete node'))
    await waitFor(async () => (await deletions(h.calls)).length > 0, { timeoutMs: 5_000, what: 'the deletion' })
    await h.applier.settled()
    // Ledger changes poke the applier while the publication is still on its way: nothing runs twice.
    for (let round = 0; round < 3; round++) {
      h.applier.poke()
      await h.applier.settled()
    }
    expect(await deletions(h.calls)).toEqual([`k3s kubectl delete node ${deadName} --ignore-not-found`])
    expect(ledger.pending.map(([name]) => name)).toEqual([removedEntryName(dead.nodeId)])

    // The agent stops before the publication was kept (a crash): the next run deletes again, then publishes.
    await h.stop()
    ledger.pending.length = 0
    ledger.defer = () => false
    const again = await harness(self, ledger, { dir: h.dir })
    again.applier.setPlan(plan)
    await waitFor(() => ledger.has(self.nodeId, removedEntryName(dead.nodeId)), { timeoutMs: 5_000, what: 'the removal to be run and published again' })
    expect(await deletions(again.calls)).toHaveLength(2)
  })

  /** The stand-in etcd's member list: "<hex id> <name> <peer URL>" a line. */
  async function etcdMembers (rootDir: string, lines: string[]): Promise<void> {
    await mkdir(join(rootDir, 'standin'), { recursive: true })
    await writeFile(join(rootDir, 'standin', 'etcd-members'), lines.map(line => `${line}\n`).join(''))
  }

  async function etcdMembersOf (rootDir: string): Promise<string[]> {
    return (await readFile(join(rootDir, 'standin', 'etcd-members'), 'utf8')).split('\n').filter(line => line !== '')
  }

  // Issue finding 3: the dead server joined etcd but never registered its Node, so deleting the
  // Node (--ignore-not-found) removes nothing, while its member still counts toward the quorum.
  it('a member without a Node is removed by its id, and the removal is published only once etcd no longer lists it', async () => {
    const ledger = ledgerFor()
    ledger.dead.add(peer.nodeId)
    const h = await harness(self, ledger)
    const deadIp = factsFor(2).nodeIp ?? ''
    await etcdMembers(h.root, ['a1 self-0123abcd https://127.0.0.31:2380', `b2 - https://${deadIp}:2380`])
    await writeFile(join(h.root, 'standin', 'fail-member-remove'), '')
    h.applier.setPlan(plan)
    await waitFor(() => h.errors.some(error => error.message.includes('member remove b2')), { timeoutMs: 5_000, what: 'the failed member removal to be reported' })
    expect(h.errors.find(error => error.message.includes('member remove b2'))?.message).toMatch(/still counts as an etcd member and no new server joins before it is gone/)
    expect(ledger.has(self.nodeId, removedEntryName(dead.nodeId))).toBe(false)

    await rm(join(h.root, 'standin', 'fail-member-remove'))
    await waitFor(() => ledger.has(self.nodeId, removedEntryName(dead.nodeId)), { timeoutMs: 5_000, what: 'the member removal to be retried and published' })
    expect(await etcdMembersOf(h.root)).toEqual(['a1 self-0123abcd https://127.0.0.31:2380'])
    const calls = await h.calls()
    const last = calls.lastIndexOf('etcdctl member remove b2')
    expect(last).toBeGreaterThan(calls.lastIndexOf(`k3s kubectl delete node ${deadName} --ignore-not-found`))
    expect(calls.slice(last + 1)).toContain('etcdctl member list -w json') // confirmed after the removal
    expect(h.notices.some(notice => notice.includes('removed etcd member b2 (never started)'))).toBe(true)
  })

  it('a member k3s dropped with the Node needs no removal by id', async () => {
    const ledger = ledgerFor()
    ledger.dead.add(peer.nodeId)
    const h = await harness(self, ledger)
    // k3s names a member after its node name and 8 hex digits; the stand-in k3s drops it with the Node.
    await etcdMembers(h.root, [`c3 ${deadName}-89abcdef https://10.9.9.9:2380`])
    h.applier.setPlan(plan)
    await waitFor(() => ledger.has(self.nodeId, removedEntryName(dead.nodeId)), { timeoutMs: 5_000, what: 'the removal to be published' })
    expect((await h.calls()).filter(line => line.startsWith('etcdctl member remove'))).toEqual([])
    expect(await etcdMembersOf(h.root)).toEqual([])
  })

  it('without etcdctl it says what to install, and publishes nothing; apply.etcdctl false goes by the Node alone', async () => {
    const ledger = ledgerFor()
    ledger.dead.add(peer.nodeId)
    const missing = await harness(self, ledger, { apply: { etcdctl: ['etcdctl-that-is-not-installed'] } })
    missing.applier.setPlan(plan)
    await waitFor(() => missing.errors.some(error => error.message.includes('apt-get install etcd-client')), { timeoutMs: 5_000, what: 'the missing etcdctl to be reported' })
    expect(ledger.has(self.nodeId, removedEntryName(dead.nodeId))).toBe(false)
    await missing.stop()

    const other = ledgerFor()
    other.dead.add(peer.nodeId)
    const off = await harness(self, other, { apply: { etcdctl: false } })
    off.applier.setPlan(plan)
    await waitFor(() => other.has(self.nodeId, removedEntryName(dead.nodeId)), { timeoutMs: 5_000, what: 'the removal to be published' })
    expect((await off.calls()).filter(line => line.startsWith('etcdctl'))).toEqual([])
  })

  it('a dry run deletes nothing and waits for nothing', async () => {
    const phases: string[] = []
    const { applier, root } = await dryRunApplier(promoted, ledgerFor(), (phase) => { phases.push(phase) })
    applier.setPlan(plan)
    await waitFor(() => phases.includes('applied'), { timeoutMs: 5_000, what: 'the promoted server to render in a dry run' })
    const config = parse(await readFile(join(root, CONFIG), 'utf8')) as Record<string, unknown>
    expect(config.server).toBe(`https://${factsFor(0).nodeIp ?? ''}:6443`)
    expect(await exists(join(root, 'standin'))).toBe(false) // nothing ran
  })
})

describe('the init node replaced before the cluster formed, in a dry run (issue finding 5)', () => {
  const [a, b, c, d] = [keyOf(61), keyOf(62), keyOf(63), keyOf(64)]
  const keys = [a, b, c, d]
  // Epoch 2 replaced the init node a right after the commit; d took its place.
  const stuck = planOf({ epoch: 2, init: a.nodeId, controlPlanes: [b.nodeId, c.nodeId, d.nodeId], workers: [], replaced: [a.nodeId] })
  const named = planOf({ epoch: 2, init: a.nodeId, controlPlanes: [b.nodeId, c.nodeId, d.nodeId], workers: [], replaced: [a.nodeId], reinit: b.nodeId })

  /** Renders `key`'s output for `plan` in a dry run; the config, or null with what it waits for. */
  async function dryRender (key: NodeKey, plan: Plan): Promise<{ config: Record<string, unknown> | null, waitingFor: string }> {
    const ledger = new TestLedger(key.nodeId)
    keys.forEach((other, index) => ledger.facts.set(other.nodeId, factsFor(index)))
    const phases: Array<{ phase: string, waitingFor: string }> = []
    const { applier, root } = await dryRunApplier(key, ledger, (phase, waitingFor) => { phases.push({ phase, waitingFor }) })
    applier.setPlan(plan)
    await applier.settled()
    const text = await readFile(join(root, CONFIG), 'utf8').catch(() => null)
    return { config: text === null ? null : parse(text) as Record<string, unknown>, waitingFor: phases.at(-1)?.waitingFor ?? '' }
  }

  it('without a node named to initialise, no two servers join each other: the first waits, the rest join one before them', async () => {
    const first = await dryRender(b, stuck)
    expect(first.config).toBeNull() // it used to join c, which joined b: a circle
    expect(first.waitingFor).toMatch(/the plan names neither/)
    expect((await dryRender(c, stuck)).config?.server).toBe(`https://${factsFor(1).nodeIp ?? ''}:6443`)
  })

  it('with one, that server initialises and every other node, the replaced init node too, joins through it', async () => {
    const initialiser = await dryRender(b, named)
    expect(initialiser.config?.['cluster-init']).toBe(true)
    expect(initialiser.config?.server).toBeUndefined()
    for (const key of [c, d, a]) {
      const { config } = await dryRender(key, named)
      expect(config?.['cluster-init'], key.nodeId).toBeUndefined()
      expect(config?.server, key.nodeId).toBe(`https://${factsFor(1).nodeIp ?? ''}:6443`)
    }
  })
})

describe('a running node whose join target left the control plane, against the applier', () => {
  const self = keyOf(21)
  const init = keyOf(22)
  const dead = keyOf(23)
  const promoted = keyOf(24)
  const plan = planOf({ epoch: 2, init: init.nodeId, controlPlanes: [init.nodeId, promoted.nodeId, keyOf(25).nodeId], workers: [self.nodeId], replaced: [dead.nodeId] })

  it('gets a config naming a live server, without a restart; a later epoch that changes nothing writes nothing', async () => {
    const ledger = new TestLedger(self.nodeId)
    ;[self, init, dead, promoted, keyOf(25)].forEach((key, index) => ledger.facts.set(key.nodeId, factsFor(index)))
    ledger.set(init.nodeId, 'k3s-hash', k3sBlocksOf(undefined, undefined).clusterHash)
    ledger.statuses.set(promoted.nodeId, { phase: 'ready', epoch: 2 })
    // It joined through the server that epoch 2 replaced.
    const record = serverRecord(self.nodeId, { role: 'worker', ranService: 'k3s-agent', caHash: 'c'.repeat(64), join: { kind: 'join', server: factsFor(2).nodeIp ?? '', viaVip: false } })
    // Its agent runs since this boot: the agent consented to it (a fresh consent dir is a reboot).
    const h = await harness(self, ledger, { record, apply: { readyCommand: ['true'] }, consented: ['k3s-agent'] })
    h.applier.setPlan(plan)
    await waitFor(() => h.phases.some(({ phase, epoch }) => phase === 'ready' && epoch === 2), { timeoutMs: 5_000, what: 'the worker to be Ready for epoch 2' })
    const config = parse(await readFile(join(h.root, CONFIG), 'utf8')) as Record<string, unknown>
    expect(config.server).toBe(`https://${factsFor(3).nodeIp ?? ''}:6443`) // the Ready server
    expect(await h.calls()).toEqual([]) // no restart, no start
    expect(h.notices.some(notice => notice.includes('not restarted'))).toBe(true)
    const saved = await loadApplyRecord(h.state, () => {})
    expect(saved).toMatchObject({ epoch: 2, started: true, ranService: 'k3s-agent', join: { server: factsFor(3).nodeIp } })

    const later: Plan = { ...plan, epoch: 3 }
    const writes = h.notices.length
    h.applier.setPlan(later)
    await waitFor(() => h.phases.some(({ phase, epoch }) => phase === 'ready' && epoch === 3), { timeoutMs: 5_000, what: 'the worker to be Ready for epoch 3' })
    expect(await h.calls()).toEqual([])
    expect(h.notices).toHaveLength(writes)
    expect(await loadApplyRecord(h.state, () => {})).toMatchObject({ epoch: 3, filesHash: saved?.filesHash, join: saved?.join })
  })
})

// ---- the start gate: k3s starts only when the agent says so ----

describe('the start gate, pure', () => {
  const secrets = { serverTokenHash: '', agentTokenHash: '', serverTokenSealed: {}, agentTokenSealed: new Uint8Array() }
  const three: Plan = { clusterId: 'c', epoch: 1, init: 'cp1', controlPlanes: ['cp1', 'cp2', 'cp3'], workers: ['w1'], decidedUnder: { expect: 4, controlPlanes: 3 }, secrets, notes: [] }
  const five: Plan = { ...three, controlPlanes: ['cp1', 'cp2', 'cp3', 'cp4', 'cp5'] }
  const single: Plan = { ...three, controlPlanes: ['cp1'] }

  it.each([
    ['a single server (nobody can replace it)', single, [], {}, undefined],
    ['3 servers, none heard since this start', three, [], {}, 'heard from 2 of the plan\'s 3 control planes (1 so far)'],
    ['3 servers, one other heard', three, ['cp2'], {}, undefined],
    ['3 servers, the one heard acts on a later epoch', three, ['cp2'], { cp2: 2 }, 'acts on a later plan than epoch 1'],
    ['5 servers, one other heard', five, ['cp4'], {}, 'heard from 3 of the plan\'s 5 control planes (2 so far)'],
    ['5 servers, two others heard', five, ['cp4', 'cp5'], { cp4: 1 }, undefined]
  ])('%s', (_title, plan, heard, epochs, hold) => {
    const statuses: Record<string, number> = epochs
    const result = bootStartHold({
      plan,
      nodeId: 'cp1',
      heard: id => (heard as string[]).includes(id),
      statusOf: id => statuses[id] === undefined ? null : { phase: 'ready', epoch: statuses[id] ?? 0 }
    })
    if (hold === undefined) expect(result).toBeUndefined()
    else expect(result).toContain(hold)
  })
})

describe('the start gate, against the applier and the stand-in systemctl', () => {
  const self = keyOf(51)
  const peers = [keyOf(52), keyOf(53), keyOf(54)]
  const [p2, p3, p4] = peers
  if (p2 === undefined || p3 === undefined || p4 === undefined) throw new Error('no peers')
  const plan = planOf({ epoch: 1, init: self.nodeId, controlPlanes: [self.nodeId, p2.nodeId, p3.nodeId], workers: [p4.nodeId] })

  function ledgerFor (): TestLedger {
    const ledger = new TestLedger(self.nodeId)
    ;[self, ...peers].forEach((key, index) => ledger.facts.set(key.nodeId, factsFor(index)))
    return ledger
  }

  /** What systemd does to the stand-in at boot: /run emptied, nothing runs, enabled units started. */
  async function reboot (rootDir: string): Promise<void> {
    await rm(join(rootDir, 'run'), { recursive: true, force: true })
    for (const service of ['k3s', 'k3s-agent']) {
      await rm(join(rootDir, 'standin', `${service}.running`), { force: true })
      if (await exists(join(rootDir, 'standin', `${service}.enabled`))) await systemctl(rootDir, ['start', service])
    }
  }

  async function systemctl (rootDir: string, args: string[]): Promise<void> {
    await execFileAsync(join(STANDINS, 'systemctl'), args, { env: { ...process.env, P2PB_ROOT: rootDir, P2PB_NODE_ID: 'systemd' } })
  }

  const running = async (rootDir: string, service: string): Promise<boolean> => await exists(join(rootDir, 'standin', `${service}.running`))

  it('starts (never enables) k3s behind a drop-in; after a reboot a unit enabled by hand stays down until a majority of the control planes is heard', async () => {
    const ledger = ledgerFor()
    const first = await harness(self, ledger)
    first.applier.setPlan(plan)
    await waitFor(() => first.phases.some(({ phase }) => phase === 'ready'), { timeoutMs: 10_000, what: 'the init server to be Ready' })
    expect(await first.calls()).toEqual(expect.arrayContaining(['systemctl daemon-reload', 'systemctl start k3s']))
    expect((await first.calls()).filter(line => /enable/.test(line))).toEqual([])
    for (const service of ['k3s', 'k3s-agent']) {
      const dropIn = await readFile(join(first.root, `etc/systemd/system/${service}.service.d/${GATE_DROP_IN_NAME}`), 'utf8')
      expect(dropIn).toContain(`ExecCondition=/bin/sh -c 'test -e ${CONSENT_DIR}/${service}'`)
    }
    expect(await exists(join(first.root, CONSENT_DIR, 'k3s'))).toBe(true)
    await first.stop()

    // Someone enables k3s by hand (or the install script did); the machine reboots: systemd skips it.
    await systemctl(first.root, ['enable', 'k3s'])
    await reboot(first.root)
    expect(await running(first.root, 'k3s')).toBe(false)
    expect((await first.calls()).at(-1)).toBe('skipped k3s')

    // The agent after the reboot holds the plan of before; it has heard no other control plane yet.
    ledger.unheard.add(p2.nodeId).add(p3.nodeId)
    const startsBefore = (await first.calls()).filter(line => line === 'systemctl start k3s').length
    const second = await harness(self, ledger, { dir: first.dir })
    second.applier.setPlan(plan)
    await waitFor(() => second.phases.some(({ waitingFor }) => waitingFor.startsWith('k3s held')), { timeoutMs: 5_000, what: 'the agent to hold k3s' })
    await second.applier.settled()
    expect(second.notices.filter(notice => notice.startsWith('k3s held'))).toHaveLength(1)
    expect((await second.calls()).filter(line => line === 'systemctl start k3s')).toHaveLength(startsBefore)
    expect(await running(second.root, 'k3s')).toBe(false)

    // One other server answers: 2 of 3. The agent consents and starts k3s (a start, not a restart).
    ledger.unheard.delete(p2.nodeId)
    await waitFor(async () => await running(second.root, 'k3s'), { timeoutMs: 10_000, what: 'k3s to start once a majority is heard' })
    const calls = await second.calls()
    expect(calls.filter(line => line === 'systemctl start k3s')).toHaveLength(startsBefore + 1)
    expect(calls.filter(line => /restart|enable --now/.test(line))).toEqual([])
    expect(await exists(join(second.root, CONSENT_DIR, 'k3s'))).toBe(true)
  })

  it('a replaced init node back after a reboot starts nothing, stops its k3s once, withdraws its consent, and systemd keeps it down (S1)', async () => {
    const ledger = ledgerFor()
    ledger.set(p2.nodeId, 'k3s-hash', k3sBlocksOf(undefined, undefined).clusterHash)
    // Epoch 2 replaced this node (the initialiser) while it was down.
    const replaced = planOf({ epoch: 2, init: self.nodeId, controlPlanes: [p2.nodeId, p3.nodeId, p4.nodeId], workers: [], replaced: [self.nodeId] })
    const h = await harness(self, ledger, { record: serverRecord(self.nodeId, { join: { kind: 'init' } }), consented: ['k3s'] })
    await mkdir(join(h.root, SERVER_DIR, 'db'), { recursive: true })
    await installGateForTest(h.root)
    h.applier.setPlan(replaced)
    await waitFor(() => h.errors.some(error => error.message.includes('apply.clean-replaced-server')), { timeoutMs: 5_000, what: 'the stale server to be reported' })
    await h.applier.settled()
    // The stop is sent whether k3s runs or not (the agent cannot tell a reboot from a partition).
    expect(await h.calls()).toEqual(['systemctl disable --now k3s'])
    expect(await exists(join(h.root, CONSENT_DIR, 'k3s'))).toBe(false)
    expect(h.phases.at(-1)?.waitingFor).toContain('k3s must not start as a server again: k3s is held')

    // Enabled or not, started by hand or at boot: systemd skips it.
    await systemctl(h.root, ['enable', 'k3s'])
    await reboot(h.root)
    await systemctl(h.root, ['start', 'k3s'])
    expect(await running(h.root, 'k3s')).toBe(false)

    // The agent restarts: the stop was recorded, so it is not sent again.
    await h.stop()
    const again = await harness(self, ledger, { dir: h.dir })
    again.applier.setPlan(replaced)
    await waitFor(() => again.errors.some(error => error.message.includes('apply.clean-replaced-server')), { timeoutMs: 5_000, what: 'the stale server to be reported again' })
    await again.applier.settled()
    expect((await again.calls()).filter(line => line.startsWith('systemctl disable'))).toHaveLength(1)
  })

  it('a server cut off while running learns it was replaced: k3s is stopped, systemd\'s own restarts are skipped, and the status says why', async () => {
    const ledger = ledgerFor()
    ledger.set(p2.nodeId, 'k3s-hash', k3sBlocksOf(undefined, undefined).clusterHash)
    const h = await harness(self, ledger)
    h.applier.setPlan(plan)
    await waitFor(() => h.phases.some(({ phase }) => phase === 'ready'), { timeoutMs: 10_000, what: 'the server to be Ready' })
    expect(await running(h.root, 'k3s')).toBe(true)

    // A partition: the others replaced this node; the plan reaches it while its k3s still runs.
    const replaced = planOf({ epoch: 2, init: self.nodeId, controlPlanes: [p2.nodeId, p3.nodeId, p4.nodeId], workers: [], replaced: [self.nodeId] })
    const before = (await h.calls()).length
    h.applier.setPlan(replaced)
    await waitFor(async () => !(await running(h.root, 'k3s')), { timeoutMs: 10_000, what: 'k3s to be stopped' })
    await waitFor(() => h.errors.some(error => error.message.includes('apply.clean-replaced-server')), { timeoutMs: 5_000, what: 'the stale server to be reported' })
    await h.applier.settled()
    expect((await h.calls()).slice(before)).toEqual(['systemctl disable --now k3s'])
    expect(await exists(join(h.root, CONSENT_DIR, 'k3s'))).toBe(false)
    expect(h.notices.some(notice => notice.startsWith('k3s stopped: epoch 2 replaced this node'))).toBe(true)
    expect(h.phases.at(-1)?.waitingFor).toContain('k3s is held')
    // Its data stays (cleanup is opt-in).
    expect(await exists(join(h.root, SERVER_DIR, 'db'))).toBe(true)

    // systemd restarting the unit on its own (Restart=always): ExecCondition runs again and skips it.
    await systemctl(h.root, ['restart', 'k3s'])
    expect(await running(h.root, 'k3s')).toBe(false)
    expect((await h.calls()).at(-1)).toBe('skipped k3s')
  })
})

describe('a server that started joining an init node that was Ready alone, then died (abandoned cluster)', () => {
  const [dead, self, other, promoted] = [keyOf(71), keyOf(72), keyOf(73), keyOf(74)]
  const clusterHash = k3sBlocksOf(undefined, undefined).clusterHash
  // Epoch 1: dead initialised, self joined it (k3s started, never Ready). Epoch 2 replaced dead and
  // named a node to initialise anew: self (first case) or other (second case).
  const joinedDead = serverRecord(self.nodeId, { join: { kind: 'join', server: '127.0.0.31', viaVip: false }, caHash: 'a'.repeat(64) })
  const planNaming = (reinit: NodeKey): Plan => planOf({ epoch: 2, init: dead.nodeId, controlPlanes: [self.nodeId, other.nodeId, promoted.nodeId].sort(), workers: [], replaced: [dead.nodeId], reinit: reinit.nodeId })

  function ledgerFor (): TestLedger {
    const ledger = new TestLedger(self.nodeId)
    ;[dead, self, other, promoted].forEach((key, index) => ledger.facts.set(key.nodeId, factsFor(index)))
    ledger.dead.add(dead.nodeId)
    return ledger
  }

  it('named to initialise: without the opt-in k3s is held and the problem says why; with it, k3s is stopped, the old data removed, and it initialises', async () => {
    const ledger = ledgerFor()
    const h = await harness(self, ledger, { record: joinedDead, consented: ['k3s'] })
    await mkdir(join(h.root, SERVER_DIR, 'db', 'etcd', 'member'), { recursive: true })
    h.applier.setPlan(planNaming(self))
    await waitFor(() => h.errors.some(error => error.message.includes('abandoned')), { timeoutMs: 5_000, what: 'the abandoned cluster to be reported' })
    await h.applier.settled()
    expect(await h.calls()).toEqual([])
    expect(await exists(join(h.root, CONSENT_DIR, 'k3s'))).toBe(false)
    expect(h.phases.at(-1)?.waitingFor).toContain('k3s is held')
    expect(await exists(join(h.root, SERVER_DIR, 'db', 'etcd', 'member'))).toBe(true)
    await h.stop()

    const cleaned = await harness(self, ledger, { dir: h.dir, apply: { cleanReplacedServer: true } })
    cleaned.applier.setPlan(planNaming(self))
    await waitFor(() => cleaned.phases.some(({ phase }) => phase === 'ready'), { timeoutMs: 10_000, what: 'the server to initialise the new cluster' })
    expect(await cleaned.calls()).toEqual(expect.arrayContaining(['systemctl disable --now k3s', 'systemctl start k3s']))
    expect((await cleaned.calls()).filter(line => line.includes('restart'))).toEqual([])
    expect(await exists(join(cleaned.root, SERVER_DIR, 'db', 'etcd', 'member'))).toBe(false)
    const config = parse(await readFile(join(cleaned.root, CONFIG), 'utf8')) as Record<string, unknown>
    expect(config['cluster-init']).toBe(true)
    expect(config.server).toBeUndefined()
  })

  it('joining another: held once the new origin\'s CA hash differs from the one it pinned; a server that joined the new cluster is left alone', async () => {
    const ledger = ledgerFor()
    ledger.set(other.nodeId, 'k3s-hash', clusterHash)
    ledger.set(other.nodeId, SERVER_READY_ENTRY_NAME, '2')
    ledger.set(other.nodeId, 'ca-hash', 'b'.repeat(64))
    ledger.statuses.set(other.nodeId, { phase: 'ready', epoch: 2 })
    const stale = await harness(self, ledger, { record: joinedDead, consented: ['k3s'] })
    stale.applier.setPlan(planNaming(other))
    await waitFor(() => stale.errors.some(error => error.message.includes('abandoned')), { timeoutMs: 5_000, what: 'the abandoned cluster to be reported' })
    await stale.stop()

    const fresh = await harness(self, ledger, { record: { ...joinedDead, epoch: 2, caHash: 'b'.repeat(64), join: { kind: 'join', server: '127.0.0.33', viaVip: false } }, consented: ['k3s'] })
    fresh.applier.setPlan(planNaming(other))
    await fresh.applier.settled()
    expect(fresh.errors.filter(error => error.message.includes('abandoned'))).toEqual([])
  })
})

// ---- fleets ----

describe('later epochs with stand-in k3s and systemctl', () => {
  it('grows 1 → 3 control planes in one epoch: the promoted worker stops its agent first, servers still join one at a time', async () => {
    // No `expect` in the token: with expect 1, a newcomer that sees quorum (itself) before it syncs
    // would commit an epoch 1 of its own (a core limitation, reported); the settle window lets it learn the plan first.
    const current = await makeFleet({ controlPlanes: 3 })
    fleet = current
    const plans: Plan[] = []
    const first = await current.start(0, realNode(0))
    first.addEventListener('plan', (event) => { plans.push(event.detail.plan) })
    await first.waitForReady({ signal: AbortSignal.timeout(30_000) })
    for (const index of [1, 2]) await holdReady(index)

    // One newcomer cannot grow the control plane by two: it is a worker of epoch 1 and runs the agent.
    await current.start(1, realNode(1))
    await waitFor(async () => (await calls(1)).includes('systemctl start k3s-agent'), { timeoutMs: 30_000, what: 'node 1 to join as a worker' })
    expect(first.status().epoch).toBe(1)

    // A second one: both are promoted in one epoch.
    await current.start(2, realNode(2))
    const nodes = current.nodes
    for (const node of nodes.slice(1)) node.addEventListener('plan', (event) => { plans.push(event.detail.plan) })
    await waitFor(() => nodes.every(node => node.status().epoch >= 2), { timeoutMs: 30_000, what: 'every node to hold epoch 2' })
    const plan = await first.waitForPlan()
    expect(plan.epoch).toBe(2)
    expect(plan.controlPlanes).toHaveLength(3)
    expect(plan.controlPlanes[0]).toBe(plan.init)
    const [, promotedFirst, promotedSecond] = plan.controlPlanes.map(id => indexOf(nodes, id))
    if (promotedFirst === undefined || promotedSecond === undefined) throw new Error('no two promoted nodes')

    // The first promoted starts the server; the second waits for it to be Ready.
    await waitFor(async () => await startedServer(promotedFirst), { timeoutMs: 30_000, what: 'the first promoted node to start k3s' })
    await waitFor(() => waitingFor(nodes[promotedSecond]).includes('to be Ready'), { timeoutMs: 30_000, what: 'the second promoted node to wait for the first' })
    expect(await startedServer(promotedSecond)).toBe(false)
    const joiner = await configOf(promotedFirst)
    expect(joiner['cluster-init']).toBeUndefined()
    expect(joiner.server).toBe('https://127.0.0.21:6443')
    expect(String(joiner.token)).toMatch(/^K10[0-9a-f]{64}::server:/)

    await releaseReady(promotedFirst)
    await waitFor(async () => await startedServer(promotedSecond), { timeoutMs: 30_000, what: 'the second promoted node to start k3s after the first is Ready' })
    await releaseReady(promotedSecond)
    await Promise.all(nodes.map(async node => { await node.waitForReady({ signal: AbortSignal.timeout(30_000) }) }))

    // Node 1 ran the agent: it was stopped and disabled before the server started, once.
    expect(await serviceCalls(1)).toEqual(['systemctl start k3s-agent', 'systemctl disable --now k3s-agent', 'systemctl start k3s'])
    expect(await recordOf(1)).toMatchObject({ epoch: 2, role: 'control-plane', started: true, ranService: 'k3s' })
    // Never an even count of voting servers, in any plan any node saw.
    for (const seen of [...plans, ...nodes.map(node => node.status().plan).filter(view => view !== null)]) {
      expect(seen.controlPlanes.length % 2).toBe(1)
    }

    // A restart repeats nothing: the same calls, Ready again.
    const before = await Promise.all([0, 1, 2].map(serviceCalls))
    await current.stopAll()
    for (const index of [0, 1, 2]) await current.start(index, realNode(index))
    await Promise.all(current.nodes.map(async node => { await node.waitForFleet('ready', { signal: AbortSignal.timeout(30_000) }) }))
    expect(await Promise.all([0, 1, 2].map(serviceCalls))).toEqual(before)
  }, 120_000)

  it('replaces a dead server after the fail-over delay: one deletion, after the commit, before the replacement starts k3s', async () => {
    const { fleet: current, before, after, dead, replacement, survivors, log, errors } = await formAndReplace({ blockDeletion: true })
    const nodes = current.nodes

    // The deletion fails (stand-in): it is reported and retried, and the replacement does not start.
    await waitFor(() => waitingFor(nodes[replacement]).includes('from Kubernetes'), { timeoutMs: 30_000, what: 'the replacement to wait for the dead server\'s deletion' })
    await waitFor(() => errors.filter(error => error.message.includes('still counts as an etcd member')).length >= 2, { timeoutMs: 30_000, what: 'the failed deletion to be reported and retried' })
    expect(await startedServer(replacement)).toBe(false)
    for (let index = 0; index < 4; index++) await rm(join(root(index), 'standin', 'fail-delete'), { force: true })
    await Promise.all(survivors.map(async node => { await node.waitForReady({ signal: AbortSignal.timeout(30_000) }) }))
    const deadId = before.controlPlanes[before.controlPlanes.findIndex(id => id === nodes[dead]?.nodeId)] ?? ''
    const replacementId = nodes[replacement]?.nodeId ?? ''
    expect(after.epoch).toBe(2)
    expect(after.replaced).toEqual([deadId])
    expect(after.controlPlanes).toEqual([...before.controlPlanes.filter(id => id !== deadId), replacementId])

    // The worker was promoted exactly once: its agent stopped, the server started, Ready.
    expect(await serviceCalls(replacement)).toEqual(['systemctl start k3s-agent', 'systemctl disable --now k3s-agent', 'systemctl start k3s'])
    expect(await recordOf(replacement)).toMatchObject({ epoch: 2, role: 'control-plane', ranService: 'k3s' })

    // Exactly one live server deleted the dead node (its failed attempts, then one that worked):
    // the lowest of the servers that ran.
    const deadName = nodeNameFor(deadId, `edge-${dead}`)
    const deletion = `k3s kubectl delete node ${deadName} --ignore-not-found`
    const lines = await sharedLog(log)
    const deletions = lines.filter(line => line.call.startsWith('k3s kubectl delete'))
    expect(new Set(deletions.map(line => line.call))).toEqual(new Set([deletion]))
    const servers = before.controlPlanes.filter(id => id !== deadId).sort()
    expect(new Set(deletions.map(line => line.nodeId))).toEqual(new Set([servers[0]]))

    // After the epoch was committed, and before the replacement started k3s.
    const committed = nodes[0]?.status().history?.find(record => record.epoch === 2)
    const firstDeletion = deletions[0]
    const lastDeletion = deletions.at(-1)
    if (committed === undefined || firstDeletion === undefined || lastDeletion === undefined) throw new Error('no epoch 2 or no deletion')
    expect(firstDeletion.atMs).toBeGreaterThanOrEqual(committed.decidedAtMs)
    const startedAt = lines.findIndex(line => line.nodeId === replacementId && line.call === 'systemctl start k3s')
    expect(startedAt).toBeGreaterThan(lines.indexOf(lastDeletion))
    // The dead server was not started again anywhere, and nobody started a second server.
    expect(lines.filter(line => line.call === 'systemctl start k3s' && line.atMs > committed.decidedAtMs).map(line => line.nodeId)).toEqual([replacementId])
  }, 120_000)

  it('leave: a worker stops its agent and a server deletes its Node; the single server hands over, then drains, deletes itself and stops', async () => {
    const current = await makeFleet({ expect: 3, controlPlanes: 1 })
    fleet = current
    const log = join(current.dir, 'all-calls.log')
    process.env.P2PB_STANDIN_LOG = log
    for (let index = 0; index < 3; index++) await current.start(index, realNode(index))
    const nodes = current.nodes
    await Promise.all(nodes.map(async node => { await node.waitForReady({ signal: AbortSignal.timeout(30_000) }) }))
    const formed = await (nodes[0] as Bootstrapper).waitForPlan()
    const server = indexOf(nodes, formed.init)
    // Workers: listed, or arrived after the bootstrap (unlisted workers are workers too).
    const [leaving, staying] = [0, 1, 2].filter(index => index !== server)
    if (leaving === undefined || staying === undefined) throw new Error('no two workers')
    const serverNode = nodes[server] as Bootstrapper
    const stayingNode = nodes[staying] as Bootstrapper
    const errors: BootstrapperError[] = []
    stayingNode.addEventListener('error', (event) => { errors.push(event.detail) })

    // A worker leaves: retired at once; it stops its agent (no drain), and the server deletes its Node.
    await (nodes[leaving] as Bootstrapper).leave({ signal: AbortSignal.timeout(30_000) })
    expect(await serviceCalls(leaving)).toEqual(['systemctl start k3s-agent', 'systemctl disable --now k3s-agent'])
    expect((await calls(leaving)).some(line => line.includes('drain'))).toBe(false)
    const leftName = nodeNameFor(nodes[leaving]?.nodeId ?? '', `edge-${leaving}`)
    await waitFor(async () => (await calls(server)).includes(`k3s kubectl delete node ${leftName} --ignore-not-found`), { timeoutMs: 30_000, what: 'the server to delete the worker that left' })

    // The only server leaves: the last worker takes its role, joining through it while it still runs.
    await serverNode.leave({ signal: AbortSignal.timeout(45_000) })
    const plan = await stayingNode.waitForPlan()
    expect(plan.controlPlanes).toEqual([stayingNode.nodeId])
    expect(plan.retired).toEqual(expect.arrayContaining([formed.init]))
    const serverName = nodeNameFor(formed.init, `edge-${server}`)
    // Each removal ran exactly once, though its published result reaches the ledger only after the
    // next reconcile may have begun (gone-nodes.ts remembers what it removed in this run).
    expect((await calls(server)).filter(line => !line.includes('/readyz') && !line.startsWith('systemctl is-active') && line !== 'systemctl daemon-reload')).toEqual([
      'systemctl start k3s',
      `k3s kubectl delete node ${leftName} --ignore-not-found`,
      `k3s kubectl drain ${serverName} --ignore-daemonsets --delete-emptydir-data`,
      `k3s kubectl delete node ${serverName} --ignore-not-found`,
      'systemctl disable --now k3s'
    ])
    await waitFor(() => stayingNode.status().phase === 'ready' && stayingNode.status().epoch === plan.epoch, { timeoutMs: 30_000, what: 'the new server to be Ready' })
    expect((await configOf(staying)).server).toBe(`https://127.0.0.${21 + server}:6443`)
    expect(await serviceCalls(staying)).toEqual(['systemctl start k3s-agent', 'systemctl disable --now k3s-agent', 'systemctl start k3s'])
    // The successor ran before the leaving server stopped; nobody else deleted the server (it did).
    const lines = await sharedLog(log)
    const successorStarted = lines.findIndex(line => line.nodeId === stayingNode.nodeId && line.call === 'systemctl start k3s')
    const serverStopped = lines.findIndex(line => line.nodeId === formed.init && line.call === 'systemctl disable --now k3s')
    expect(successorStarted).toBeGreaterThanOrEqual(0)
    expect(serverStopped).toBeGreaterThan(successorStarted)
    expect(lines.filter(line => line.call.includes(`delete node ${serverName}`)).map(line => line.nodeId)).toEqual([formed.init])
    // Reconciled again later (a poke), the new server keeps running without complaint.
    await stayingNode.waitForFleet('ready', { signal: AbortSignal.timeout(30_000) })
    expect(errors.map(error => error.message)).toEqual([])
  }, 120_000)

  it('a replaced server that comes back starts nothing without the opt-in, and cleans up and joins as a worker with it', async () => {
    const { fleet: current, dead, survivors } = await formAndReplace()
    await Promise.all(survivors.map(async node => { await node.waitForReady({ signal: AbortSignal.timeout(30_000) }) }))
    const deadRoot = root(dead)
    const configBefore = await readFile(join(deadRoot, CONFIG), 'utf8')
    const startsBefore = await serviceCalls(dead)
    expect(await exists(join(deadRoot, SERVER_DIR, 'db'))).toBe(true)

    // Without the opt-in: it learns it was replaced, stops its k3s (the gate holds it), says what to do, and removes nothing.
    const back = await current.start(dead, realNode(dead))
    await waitFor(() => waitingFor(back).includes('apply.clean-replaced-server'), { timeoutMs: 30_000, what: 'the returned server to report its stale server state' })
    const problem = waitingFor(back)
    expect(problem).toContain('k3s-killall.sh')
    expect(problem).toContain('rm -rf /var/lib/rancher/k3s/server')
    expect(back.status().phase).toBe('committed')
    await back.stop()
    expect(await serviceCalls(dead)).toEqual([...startsBefore, 'systemctl disable --now k3s'])
    expect(await readFile(join(deadRoot, CONFIG), 'utf8')).toBe(configBefore)
    expect(await exists(join(deadRoot, SERVER_DIR, 'db'))).toBe(true)

    // With it: k3s stopped, the stale state under the root removed, the agent started as a worker.
    const cleaned = await current.start(dead, realNode(dead, { apply: { cleanReplacedServer: true } }))
    await waitFor(() => cleaned.status().phase === 'ready', { timeoutMs: 30_000, what: 'the returned node to be Ready as a worker' })
    // k3s was stopped already (once is enough): only the agent starts.
    expect((await serviceCalls(dead)).slice(startsBefore.length)).toEqual(['systemctl disable --now k3s', 'systemctl start k3s-agent'])
    expect(await exists(join(deadRoot, SERVER_DIR))).toBe(false)
    expect(await exists(join(deadRoot, ADMIN_KUBECONFIG))).toBe(false)
    const config = await configOf(dead)
    expect(config['cluster-init']).toBeUndefined()
    expect(config['agent-token']).toBeUndefined()
    expect(String(config.token)).toMatch(/^K10[0-9a-f]{64}::node:/)
    expect(await recordOf(dead)).toMatchObject({ role: 'worker', ranService: 'k3s-agent', cleanedEpoch: 2 })

    // Once: a restart with the opt-in still set cleans and starts nothing again.
    const calls = await serviceCalls(dead)
    await cleaned.stop()
    const again = await current.start(dead, realNode(dead, { apply: { cleanReplacedServer: true } }))
    await waitFor(() => again.status().phase === 'ready' && again.status().epoch === 2, { timeoutMs: 30_000, what: 'the worker to be Ready again' })
    expect(await serviceCalls(dead)).toEqual(calls)
  }, 120_000)
})
