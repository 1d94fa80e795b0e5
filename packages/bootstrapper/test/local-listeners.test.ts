// Goal: the local listeners keep answering their owner while another client holds idle
// connections. Finding reproduced: more than 32 idle connections to the metrics listener or the
// status socket made real requests fail with ECONNRESET, and a client renewing them kept /healthz
// unreachable. Method: a real ObserveServer on loopback and a real StatusServer on a unix socket;
// a client opens 300 connections that never send a byte and opens a new one whenever one is
// closed (up to a bounded number of renewals); meanwhile `/healthz` and `status` are asked several
// times and must answer each time. The guard's counters show it closed idle connections for them.
import { mkdtemp, rm } from 'node:fs/promises'
import { request } from 'node:http'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { ObserveServer } from '../src/observe/index.js'
import type { ObserveSources } from '../src/observe/index.js'
import { StatusServer, fetchStatus } from '../src/status-server.js'
import type { StatusReport } from '../src/status-report.js'

const IDLE_CONNECTIONS = 300
/** Renewals after the first 300: enough to show renewing does not lock the owner out, bounded so the test ends. */
const RENEWALS_MAX = 300
const REQUESTS = 5

/** A client that holds `count` idle connections and renews each one the server closes. */
class IdleHolder {
  readonly sockets = new Set<Socket>()
  connected = 0
  renewals = 0
  #holding = true

  constructor (private readonly open: () => Socket, count: number) {
    for (let index = 0; index < count; index++) this.#add()
  }

  #add (): void {
    const socket = this.open()
    this.sockets.add(socket)
    socket.on('connect', () => { this.connected++ })
    socket.on('error', () => {})
    socket.on('close', () => {
      this.sockets.delete(socket)
      if (this.#holding && this.renewals < RENEWALS_MAX) {
        this.renewals++
        this.#add()
      }
    })
  }

  stop (): void {
    this.#holding = false
    for (const socket of this.sockets) socket.destroy()
  }
}

const sources: ObserveSources = {
  status: () => ({ nodeId: 'me' }) as unknown as StatusReport,
  syncStats: () => null,
  messagesReceived: () => new Map(),
  discoveryStats: () => null,
  libp2p: () => null,
  health: async () => ({ ok: true })
}

async function healthz (host: string, port: number): Promise<string> {
  return await new Promise<string>((resolve, reject) => {
    const req = request({ host, port, path: '/healthz', agent: false, signal: AbortSignal.timeout(5_000) }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => { chunks.push(chunk) })
      res.on('end', () => { resolve(`${res.statusCode ?? 0} ${Buffer.concat(chunks).toString('utf8').trim()}`) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

let cleanup: Array<() => Promise<void>> = []

afterEach(async () => {
  for (const step of cleanup.reverse()) await step()
  cleanup = []
})

describe('local listeners under idle connections', () => {
  it('the metrics listener answers /healthz while 300 idle connections are held and renewed', async () => {
    const server = new ObserveServer({ host: '127.0.0.1', port: 0 }, sources)
    await server.start()
    cleanup.push(async () => { await server.stop() })
    const [host = '', portText = ''] = (server.address() ?? '').split(':')
    const port = Number(portText)
    const holder = new IdleHolder(() => connect({ host, port }), IDLE_CONNECTIONS)
    cleanup.push(async () => { holder.stop() })
    await waitFor(() => holder.connected >= IDLE_CONNECTIONS, { timeoutMs: 20_000, what: `${IDLE_CONNECTIONS} idle connections to connect` })
    for (let index = 0; index < REQUESTS; index++) expect(await healthz(host, port)).toBe('200 ok')
    expect(server.connectionStats()?.evicted).toBeGreaterThan(0)
  }, 60_000)

  it('the status socket answers status while 300 idle connections are held and renewed', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'p2pb-listeners-'))
    cleanup.push(async () => { await rm(dir, { recursive: true, force: true }) })
    const socketPath = join(dir, 'agent.sock')
    const server = new StatusServer(socketPath, () => ({ nodeId: 'me' }) as unknown as StatusReport)
    await server.start()
    cleanup.push(async () => { await server.stop() })
    const holder = new IdleHolder(() => connect({ path: socketPath }), IDLE_CONNECTIONS)
    cleanup.push(async () => { holder.stop() })
    await waitFor(() => holder.connected >= IDLE_CONNECTIONS, { timeoutMs: 20_000, what: `${IDLE_CONNECTIONS} idle connections to connect` })
    for (let index = 0; index < REQUESTS; index++) {
      expect(await fetchStatus(socketPath, { signal: AbortSignal.timeout(5_000) })).toEqual({ nodeId: 'me' })
    }
    expect(server.connectionStats()?.evicted).toBeGreaterThan(0)
  }, 60_000)

  it('a connection that sends nothing is closed after the idle timeout', async () => {
    const server = new ObserveServer({ host: '127.0.0.1', port: 0 }, sources)
    await server.start()
    cleanup.push(async () => { await server.stop() })
    const [host = '', portText = ''] = (server.address() ?? '').split(':')
    const socket = connect({ host, port: Number(portText) })
    socket.on('error', () => {})
    cleanup.push(async () => { socket.destroy() })
    let closed = false
    socket.on('close', () => { closed = true })
    await waitFor(() => closed, { timeoutMs: 15_000, what: 'the idle connection to be closed by the server' })
    expect(server.connectionStats()?.idleClosed).toBe(1)
  }, 30_000)
})
