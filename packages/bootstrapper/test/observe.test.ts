// Goal: the operator's HTTP listener (`observe.listen`) tells the truth about a real fleet and is
// safe to open in a browser. Method: a 3-node fleet on loopback, each node with a listener on a
// port the system picks; /metrics is parsed as Prometheus text and compared with status() and
// stats(); /healthz, /v1/status.json and the listener's refusals are checked over HTTP; then
// Debian's headless Chromium (driven over the DevTools protocol by puppeteer-core) opens the status
// page and the drawn SVG is read back: three nodes, one initialiser, roles as planned, this node
// marked, phases shown. A second page, served from made-up status with hostile node ids, checks
// that nothing from the network is run as markup and that the join order is drawn.
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launch } from 'puppeteer-core'
import type { Browser, Page } from 'puppeteer-core'
import { z } from 'zod'
import { TypedEventEmitter } from '@libp2p/interface'
import { AGENT_PHASES, BootstrapperError, resolveOptions } from '../src/index.js'
import type { Bootstrapper, StatusReport } from '../src/index.js'
import { AgentSources, ObserveServer, parseObserveListen } from '../src/observe/index.js'
import type { AgentParts, ObserveSources } from '../src/observe/index.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { makeFleet } from './fleet.js'
import type { Fleet } from './fleet.js'

const CHROMIUM = '/usr/bin/chromium'
const chromiumSkipReason = existsSync(CHROMIUM)
  ? undefined
  : `${CHROMIUM} is missing: install Debian's chromium package (.ci/run does) to test the status page in a browser`
if (chromiumSkipReason !== undefined) console.warn(`observe.test.ts: skipping the browser tests: ${chromiumSkipReason}`)

// ---- HTTP and Prometheus text, read the way a scraper reads them ----

interface Reply {
  readonly status: number
  readonly headers: Record<string, string | string[] | undefined>
  readonly body: string
}

async function get (address: string, path: string, options: { method?: string, host?: string } = {}): Promise<Reply> {
  const url = new URL(`http://${address}${path}`)
  return await new Promise<Reply>((resolve, reject) => {
    const req = request({
      host: url.hostname.replace(/^\[|\]$/g, ''),
      port: url.port,
      path,
      method: options.method ?? 'GET',
      agent: false,
      headers: options.host === undefined ? {} : { host: options.host },
      signal: AbortSignal.timeout(5_000)
    }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

interface Sample {
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

interface Exposition {
  readonly types: ReadonlyMap<string, string>
  readonly samples: ReadonlyMap<string, readonly Sample[]>
}

/** Prometheus text format 0.0.4: `# TYPE` lines and `name{label="value",…} number` samples. */
function parseExposition (text: string): Exposition {
  const types = new Map<string, string>()
  const samples = new Map<string, Sample[]>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue
    const type = /^# TYPE (\S+) (\S+)$/.exec(line)
    if (type !== null) {
      types.set(type[1] ?? '', type[2] ?? '')
      continue
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (sample === null) throw new Error(`not a Prometheus sample line: ${line}`)
    const labels: Record<string, string> = {}
    for (const match of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[match[1] ?? ''] = (match[2] ?? '').replace(/\\(.)/g, (_, c: string) => c === 'n' ? '\n' : c)
    }
    const name = sample[1] ?? ''
    samples.set(name, [...(samples.get(name) ?? []), { labels, value: Number(sample[3]) }])
  }
  return { types, samples }
}

/** The one sample of `name` whose labels include `labels`; throws naming it when there is none. */
function valueOf (exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const found = (exposition.samples.get(name) ?? []).filter(sample => Object.entries(labels).every(([key, value]) => sample.labels[key] === value))
  if (found.length !== 1) throw new Error(`expected one sample of ${name}${JSON.stringify(labels)}, found ${found.length}`)
  return found[0]?.value ?? Number.NaN
}

async function scrape (address: string): Promise<Exposition> {
  const reply = await get(address, '/metrics')
  expect(reply.status).toBe(200)
  expect(reply.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/)
  return parseExposition(reply.body)
}

function addressOf (node: Bootstrapper): string {
  const address = node.observeAddress()
  if (address === null) throw new Error('the node has no observe listener')
  return address
}

/** Throws (so that `waitFor` reports it) unless the scraped gauges say what status() says. */
function assertGaugesMatch (exposition: Exposition, status: StatusReport): true {
  const mismatches: string[] = []
  const check = (what: string, scraped: number, expected: number): void => {
    if (scraped !== expected) mismatches.push(`${what}: scraped ${scraped}, status says ${expected}`)
  }
  for (const state of ['self', 'alive', 'suspect', 'dead', 'left'] as const) {
    check(`members ${state}`, valueOf(exposition, 'p2pb_members', { state }), status.members.filter(member => member.state === state).length)
  }
  check('plan epoch', valueOf(exposition, 'p2pb_plan_epoch'), status.plan?.epoch ?? 0)
  for (const phase of AGENT_PHASES) check(`phase ${phase}`, valueOf(exposition, 'p2pb_phase', { phase }), phase === status.phase ? 1 : 0)
  for (const role of ['control-plane', 'worker']) check(`role ${role}`, valueOf(exposition, 'p2pb_role', { role }), role === status.role ? 1 : 0)
  check('initialiser', valueOf(exposition, 'p2pb_initialiser'), status.part?.init === true ? 1 : 0)
  check('ledger entries', valueOf(exposition, 'p2pb_ledger_entries'), status.ledgerEntries)
  check('ledger bytes', valueOf(exposition, 'p2pb_ledger_bytes'), status.ledgerBytes)
  check('peers', valueOf(exposition, 'p2pb_libp2p_peers'), status.connections)
  check('plan control planes', valueOf(exposition, 'p2pb_plan_nodes', { role: 'control-plane' }), status.plan?.controlPlanes.length ?? 0)
  check('node info', valueOf(exposition, 'p2pb_node_info', {
    node_id: status.nodeId, cluster_id: status.clusterId, hostname: status.hostname ?? '', node_name: status.nodeName ?? '', cluster_name: status.clusterName ?? ''
  }), 1)
  if (mismatches.length > 0) throw new Error(mismatches.join('; '))
  return true
}

// ---- the fleet ----

describe('observe listener of a 3-node fleet', () => {
  let fleet: Fleet | undefined

  function nodes (): Bootstrapper[] {
    return fleet?.nodes ?? []
  }

  beforeAll(async () => {
    fleet = await makeFleet({ expect: 3, controlPlanes: 1 })
    for (let index = 0; index < 3; index++) await fleet.start(index, { observe: { listen: '127.0.0.1:0' } })
    const signal = AbortSignal.timeout(30_000)
    await Promise.all(nodes().map(async node => { await node.waitForFleet('applied', { signal }) }))
  }, 60_000)

  afterAll(async () => {
    await fleet?.dispose()
    fleet = undefined
  })

  it('binds a port of its own per node, on loopback, and says where', () => {
    const addresses = nodes().map(addressOf)
    expect(new Set(addresses).size).toBe(3)
    for (const address of addresses) expect(parseObserveListen(address)).toMatchObject({ host: '127.0.0.1' })
    expect(addresses.every(address => !address.endsWith(':0'))).toBe(true)
  })

  it('/metrics gauges say what status() says, on every node', async () => {
    for (const node of nodes()) {
      const address = addressOf(node)
      // Scrape and status() are two reads of a live node: retried until one pair agrees.
      await waitFor(async () => assertGaugesMatch(await scrape(address), node.status()), { timeoutMs: 10_000, what: `node ${node.nodeId}'s /metrics to match its status()` })
    }
    const status = nodes()[0]?.status()
    expect(status?.plan?.epoch).toBe(1)
    expect(status?.phase).toBe('applied')
  })

  it('/metrics counters bracket stats(), follow the naming rules, and count consensus messages', async () => {
    const node = nodes()[0]
    if (node === undefined) throw new Error('no node')
    const before = node.stats()
    const exposition = await scrape(addressOf(node))
    const after = node.stats()
    if (before === null || after === null) throw new Error('no sync stats')
    const framesIn = valueOf(exposition, 'p2pb_sync_received_frames_total')
    expect(framesIn).toBeGreaterThan(0)
    expect(framesIn).toBeGreaterThanOrEqual(before.framesIn)
    expect(framesIn).toBeLessThanOrEqual(after.framesIn)
    const bytesOut = valueOf(exposition, 'p2pb_sync_sent_bytes_total')
    expect(bytesOut).toBeGreaterThanOrEqual(before.bytesOut)
    expect(bytesOut).toBeLessThanOrEqual(after.bytesOut)
    expect(valueOf(exposition, 'p2pb_sync_rejected_frames_total')).toBe(after.framesRejected)
    expect((exposition.samples.get('p2pb_sync_dropped_frames_total') ?? []).map(sample => sample.labels.reason).sort())
      .toEqual(Object.keys(after.framesDroppedBy).sort())
    // Node 0 listened before the others started, so the whole Paxos round reached its counters.
    const received = exposition.samples.get('p2pb_received_messages_total') ?? []
    expect(received.filter(sample => sample.labels.kind?.startsWith('paxos/') === true).reduce((sum, sample) => sum + sample.value, 0)).toBeGreaterThan(0)
    expect(received.some(sample => sample.labels.kind === 'swim/ping' && sample.value > 0)).toBe(true)
    expect(valueOf(exposition, 'p2pb_libp2p_connections', { direction: 'inbound' }) + valueOf(exposition, 'p2pb_libp2p_connections', { direction: 'outbound' })).toBeGreaterThan(0)
    expect(valueOf(exposition, 'p2pb_libp2p_streams', { direction: 'outbound' }) + valueOf(exposition, 'p2pb_libp2p_streams', { direction: 'inbound' })).toBeGreaterThan(0)
    // mDNS and the DHT are off in the fleet: their series do not exist rather than read 0.
    expect([...exposition.samples.keys()].filter(name => name.startsWith('p2pb_mdns_') || name.startsWith('p2pb_rendezvous_'))).toEqual([])
    for (const [name, type] of exposition.types) {
      expect({ name, counter: type === 'counter' }).toEqual({ name, counter: name.endsWith('_total') })
    }
  })

  it('/healthz, /v1/status.json and the listener\'s refusals', async () => {
    const node = nodes()[1]
    if (node === undefined) throw new Error('no node')
    const address = addressOf(node)

    const health = await get(address, '/healthz')
    expect(health).toMatchObject({ status: 200, body: 'ok\n' })
    expect(health.headers['cache-control']).toBe('no-store')

    const status = await get(address, '/v1/status.json')
    expect(status.status).toBe(200)
    const report = JSON.parse(status.body) as StatusReport
    expect(report.nodeId).toBe(node.nodeId)
    expect(report.plan).toEqual(node.status().plan)

    const page = await get(address, '/')
    expect(page.status).toBe(200)
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8')
    expect(page.headers['content-security-policy']).toMatch(/default-src 'none'; script-src 'sha256-[A-Za-z0-9+/=]+'; style-src 'sha256-/)
    expect(page.body).not.toMatch(/<(script|link|img)[^>]+(src|href)=/)

    expect((await get(address, '/', { method: 'HEAD' })).body).toBe('')
    const post = await get(address, '/metrics', { method: 'POST' })
    expect(post.status).toBe(405)
    expect(post.headers.allow).toBe('GET, HEAD')
    expect((await get(address, '/etc/passwd')).status).toBe(404)
    expect((await get(address, '/v1/../metrics')).status).toBe(404)
    // A page that rebinds its own name to this address cannot read the topology...
    expect((await get(address, '/v1/status.json', { host: 'attacker.example:80' })).status).toBe(421)
    // ...while a scraper that names the host may still read the metrics.
    expect((await get(address, '/metrics', { host: 'node-1.lan:9464' })).status).toBe(200)
    expect((await get(address, '/v1/status.json', { host: `localhost:${address.split(':')[1] ?? ''}` })).status).toBe(200)
  })

  describe.skipIf(chromiumSkipReason !== undefined)('the status page in headless Chromium', () => {
    it('draws three nodes, one initialiser, the planned roles, this node and every phase', async () => {
      const node = nodes()[0]
      if (node === undefined) throw new Error('no node')
      const status = node.status()
      const plan = status.plan
      if (plan === null) throw new Error('no plan')
      await withPage(async (page, dir) => {
        const started = performance.now()
        await page.goto(`http://${addressOf(node)}/`, { waitUntil: 'load', timeout: 10_000 })
        await waitFor(async () => (await drawnNodes(page)).length === 3, { timeoutMs: 15_000, what: 'the page to draw 3 nodes' })
        const drawn = await drawnNodes(page)
        expect(drawn.filter(entry => entry.init === 'true').map(entry => entry.id)).toEqual([plan.init])
        expect(await countOf(page, '#scene [data-marker="init"]')).toBe(1)
        for (const entry of drawn) {
          expect({ id: entry.id, role: entry.role }).toEqual({ id: entry.id, role: plan.controlPlanes.includes(entry.id) ? 'control-plane' : 'worker' })
        }
        expect(drawn.filter(entry => entry.self === 'true').map(entry => entry.id)).toEqual([node.nodeId])
        expect(new Set(drawn.map(entry => entry.id))).toEqual(new Set(status.members.map(member => member.nodeId)))
        // Phases: this node's own, the others' as published; each one written on its badge.
        const fresh = node.status()
        for (const entry of drawn) {
          const expected = entry.id === fresh.nodeId ? fresh.phase : fresh.members.find(member => member.nodeId === entry.id)?.phase
          expect(entry.phase).toBe(expected)
          expect(entry.text).toContain(entry.phase)
        }
        expect(drawn.find(entry => entry.self === 'true')?.text).toContain('waits for:')
        expect(await countOf(page, '#scene [data-link="connection"]')).toBe(fresh.members.filter(member => member.state !== 'self' && member.connected).length)
        expect(await countOf(page, '#scene [data-link="join"]')).toBe(plan.controlPlanes.length - 1)
        expect(await textOf(page, '#sum-node')).toBe(node.nodeId)
        expect(await textOf(page, '#sum-waiting')).toBe(fresh.waitingFor)
        // Names operators know, and times that read the same everywhere (24-hour ISO 8601, UTC).
        expect(await textOf(page, '#sum-names')).toBe(`k3s node ${fresh.nodeName ?? ''}, host ${fresh.hostname ?? ''}`)
        expect(await textOf(page, '#sum-updated')).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/)
        const nameCells = z.array(z.array(z.string())).parse(await page.evaluate(`Array.from(document.querySelectorAll('#members tr')).map(r => [r.getAttribute('data-node-id'), r.cells[1].textContent, r.cells[2].textContent])`))
        for (const [id, nodeName, host] of nameCells) {
          const member = fresh.members.find(candidate => candidate.nodeId === id)
          expect([nodeName, host]).toEqual([member?.nodeName ?? '\u2014', member?.hostname ?? '\u2014'])
          expect(nodeName).toMatch(/-[0-9a-f]{8}$/)
        }
        expect(await countOf(page, '#members tr')).toBe(3)

        const screenshot = join(dir, 'status-page.png')
        await page.screenshot({ path: screenshot, fullPage: true })
        const png = await readFile(screenshot)
        expect(png.length).toBeGreaterThan(1_000)
        expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))
        console.info(`observe.test.ts: status page drawn and captured in ${Math.round(performance.now() - started)} ms`)
      })
    })
  })
})

// ---- the page on made-up status: hostile values, a longer join chain ----

const HOSTILE_IDS = [
  '<img src=x onerror="window.pwned=1">',
  '"><script>window.pwned=2</script>',
  'node-c</text><foreignObject><iframe src="javascript:window.pwned=3">',
  'node-d',
  'node-e'
] as const

function hostileStatus (): StatusReport {
  const [a, b, c, d, e] = HOSTILE_IDS
  const controlPlanes = [a, b, c]
  return {
    nodeId: b,
    clusterId: 'c1',
    phase: 'applied',
    waitingFor: '<b>k3s</b> to be Ready on <i>this node</i>',
    expect: 5,
    controlPlanes: 3,
    proposer: a,
    ballot: null,
    epoch: 1,
    role: 'control-plane',
    plan: { clusterId: 'c1', epoch: 1, init: a, controlPlanes, workers: [d, e], serverTokenHash: 'x', agentTokenHash: 'y', notes: [] },
    part: { nodeId: b, role: 'control-plane', init: false, controlPlaneIndex: 2, joinsAfter: a },
    members: [
      { nodeId: b, address: '<svg onload="window.pwned=4">', state: 'self', role: 'control-plane', phase: 'applied', lastSeenAgoMs: 0, connected: true },
      { nodeId: a, address: '10.0.0.1', state: 'alive', role: 'control-plane', phase: 'ready', lastSeenAgoMs: 100, connected: true },
      { nodeId: c, address: null, state: 'suspect', role: 'control-plane', phase: 'committed', lastSeenAgoMs: 4000, connected: false },
      { nodeId: d, address: '10.0.0.4', state: 'alive', role: 'worker', phase: null, lastSeenAgoMs: 200, connected: true },
      { nodeId: e, address: '10.0.0.5', state: 'dead', role: 'worker', phase: 'applied', lastSeenAgoMs: 60_000, connected: false }
    ],
    addresses: [],
    connections: 2,
    files: [],
    ledgerEntries: 42,
    ledgerBytes: 9_000,
    startedAtMs: 1_700_000_000_000,
    reportedAtMs: 1_700_000_060_000
  }
}

function fakeSources (status: () => StatusReport, health: ObserveSources['health'] = async () => ({ ok: true })): ObserveSources {
  return {
    status,
    syncStats: () => null,
    messagesReceived: () => new Map(),
    discoveryStats: () => null,
    libp2p: () => null,
    health
  }
}

async function withServer<T> (sources: ObserveSources, run: (address: string) => Promise<T>): Promise<T> {
  const server = new ObserveServer({ host: '127.0.0.1', port: 0 }, sources)
  await server.start()
  try {
    const address = server.address()
    if (address === null) throw new Error('not listening')
    return await run(address)
  } finally {
    await server.stop()
  }
}

describe.skipIf(chromiumSkipReason !== undefined)('the status page with hostile values from peers', () => {
  it('shows node ids and addresses as text, never as markup, and draws the join order', async () => {
    await withServer(fakeSources(hostileStatus), async (address) => {
      await withPage(async (page) => {
        await page.goto(`http://${address}/`, { waitUntil: 'load', timeout: 10_000 })
        await waitFor(async () => (await drawnNodes(page)).length === 5, { timeoutMs: 10_000, what: 'the page to draw 5 nodes' })
        const drawn = await drawnNodes(page)
        expect(drawn.map(entry => entry.id).sort()).toEqual([...HOSTILE_IDS].sort())
        expect(await page.evaluate('typeof window.pwned')).toBe('undefined')
        expect(await countOf(page, 'img, iframe, foreignObject, #scene script, #members script, b, i')).toBe(0)
        expect(drawn.filter(entry => entry.init === 'true').map(entry => entry.id)).toEqual([HOSTILE_IDS[0]])
        expect(drawn.filter(entry => entry.role === 'control-plane')).toHaveLength(3)
        expect(drawn.find(entry => entry.id === 'node-d')).toMatchObject({ role: 'worker', phase: 'unknown', state: 'alive' })
        expect(drawn.find(entry => entry.id === 'node-e')).toMatchObject({ state: 'dead' })
        expect(await textOf(page, '#sum-waiting')).toBe('<b>k3s</b> to be Ready on <i>this node</i>')
        // Join edges run from each control plane to the one it joins after.
        const joins = await page.evaluate(`Array.from(document.querySelectorAll('#scene [data-link="join"]')).map(l => [l.getAttribute('data-from'), l.getAttribute('data-to')])`)
        expect(joins).toEqual([[HOSTILE_IDS[1], HOSTILE_IDS[0]], [HOSTILE_IDS[2], HOSTILE_IDS[1]]])
        expect(await countOf(page, '#scene [data-link="connection"]')).toBe(2)
      })
    })
  })

  it('keeps the last drawing and says so when the agent stops answering', async () => {
    let failing = false
    const status = (): StatusReport => {
      if (failing) throw new Error('status exploded')
      return hostileStatus()
    }
    await withServer(fakeSources(status), async (address) => {
      await withPage(async (page) => {
        await page.goto(`http://${address}/`, { waitUntil: 'load', timeout: 10_000 })
        await waitFor(async () => (await drawnNodes(page)).length === 5, { timeoutMs: 10_000, what: 'the first drawing' })
        failing = true
        await waitFor(async () => await page.evaluate('document.getElementById("graph").getAttribute("data-stale")') === 'true', { timeoutMs: 10_000, what: 'the page to mark its drawing stale' })
        expect(await textOf(page, '#problem')).toContain('500')
        expect((await drawnNodes(page)).length).toBe(5)
      })
    })
  })
})

// ---- one browser for every page, closed in every path ----

let browser: Browser | undefined
let browserDir: string | undefined

afterAll(async () => {
  await closeBrowser()
})

async function closeBrowser (): Promise<void> {
  const open = browser
  browser = undefined
  if (open !== undefined) {
    const child = open.process()
    await open.close().catch(() => { child?.kill('SIGKILL') })
  }
  if (browserDir !== undefined) await rm(browserDir, { recursive: true, force: true })
  browserDir = undefined
}

async function openBrowser (): Promise<Browser> {
  if (browser !== undefined) return browser
  browserDir = await mkdtemp(join(tmpdir(), 'p2pb-chromium-'))
  browser = await launch({
    executablePath: CHROMIUM,
    headless: true,
    // A pipe, not a debugging port; the profile inside our temporary folder.
    pipe: true,
    userDataDir: join(browserDir, 'profile'),
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--no-default-browser-check'],
    timeout: 20_000
  })
  return browser
}

/**
 * A fresh page for `run`, with a folder for its screenshot: removed when `run` passes, kept (and
 * named) when it fails. CSP violations and page errors fail the run.
 */
async function withPage (run: (page: Page, dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'p2pb-observe-page-'))
  const problems: string[] = []
  const page = await (await openBrowser()).newPage()
  let passed = false
  try {
    page.on('pageerror', (err) => { problems.push(`page error: ${String(err)}`) })
    page.on('console', (message) => {
      if (/Content.Security.Policy/i.test(message.text())) problems.push(`CSP: ${message.text()}`)
    })
    await page.setViewport({ width: 1400, height: 1000 })
    await run(page, dir)
    expect(problems).toEqual([])
    passed = true
  } finally {
    if (!passed) {
      await page.screenshot({ path: join(dir, 'failed.png'), fullPage: true }).catch(() => {})
      console.warn(`observe.test.ts: kept the page's files for inspection in ${dir}; the page reported: ${problems.length === 0 ? 'nothing' : problems.join('; ')}`)
    }
    await page.close().catch(() => {})
    if (passed) await rm(dir, { recursive: true, force: true })
  }
}

const drawnNodeSchema = z.array(z.strictObject({
  id: z.string(),
  role: z.string(),
  init: z.string(),
  phase: z.string(),
  state: z.string(),
  self: z.string(),
  text: z.string()
}))

type DrawnNode = z.infer<typeof drawnNodeSchema>[number]

/** What the SVG shows, read from the page's DOM (scripts run in the page, as text). */
async function drawnNodes (page: Page): Promise<DrawnNode[]> {
  const raw: unknown = await page.evaluate(`Array.from(document.querySelectorAll('#scene g.node')).map(g => ({
    id: g.getAttribute('data-node-id'), role: g.getAttribute('data-role'), init: g.getAttribute('data-init'),
    phase: g.getAttribute('data-phase'), state: g.getAttribute('data-state'), self: g.getAttribute('data-self'),
    text: Array.from(g.querySelectorAll(':scope > text, :scope > g > text')).map(t => t.textContent).join(' | ')
  }))`)
  return drawnNodeSchema.parse(raw)
}

async function countOf (page: Page, selector: string): Promise<number> {
  return z.number().parse(await page.evaluate(`document.querySelectorAll(${JSON.stringify(selector)}).length`))
}

async function textOf (page: Page, selector: string): Promise<string> {
  return z.string().parse(await page.evaluate(`document.querySelector(${JSON.stringify(selector)}).textContent`))
}

// ---- health and the option, without a fleet ----

describe('/healthz', () => {
  it('answers 503 with the reason when the agent says it is unhealthy', async () => {
    await withServer(fakeSources(hostileStatus, async () => ({ ok: false, reason: 'the state dir refuses writes: EROFS' })), async (address) => {
      expect(await get(address, '/healthz')).toMatchObject({ status: 503, body: 'unhealthy: the state dir refuses writes: EROFS\n' })
    })
  })

  it('turns unhealthy when a state dir write fails or after a fatal error', async () => {
    const events = new TypedEventEmitter<{ error: CustomEvent<BootstrapperError> }>()
    let writes = 0
    const parts = {
      bootstrapper: Object.assign(events, { status: hostileStatus, stats: () => null }),
      overlay: {},
      messenger: new TypedEventEmitter(),
      state: {
        path: '/state',
        writeFile: async () => {
          writes++
          throw new Error('EROFS: read-only file system')
        }
      }
    } as unknown as AgentParts
    const sources = new AgentSources(parts)
    sources.open()
    try {
      expect(await sources.health()).toEqual({ ok: false, reason: 'the state dir refuses writes: EROFS: read-only file system' })
      // A second check within the probe interval reuses the answer instead of syncing the disk again.
      await sources.health()
      expect(writes).toBe(1)
      events.safeDispatchEvent('error', { detail: new BootstrapperError('BOOTSTRAP_STORAGE_FAILED', 'disk full', { fatal: true }) })
      expect(await sources.health()).toEqual({ ok: false, reason: 'the agent stopped: disk full' })
    } finally {
      sources.close()
    }
  })
})

describe('observe.listen option', () => {
  const token = 'p2pb1.unused'

  it.each([
    ['127.0.0.1:9464', { host: '127.0.0.1', port: 9464 }],
    ['[::1]:9464', { host: '::1', port: 9464 }],
    ['0.0.0.0:0', { host: '0.0.0.0', port: 0 }]
  ])('reads %s', (text, expected) => {
    expect(parseObserveListen(text)).toEqual(expected)
  })

  it.each(['localhost:9464', '127.0.0.1', '::1:9464', '[127.0.0.1]:9464', '127.0.0.1:65536', '127.0.0.1:-1', '300.0.0.1:80', ' 127.0.0.1:9464'])('refuses %j, naming the option', (text) => {
    expect(parseObserveListen(text)).toBeNull()
    expect(() => resolveOptions({ token, observe: { listen: text } })).toThrow(/^option observe\.listen: must be an address and a port such as 127\.0\.0\.1:9464/)
  })

  it('refuses a port already taken, naming the option and the fix', async () => {
    await withServer(fakeSources(hostileStatus), async (address) => {
      const listen = parseObserveListen(address)
      if (listen === null) throw new Error('bad address')
      const second = new ObserveServer(listen, fakeSources(hostileStatus))
      await expect(second.start()).rejects.toThrow(/^option observe\.listen: cannot listen on 127\.0\.0\.1:\d+ .*pick a free port/)
      await second.stop()
    })
  })
})
