import { createServer } from 'node:http'
import type { IncomingMessage, OutgoingHttpHeaders, Server, ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { ConnectionGuard } from '../connection-guard.js'
import type { ConnectionGuardStats } from '../connection-guard.js'
import { BootstrapperError } from '../errors.js'
import { formatObserveListen } from './listen-address.js'
import type { ObserveListen } from './listen-address.js'
import { ObserveMetrics } from './metrics.js'
import { NOTHING_CSP, STATUS_PAGE, STATUS_PAGE_CSP } from './page.js'
import type { ObserveSources } from './sources.js'

/** The routes; anything else is 404 (exact paths only: there is no file or directory behind them). */
export const OBSERVE_PATHS = {
  page: '/',
  status: '/v1/status.json',
  metrics: '/metrics',
  health: '/healthz'
} as const

/** A whole request (headers and all) must arrive within this, so a slow client cannot hold a socket. */
const REQUEST_TIMEOUT_MS = 10_000
const HEADERS_TIMEOUT_MS = 5_000
const KEEP_ALIVE_TIMEOUT_MS = 5_000
/** Scrapers and a few browser tabs; past it the oldest idle connection is closed for the newest. */
const CONNECTIONS_MAX = 64
/** One client address may hold half of them, so a second client (the owner's scraper) always has room. */
const CONNECTIONS_PER_CLIENT_MAX = 32
/** A connection with no request in progress is closed after this (a browser reconnects at once). */
const IDLE_TIMEOUT_MS = KEEP_ALIVE_TIMEOUT_MS
const HEADER_BYTES_MAX = 8 * 1024
const URL_CHARS_MAX = 1024

const COMMON_HEADERS: OutgoingHttpHeaders = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin'
}

const TEXT = 'text/plain; charset=utf-8'

/**
 * The optional HTTP listener for operators: `/metrics` (Prometheus text), `/healthz`, the status
 * page `/` and the `StatusReport` it draws from at `/v1/status.json`. GET and HEAD only, bounded
 * requests, no caching, and a Content-Security-Policy on every answer. Bind it to loopback unless
 * the network it listens on may see the cluster's topology (node ids, addresses, roles).
 */
export class ObserveServer {
  private server: Server | undefined
  private guard: ConnectionGuard | undefined
  private bound: ObserveListen | undefined
  private readonly metrics: ObserveMetrics

  constructor (private readonly listen: ObserveListen, private readonly sources: ObserveSources) {
    this.metrics = new ObserveMetrics(sources)
  }

  /** The address it listens on (the port the system picked for port 0), or null when stopped. */
  address (): string | null {
    return this.bound === undefined ? null : formatObserveListen(this.bound)
  }

  async start (): Promise<void> {
    if (this.server !== undefined) return
    const server = createServer({ maxHeaderSize: HEADER_BYTES_MAX }, (req, res) => { void this.answer(req, res) })
    server.requestTimeout = REQUEST_TIMEOUT_MS
    server.headersTimeout = HEADERS_TIMEOUT_MS
    server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
    // Idle connections held open by anyone never lock the owner out of /healthz.
    this.guard = new ConnectionGuard(server, { connectionsMax: CONNECTIONS_MAX, connectionsPerClientMax: CONNECTIONS_PER_CLIENT_MAX, idleTimeoutMs: IDLE_TIMEOUT_MS })
    server.maxHeadersCount = 64
    const { host, port } = this.listen
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host, port, exclusive: true }, () => { server.off('error', reject); resolve() })
    }).catch((err: unknown) => {
      throw new BootstrapperError('BOOTSTRAP_BAD_OPTION',
        `option observe.listen: cannot listen on ${formatObserveListen(this.listen)} (${(err as Error).message}): pick a free port, or an address this host has`,
        { cause: err })
    })
    // The agent's other work keeps the process alive; this listener alone must not.
    server.unref()
    this.server = server
    const address = server.address()
    // A TCP listener always has an AddressInfo; a string would be a pipe, null a closed server.
    if (address === null || typeof address === 'string') throw new BootstrapperError('BOOTSTRAP_BAD_OPTION', `option observe.listen: the listener on ${formatObserveListen(this.listen)} has no TCP address`)
    this.bound = { host: address.address, port: address.port }
    this.sources.open?.()
  }

  /** Connections closed or refused to keep the listener answering (see ConnectionGuard), or null when stopped. */
  connectionStats (): ConnectionGuardStats | null {
    return this.guard === undefined ? null : { ...this.guard.stats }
  }

  /** Closes the listener and every open connection; idempotent. */
  async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    this.guard = undefined
    this.bound = undefined
    if (server === undefined) return
    this.sources.close?.()
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }

  private async answer (req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        send(res, 405, TEXT, `${req.method ?? 'this method'} is not served here: use GET or HEAD\n`, { allow: 'GET, HEAD' })
        return
      }
      const url = req.url ?? ''
      if (url.length > URL_CHARS_MAX || !url.startsWith('/')) {
        send(res, 400, TEXT, 'bad request target\n')
        return
      }
      const path = url.split('?')[0]
      switch (path) {
        case OBSERVE_PATHS.page:
          if (this.refuseForeignHost(req, res)) return
          send(res, 200, 'text/html; charset=utf-8', STATUS_PAGE, { 'content-security-policy': STATUS_PAGE_CSP })
          return
        case OBSERVE_PATHS.status:
          if (this.refuseForeignHost(req, res)) return
          send(res, 200, 'application/json; charset=utf-8', JSON.stringify(this.sources.status()))
          return
        case OBSERVE_PATHS.metrics:
          send(res, 200, this.metrics.contentType, await this.metrics.scrape())
          return
        case OBSERVE_PATHS.health: {
          const health = await this.sources.health()
          if (health.ok) send(res, 200, TEXT, 'ok\n')
          else send(res, 503, TEXT, `unhealthy: ${health.reason}\n`)
          return
        }
        default:
          send(res, 404, TEXT, `no such page; try ${Object.values(OBSERVE_PATHS).join(', ')}\n`)
      }
    } catch (err) {
      if (!res.headersSent) send(res, 500, TEXT, `cannot answer: ${(err as Error).message}\n`)
      else res.destroy()
    }
  }

  /**
   * The page and the status JSON answer only requests addressed to an IP or `localhost`: a web
   * page elsewhere that points its own host name at this address (DNS rebinding) gets nothing.
   */
  private refuseForeignHost (req: IncomingMessage, res: ServerResponse): boolean {
    const name = hostName(req.headers.host)
    if (name === undefined || name === 'localhost' || isIP(name) !== 0) return false
    send(res, 421, TEXT, `the status page answers only requests to an IP address or localhost, not to ${JSON.stringify(name.slice(0, 64))}: open it by address\n`)
    return true
  }
}

/** The host part of a Host header (`[::1]:9464` gives `::1`), or undefined when there is none. */
function hostName (header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined
  if (header.startsWith('[')) {
    const end = header.indexOf(']')
    return end < 0 ? header : header.slice(1, end)
  }
  const colon = header.indexOf(':')
  return (colon < 0 ? header : header.slice(0, colon)).toLowerCase()
}

function send (res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: OutgoingHttpHeaders = {}): void {
  res.writeHead(status, {
    ...COMMON_HEADERS,
    'content-security-policy': NOTHING_CSP,
    ...headers,
    'content-type': contentType,
    'content-length': Buffer.byteLength(body)
  })
  res.end(body)
}
