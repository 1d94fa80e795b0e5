import { createServer, request } from 'node:http'
import type { Server } from 'node:http'
import { chmod, rm } from 'node:fs/promises'
import { BootstrapperError } from './errors.js'
import type { StatusReport } from './status-report.js'

/** The socket's name in the state dir; the dir is 0700 and the socket 0600. */
export const STATUS_SOCKET_NAME = 'agent.sock'
const STATUS_PATH = '/v1/status'
const RESPONSE_BYTES_MAX = 4 * 1024 * 1024

/**
 * Serves `GET /v1/status` as JSON on a unix socket, for `p2p-bootstrap status`. Only root (or the
 * agent's user) can reach it: the socket is 0600 inside a 0700 dir.
 */
export class StatusServer {
  private server: Server | undefined

  constructor (private readonly socketPath: string, private readonly report: () => StatusReport) {}

  async start (): Promise<void> {
    if (this.server !== undefined) return
    // The state dir is locked by this agent, so a socket file left there is a dead agent's.
    await rm(this.socketPath, { force: true })
    const server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url !== STATUS_PATH) {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: `unknown request ${req.method ?? ''} ${req.url ?? ''}; use GET ${STATUS_PATH}` }))
        return
      }
      let body: string
      try {
        body = JSON.stringify(this.report())
      } catch (err) {
        res.writeHead(500, { 'content-type': 'application/json' })
        res.end(JSON.stringify({ error: (err as Error).message }))
        return
      }
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(body)
    })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.socketPath, () => { server.off('error', reject); resolve() })
    }).catch((err: unknown) => {
      throw new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `cannot serve status on ${this.socketPath}: ${(err as Error).message}`, { cause: err })
    })
    await chmod(this.socketPath, 0o600)
    server.unref()
    this.server = server
  }

  async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    await rm(this.socketPath, { force: true })
  }
}

/** Asks the agent whose socket is `socketPath` for its status. */
export async function fetchStatus (socketPath: string, options: { signal?: AbortSignal } = {}): Promise<StatusReport> {
  const signal = options.signal ?? AbortSignal.timeout(5_000)
  const body = await new Promise<string>((resolve, reject) => {
    const req = request({ socketPath, path: STATUS_PATH, method: 'GET', signal }, (res) => {
      const chunks: Buffer[] = []
      let bytes = 0
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength
        if (bytes > RESPONSE_BYTES_MAX) { req.destroy(new Error(`status reply over ${RESPONSE_BYTES_MAX} bytes`)); return }
        chunks.push(chunk)
      })
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8')
        if (res.statusCode !== 200) reject(new Error(`agent answered ${res.statusCode ?? 0}: ${text}`))
        else resolve(text)
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  }).catch((err: unknown) => {
    const code = (err as NodeJS.ErrnoException).code
    const hint = code === 'ENOENT' || code === 'ECONNREFUSED'
      ? 'no agent is running with this state dir (start `p2p-bootstrap run`, or pass the --state-dir it uses)'
      : code === 'EACCES' ? 'permission denied: run as the agent\'s user (usually root)' : (err as Error).message
    throw new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `cannot read status from ${socketPath}: ${hint}`, { cause: err })
  })
  return JSON.parse(body) as StatusReport
}
