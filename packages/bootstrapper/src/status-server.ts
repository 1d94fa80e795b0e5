import { createServer, request } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { chmod, rm } from 'node:fs/promises'
import type { Duplex } from 'node:stream'
import { z } from 'zod'
import { P2pBootstrapError } from '@p2p-bootstrap/core'
import { ConnectionGuard } from './connection-guard.js'
import type { ConnectionGuardStats } from './connection-guard.js'
import { BootstrapperError } from './errors.js'
import type { BootstrapperErrorCode } from './errors.js'
import { KubeconfigError } from './kubeconfig/errors.js'
import { formatSealedKubeconfig, parseSealedKubeconfigText } from './kubeconfig/sealed-kubeconfig.js'
import type { SealedKubeconfig } from './kubeconfig/sealed-kubeconfig.js'
import type { LeaveUpdate, StatusReport } from './status-report.js'

/** The socket's name in the state dir; the dir is 0700 and the socket 0600. */
export const STATUS_SOCKET_NAME = 'agent.sock'
export const STATUS_PATH = '/v1/status'
export const KUBECONFIG_PATH = '/v1/kubeconfig'
export const LEAVE_PATH = '/v1/leave'
const RESPONSE_BYTES_MAX = 4 * 1024 * 1024
const REQUEST_TIMEOUT_MS = 5_000
/** Request heads are a line and a few headers; anything larger is not one of our clients. */
const REQUEST_HEADER_BYTES_MAX = 8 * 1024
/** Connections open at once; the CLI opens one per command. Past it the oldest idle one is closed. */
const CONNECTIONS_MAX = 32
/** The CLI sends its request as soon as it connects: a connection idle this long is not one of ours. */
const IDLE_TIMEOUT_MS = 2_000
/** `leave` streams open at once (each lasts until the node left): more is a client looping. */
const LEAVE_STREAMS_MAX = 4
/** How long stop() lets open `leave` streams end with their last line before closing them. */
const STREAM_END_GRACE_MS = 1_000

/** What each route answers to; anything else is refused with 404, or 405 for a known path. */
const ROUTES: Readonly<Record<string, 'GET' | 'POST'>> = {
  [STATUS_PATH]: 'GET',
  [KUBECONFIG_PATH]: 'GET',
  [LEAVE_PATH]: 'POST'
}

export interface StatusServerProviders {
  /**
   * The sealed admin kubeconfig a Ready control plane published, or null if there is none (no
   * admin keys configured, or no control plane Ready yet). Without it the route answers 404.
   */
  readonly kubeconfig?: () => SealedKubeconfig | null
  /**
   * Asks this node to leave and reports progress through `send` until it left; resolves when the
   * stream is complete. A rejection before the first `send` is answered with an error status (409
   * when there is no plan yet); after it, with an `error` line. `signal` aborts when the client
   * goes away (the node keeps leaving). Without it the route answers 404.
   */
  readonly leave?: (send: (update: LeaveUpdate) => void, signal: AbortSignal) => Promise<void>
}

/** Answered with 404 when no kubeconfig is published, so the client can tell it from an old agent. */
const NOT_PUBLISHED_MESSAGE = 'no sealed kubeconfig is published: the cluster has no admin keys configured (admin-keys in the config), or no control plane is Ready yet'

/** The HTTP status of a refused `leave`, by the bootstrapper's code. */
const LEAVE_REFUSAL_STATUS: Readonly<Partial<Record<BootstrapperErrorCode, number>>> = {
  BOOTSTRAP_NO_PLAN: 409,
  BOOTSTRAP_STOPPED: 503,
  BOOTSTRAP_NOT_STARTED: 503
}

/**
 * Serves `GET /v1/status`, `GET /v1/kubeconfig` and `POST /v1/leave` as JSON on a unix socket, for
 * `p2p-bootstrap status`, `kubeconfig get` and `leave`. Only root (or the agent's user) can reach
 * it: the socket is 0600 inside a 0700 dir. The kubeconfig route only ever hands out sealed boxes;
 * `leave` is the one request that changes anything, and takes no arguments. Requests are checked
 * strictly (method, path, no query, no body, small heads); a bad one is answered with an error and
 * the server keeps serving.
 */
export class StatusServer {
  private server: Server | undefined
  private guard: ConnectionGuard | undefined
  private readonly streams = new Set<ServerResponse>()

  constructor (
    private readonly socketPath: string,
    private readonly report: () => StatusReport,
    private readonly providers: StatusServerProviders = {}
  ) {}

  async start (): Promise<void> {
    if (this.server !== undefined) return
    // The state dir is locked by this agent, so a socket file left there is a dead agent's.
    await rm(this.socketPath, { force: true })
    const server = createServer({ maxHeaderSize: REQUEST_HEADER_BYTES_MAX, headersTimeout: REQUEST_TIMEOUT_MS, requestTimeout: REQUEST_TIMEOUT_MS }, (req, res) => {
      this.answer(req, res)
    })
    // Idle connections held open by another local process never lock the owner out.
    this.guard = new ConnectionGuard(server, { connectionsMax: CONNECTIONS_MAX, connectionsPerClientMax: CONNECTIONS_MAX, idleTimeoutMs: IDLE_TIMEOUT_MS })
    // A request that is not HTTP at all gets one JSON line and a closed connection, nothing more.
    server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (!socket.writable) { socket.destroy(); return }
      const body = JSON.stringify({ error: `not a request this agent understands (${err.code ?? err.message}); use ${routeList()}`, code: 'BAD_REQUEST' })
      socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`)
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

  /** Connections closed or refused to keep the socket answering (see ConnectionGuard), or null when stopped. */
  connectionStats (): ConnectionGuardStats | null {
    return this.guard === undefined ? null : { ...this.guard.stats }
  }

  async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    this.guard = undefined
    if (server === undefined) return
    // A `leave` stream's last line (`left`) was written just before the agent stops: let it out.
    await Promise.all([...this.streams].map(async (res) => { await endWithin(res, STREAM_END_GRACE_MS) }))
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
    await rm(this.socketPath, { force: true })
  }

  private answer (req: IncomingMessage, res: ServerResponse): void {
    const send = (status: number, body: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers })
      res.end(JSON.stringify(body))
    }
    const url = req.url ?? ''
    const method = ROUTES[url]
    try {
      if (method === undefined) {
        send(404, { error: `unknown request ${req.method ?? ''} ${url}; use ${routeList()}`, code: 'NOT_FOUND' })
      } else if (req.method !== method) {
        send(405, { error: `${url} answers ${method} only, not ${req.method ?? ''}`, code: 'METHOD_NOT_ALLOWED' }, { allow: method })
      } else if (hasBody(req)) {
        // Every request is its path alone: a body is a client of another protocol, or a mistake.
        send(400, { error: `${method} ${url} takes no body`, code: 'BAD_REQUEST' })
        req.resume()
      } else if (url === STATUS_PATH) {
        send(200, this.report())
      } else if (url === KUBECONFIG_PATH) {
        const published = this.providers.kubeconfig?.() ?? null
        if (published === null) send(404, { error: NOT_PUBLISHED_MESSAGE, code: 'KUBECONFIG_NOT_PUBLISHED' })
        else send(200, { nodeId: published.nodeId, sealed: formatSealedKubeconfig(published.sealed) })
      } else {
        this.answerLeave(res, send)
      }
    } catch (err) {
      send(500, { error: (err as Error).message })
    }
  }

  /** Streams the node's progress towards leaving, one JSON line per update. */
  private answerLeave (res: ServerResponse, send: (status: number, body: unknown) => void): void {
    const leave = this.providers.leave
    if (leave === undefined) {
      send(404, { error: 'this agent cannot leave from here (no leave provider)', code: 'NOT_FOUND' })
      return
    }
    if (this.streams.size >= LEAVE_STREAMS_MAX) {
      send(503, { error: `${LEAVE_STREAMS_MAX} leave requests are already being followed; wait for one to end`, code: 'BUSY' })
      return
    }
    const gone = new AbortController()
    res.on('close', () => { gone.abort(new Error('the client went away')) })
    let streaming = false
    const line = (update: LeaveUpdate): void => {
      if (res.writableEnded) return
      if (!streaming) {
        streaming = true
        this.streams.add(res)
        res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
      }
      res.write(`${JSON.stringify(update)}\n`)
    }
    leave(line, gone.signal).then(() => {
      if (streaming) res.end()
      else send(500, { error: 'the leave request ended without a word' })
    }, (err: unknown) => {
      const code = err instanceof P2pBootstrapError ? err.code : 'INTERNAL'
      const message = err instanceof Error ? err.message : String(err)
      if (streaming) {
        line({ event: 'error', code, error: message })
        res.end()
      } else {
        send((LEAVE_REFUSAL_STATUS as Readonly<Record<string, number | undefined>>)[code] ?? 500, { error: message, code })
      }
    }).finally(() => { this.streams.delete(res) })
  }
}

function routeList (): string {
  return Object.entries(ROUTES).map(([path, method]) => `${method} ${path}`).join(', ')
}

/** True when the request says it carries a body (a length above 0, or chunks). */
function hasBody (req: IncomingMessage): boolean {
  const length = req.headers['content-length']
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined
}

/** Ends `res` and waits for its bytes to leave, but no longer than `graceMs`. */
async function endWithin (res: ServerResponse, graceMs: number): Promise<void> {
  if (res.writableFinished || res.destroyed) return
  let timer: ReturnType<typeof setTimeout> | undefined
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, graceMs)
    res.once('finish', resolve)
    res.once('close', resolve)
    if (!res.writableEnded) res.end()
  })
  clearTimeout(timer)
}

/** Asks the agent whose socket is `socketPath` for its status. */
export async function fetchStatus (socketPath: string, options: { signal?: AbortSignal } = {}): Promise<StatusReport> {
  const reply = await getFromAgent(socketPath, STATUS_PATH, 'status', options.signal)
  if (reply.statusCode !== 200) throw agentRefused(socketPath, 'status', reply)
  return JSON.parse(reply.body) as StatusReport
}

const kubeconfigReplySchema = z.strictObject({ nodeId: z.string().min(1), sealed: z.string().min(1) })
const errorReplySchema = z.looseObject({ error: z.string(), code: z.string().optional() })

/**
 * Asks the agent whose socket is `socketPath` for the sealed admin kubeconfig a control plane
 * published. Throws `KubeconfigError` 'KUBECONFIG_NOT_PUBLISHED' when there is none yet, and
 * `BootstrapperError` 'BOOTSTRAP_STATUS_SOCKET' when the agent cannot be reached or answers oddly.
 */
export async function fetchSealedKubeconfig (socketPath: string, options: { signal?: AbortSignal } = {}): Promise<SealedKubeconfig> {
  const what = 'the sealed kubeconfig'
  const reply = await getFromAgent(socketPath, KUBECONFIG_PATH, what, options.signal)
  if (reply.statusCode === 404) {
    const refusal = errorReplySchema.safeParse(parseJson(reply.body))
    if (refusal.success && refusal.data.code === 'KUBECONFIG_NOT_PUBLISHED') {
      throw new KubeconfigError('KUBECONFIG_NOT_PUBLISHED', `${refusal.data.error}; check with \`p2p-bootstrap status\``)
    }
    throw new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `the agent on ${socketPath} does not serve ${what} (an older p2p-bootstrap?): upgrade it to the version of this command`)
  }
  if (reply.statusCode !== 200) throw agentRefused(socketPath, what, reply)
  const parsed = kubeconfigReplySchema.safeParse(parseJson(reply.body))
  if (!parsed.success) {
    throw new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `the agent on ${socketPath} answered ${what} with a reply of the wrong shape: is it the same p2p-bootstrap version as this command?`)
  }
  return { nodeId: parsed.data.nodeId, sealed: parseSealedKubeconfigText(parsed.data.sealed) }
}

interface AgentReply {
  readonly statusCode: number
  readonly body: string
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}

function agentRefused (socketPath: string, what: string, reply: AgentReply): BootstrapperError {
  return new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `cannot read ${what} from ${socketPath}: agent answered ${reply.statusCode}: ${reply.body}`)
}

/** One bounded GET on the agent socket; connection failures become an error naming the fix. */
async function getFromAgent (socketPath: string, path: string, what: string, signal: AbortSignal = AbortSignal.timeout(REQUEST_TIMEOUT_MS)): Promise<AgentReply> {
  return await new Promise<AgentReply>((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', signal }, (res) => {
      const chunks: Buffer[] = []
      let bytes = 0
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.byteLength
        if (bytes > RESPONSE_BYTES_MAX) { req.destroy(new Error(`reply over ${RESPONSE_BYTES_MAX} bytes`)); return }
        chunks.push(chunk)
      })
      res.on('end', () => { resolve({ statusCode: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  }).catch((err: unknown) => {
    throw agentUnreachable(socketPath, `read ${what} from`, err)
  })
}

/** True for the errors of a socket no agent listens on (no file, or a dead agent's file). */
export function isNoAgent (err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ECONNREFUSED'
}

/** A failure to reach the agent socket, as an error that names the fix: "cannot <doing> <socket>: <hint>". */
export function agentUnreachable (socketPath: string, doing: string, err: unknown): BootstrapperError {
  const hint = isNoAgent(err)
    ? 'no agent is running with this state dir (start `p2p-bootstrap run`, or pass the --state-dir it uses)'
    : (err as NodeJS.ErrnoException).code === 'EACCES' ? 'permission denied: run as the agent\'s user (usually root)' : (err as Error).message
  return new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `cannot ${doing} ${socketPath}: ${hint}`, { cause: err })
}
