// Goal: an operator can read the history of committed epochs wherever the agent reports itself:
// `status()` lists every epoch (when, proposer, voters, control planes, whom it replaced or
// retired, and why), each one is announced once as a typed `epoch` event (and again, from disk,
// after a restart), and the report says whether the node is leaving and what the fail-over delay
// is; the metrics carry the same facts, and the status page draws an epoch table in which peers'
// words stay text. Method: a dry-run fleet on loopback whose worker leaves, so that a second
// epoch exists; the page and the metrics are served from made-up status with hostile notes and
// read back over HTTP and in Debian's headless Chromium (driven by puppeteer-core).
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { launch } from 'puppeteer-core'
import type { Browser, Page } from 'puppeteer-core'
import { z } from 'zod'
import type { EpochRecord } from '@p2p-bootstrap/core'
import { createBootstrapper } from '../src/index.js'
import type { StatusReport } from '../src/index.js'
import { ObserveServer } from '../src/observe/index.js'
import type { ObserveSources } from '../src/observe/index.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { makeFleet, rootOf, stateDirOf } from './fleet.js'
import type { Fleet } from './fleet.js'

const CHROMIUM = '/usr/bin/chromium'
const chromiumSkipReason = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: install Debian's chromium package to test the status page`

let fleet: Fleet | undefined

afterEach(async () => {
  await fleet?.dispose()
  fleet = undefined
})

describe('the epoch history of a fleet', () => {
  it('status() lists every epoch, announced once each as an `epoch` event, with the fail-over delay and the leave flags', async () => {
    const made = await makeFleet({ expect: 3, controlPlanes: 1 })
    fleet = made
    const announced: EpochRecord[][] = [[], [], []]
    for (let index = 0; index < 3; index++) {
      const node = await made.start(index, { failoverDelayMs: 2_000 })
      node.addEventListener('epoch', (event) => { announced[index]?.push(event.detail.record) })
    }
    await Promise.all(made.nodes.map(async node => { await node.waitForApplied({ signal: AbortSignal.timeout(30_000) }) }))
    const first = made.nodes[0]
    if (first === undefined) throw new Error('no node 0')
    await waitFor(() => new Set(made.nodes.map(node => node.status().epoch)).size === 1, { timeoutMs: 15_000, what: 'one epoch on every node' })
    const before = first.status()
    if (before.plan === null) throw new Error('no plan')
    expect(before.failoverDelayMs).toBe(2_000)
    expect(before.leaving).toBe(false)
    expect(before.retiredAtEpoch).toBeNull()
    const workerIndex = made.nodes.findIndex(node => before.plan?.workers.includes(node.nodeId) === true)
    const worker = made.nodes[workerIndex]
    if (worker === undefined) throw new Error('no worker')
    const stayIndex = made.nodes.findIndex(node => node !== worker)
    const stay = made.nodes[stayIndex]
    if (stay === undefined) throw new Error('no other node')

    await worker.leave({ signal: AbortSignal.timeout(20_000) })
    const last = before.epoch + 1
    await waitFor(() => stay.status().epoch === last, { timeoutMs: 10_000, what: `epoch ${last} on a node that stays` })
    const status = stay.status()
    const history = status.history ?? []
    expect(history.map(record => record.epoch)).toEqual(Array.from({ length: last }, (_, index) => index + 1))
    const retiring = history.at(-1)
    expect(retiring).toMatchObject({ epoch: last, retired: [worker.nodeId], replaced: [], controlPlanes: status.plan?.controlPlanes })
    expect(retiring?.voters.length).toBeGreaterThanOrEqual(1)
    expect(retiring?.proposer).toBe(status.plan?.controlPlanes[0])
    expect(retiring?.decidedAtMs).toBeGreaterThan(Date.now() - 60_000)
    expect(retiring?.notes.join(' ')).toMatch(/left as a worker/)
    expect(status.members.find(member => member.nodeId === worker.nodeId)).toMatchObject({ retired: true, role: null })
    // Each epoch was announced once, with the record the history holds.
    const sorted = [...(announced[stayIndex] ?? [])].sort((a, b) => a.epoch - b.epoch)
    expect(sorted).toEqual(history)
    // The worker's own report says it left, at which epoch.
    expect(worker.status()).toMatchObject({ leaving: true, retiredAtEpoch: last })

    // After a restart the epochs on disk are announced again, by the time start() returns.
    await stay.stop()
    const again = createBootstrapper({
      token: made.token,
      stateDir: stateDirOf(made.dir, stayIndex),
      root: rootOf(made.dir, stayIndex),
      listen: ['/ip4/127.0.0.1/tcp/0'],
      mdns: false,
      dht: false,
      profile: 'test',
      statusSocket: false,
      dryRun: true,
      node: { nodeIp: `10.0.0.${stayIndex + 1}`, hostname: `node-${stayIndex}`, interface: 'eth0' }
    })
    const restored: number[] = []
    again.addEventListener('epoch', (event) => { restored.push(event.detail.record.epoch) })
    try {
      await again.start({ signal: AbortSignal.timeout(10_000) })
      expect(restored.sort((a, b) => a - b)).toEqual(history.map(record => record.epoch))
      // What was decided is the same; when and by whose certificate may not be: the ledger keeps one
      // of the equivalent certified entries of an epoch, not always the one learned first.
      expect(again.status().history?.map(decided)).toEqual(history.map(decided))
      // Without the option the profile's delay applies: the test profile's 3 s.
      expect(again.status().failoverDelayMs).toBe(3_000)
    } finally {
      await again.stop()
    }
  }, 60_000)
})

/** The part of an epoch record that is the decision itself. */
function decided (record: EpochRecord): Pick<EpochRecord, 'epoch' | 'controlPlanes' | 'replaced' | 'retired' | 'notes'> {
  return { epoch: record.epoch, controlPlanes: record.controlPlanes, replaced: record.replaced, retired: record.retired, notes: record.notes }
}

// ---- the page and the metrics, from made-up status ----

const HOSTILE_NOTE = '<img src=x onerror="window.pwned=1"> epoch 2: …node-b left as a worker'
const IDS = ['node-a', 'node-b', 'node-c'] as const

function madeUpStatus (): StatusReport {
  const [a, b, c] = IDS
  const history: EpochRecord[] = [
    { epoch: 1, proposer: a, voters: [a, b, c], decidedAtMs: 1_700_000_000_000, controlPlanes: [a], replaced: [], retired: [], notes: [] },
    { epoch: 2, proposer: a, voters: [a], decidedAtMs: 1_700_000_060_000, controlPlanes: [a], replaced: [], retired: [b], notes: [HOSTILE_NOTE] },
    // A plan lists every node retired so far: the row of epoch 3 shows only node-d.
    { epoch: 3, proposer: a, voters: [a], decidedAtMs: 1_700_000_070_000, controlPlanes: [a], replaced: [], retired: [b, 'node-d'], notes: ['epoch 3: …node-d left as a worker'] }
  ]
  return {
    nodeId: c,
    clusterId: 'c1',
    phase: 'applied',
    waitingFor: 'a committed epoch that retires this node',
    expect: 3,
    controlPlanes: 1,
    proposer: a,
    ballot: null,
    epoch: 2,
    role: 'worker',
    plan: { clusterId: 'c1', epoch: 2, init: a, controlPlanes: [a], workers: [c], retired: [b], serverTokenHash: 'x', agentTokenHash: 'y', notes: [HOSTILE_NOTE] },
    part: { nodeId: c, role: 'worker', init: false, controlPlaneIndex: null, joinsAfter: null },
    members: [
      { nodeId: c, address: '10.0.0.3', state: 'self', role: 'worker', phase: 'applied', lastSeenAgoMs: 0, connected: true, leaving: true, retired: false },
      { nodeId: a, address: '10.0.0.1', state: 'alive', role: 'control-plane', phase: 'ready', lastSeenAgoMs: 100, connected: true, leaving: false, retired: false },
      { nodeId: b, address: '10.0.0.2', state: 'dead', role: null, phase: 'applied', lastSeenAgoMs: 9_000, connected: false, leaving: false, retired: true }
    ],
    addresses: [],
    connections: 1,
    files: [],
    ledgerEntries: 12,
    ledgerBytes: 3_000,
    startedAtMs: 1_700_000_000_000,
    reportedAtMs: 1_700_000_090_000,
    history,
    leaving: true,
    retiredAtEpoch: null,
    failoverDelayMs: 3_000
  }
}

function sources (status: () => StatusReport): ObserveSources {
  return { status, syncStats: () => null, messagesReceived: () => new Map(), discoveryStats: () => null, libp2p: () => null, health: async () => ({ ok: true }) }
}

async function withServer (run: (address: string) => Promise<void>): Promise<void> {
  const server = new ObserveServer({ host: '127.0.0.1', port: 0 }, sources(madeUpStatus))
  await server.start()
  try {
    const address = server.address()
    if (address === null) throw new Error('not listening')
    await run(address)
  } finally {
    await server.stop()
  }
}

async function get (address: string, path: string): Promise<string> {
  const [host, port] = address.split(':')
  return await new Promise<string>((resolve, reject) => {
    const req = request({ host, port, path, agent: false, signal: AbortSignal.timeout(5_000) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      res.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The value of one unlabelled or labelled sample line, or NaN when absent. */
function sample (text: string, series: string): number {
  const line = text.split('\n').find(candidate => candidate.startsWith(`${series} `))
  return line === undefined ? Number.NaN : Number(line.slice(series.length + 1))
}

describe('metrics of leaving and later epochs', () => {
  it('say whether this node is leaving, the fail-over delay and the nodes the plan no longer counts', async () => {
    await withServer(async (address) => {
      const text = await get(address, '/metrics')
      expect(sample(text, 'p2pb_leaving')).toBe(1)
      expect(sample(text, 'p2pb_failover_delay_seconds')).toBe(3)
      expect(sample(text, 'p2pb_plan_former_nodes{reason="retired"}')).toBe(1)
      expect(sample(text, 'p2pb_plan_former_nodes{reason="replaced"}')).toBe(0)
      expect(sample(text, 'p2pb_plan_epoch')).toBe(2)
    })
  })
})

describe.skipIf(chromiumSkipReason !== undefined)('the status page shows the epochs', () => {
  let browser: Browser | undefined
  let profileDir: string | undefined

  afterAll(async () => {
    const open = browser
    browser = undefined
    if (open !== undefined) {
      const child = open.process()
      await open.close().catch(() => { child?.kill('SIGKILL') })
    }
    if (profileDir !== undefined) await rm(profileDir, { recursive: true, force: true })
  })

  async function page (): Promise<Page> {
    if (browser === undefined) {
      profileDir = await mkdtemp(join(tmpdir(), 'p2pb-chromium-'))
      browser = await launch({
        executablePath: CHROMIUM,
        headless: true,
        pipe: true,
        userDataDir: join(profileDir, 'profile'),
        args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
        timeout: 20_000
      })
    }
    return await browser.newPage()
  }

  it('one row per epoch with its notes as text, the leaving node marked and the retired one drawn as such', async () => {
    await withServer(async (address) => {
      const tab = await page()
      const problems: string[] = []
      tab.on('pageerror', (err) => { problems.push(String(err)) })
      tab.on('console', (message) => { if (/Content.Security.Policy/i.test(message.text())) problems.push(message.text()) })
      try {
        await tab.goto(`http://${address}/`, { waitUntil: 'load', timeout: 10_000 })
        await waitFor(async () => await tab.evaluate('document.querySelectorAll("#epochs tr").length') === 3, { timeoutMs: 10_000, what: 'three epoch rows' })
        const rows = z.array(z.array(z.string())).parse(await tab.evaluate(`Array.from(document.querySelectorAll('#epochs tr')).map(r => Array.from(r.cells).map(c => c.textContent))`))
        expect(rows.map(row => [row[0], row[2], row[3], row[4], row[5], row[6]])).toEqual([
          ['1', 'node-a', '3', 'node-a', '\u2014', '\u2014'],
          ['2', 'node-a', '1', 'node-a', '\u2014', 'node-b'],
          ['3', 'node-a', '1', 'node-a', '\u2014', 'node-d']
        ])
        expect(rows[0]?.[7]).toBe('the bootstrap plan')
        expect(rows[1]?.[7]).toBe(HOSTILE_NOTE)
        expect(await tab.evaluate('typeof window.pwned')).toBe('undefined')
        expect(await tab.evaluate('document.querySelectorAll("img").length')).toBe(0)
        expect(await tab.evaluate('document.getElementById("sum-leaving").textContent')).toBe('yes: waits for an epoch that retires it')
        expect(await tab.evaluate('document.getElementById("sum-failover").textContent')).toMatch(/^3 s /)
        const marks = z.record(z.string(), z.array(z.string().nullable())).parse(await tab.evaluate(`Object.fromEntries(Array.from(document.querySelectorAll('#scene g.node')).map(g => [g.getAttribute('data-node-id'), [g.getAttribute('data-role'), g.getAttribute('data-leaving')]]))`))
        expect(marks).toEqual({ 'node-a': ['control-plane', 'false'], 'node-b': ['retired', 'false'], 'node-c': ['worker', 'true'] })
        expect(problems).toEqual([])
      } finally {
        await tab.close().catch(() => {})
      }
    })
  })
})
