import { createServer, request } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import { chmod, rm } from 'node:fs/promises'
import { z } from 'zod'
import { BootstrapperError } from './errors.js'
import { KubeconfigError } from './kubeconfig/errors.js'
import { formatSealedKubeconfig, parseSealedKubeconfigText } from './kubeconfig/sealed-kubeconfig.js'
import type { SealedKubeconfig } from './kubeconfig/sealed-kubeconfig.js'
import type { StatusReport } from './status-report.js'

/** The socket's name in the state dir; the dir is 0700 and the socket 0600. */
export const STATUS_SOCKET_NAME = 'agent.sock'
const STATUS_PATH = '/v1/status'
const KUBECONFIG_PATH = '/v1/kubeconfig'
const RESPONSE_BYTES_MAX = 4 * 1024 * 1024
const REQUEST_TIMEOUT_MS = 5_000

export interface StatusServerProviders {
  /**
   * The sealed admin kubeconfig a Ready control plane published, or null if there is none (no
   * admin keys configured, or no control plane Ready yet). Without it the route answers 404.
   */
  readonly kubeconfig?: () => SealedKubeconfig | null
}

/** Answered with 404 when no kubeconfig is published, so the client can tell it from an old agent. */
const NOT_PUBLISHED_MESSAGE = 'no sealed kubeconfig is published: the cluster has no admin keys configured (admin-keys in the config), or no control plane is Ready yet'

/**
 * Serves `GET /v1/status` and `GET /v1/kubeconfig` as JSON on a unix socket, for `p2p-bootstrap
 * status` and `p2p-bootstrap kubeconfig get`. Only root (or the agent's user) can reach it: the
 * socket is 0600 inside a 0700 dir. The kubeconfig route only ever hands out sealed boxes.
 */
export class StatusServer {
  private server: Server | undefined

  constructor (
    private readonly socketPath: string,
    private readonly report: () => StatusReport,
    private readonly providers: StatusServerProviders = {}
  ) {}

  async start (): Promise<void> {
    if (this.server !== undefined) return
    // The state dir is locked by this agent, so a socket file left there is a dead agent's.
    await rm(this.socketPath, { force: true })
    const server = createServer((req, res) => { this.answer(req, res) })
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

  private answer (req: IncomingMessage, res: ServerResponse): void {
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' })
      res.end(JSON.stringify(body))
    }
    const route = req.method === 'GET' ? req.url : undefined
    try {
      if (route === STATUS_PATH) {
        send(200, this.report())
      } else if (route === KUBECONFIG_PATH) {
        const published = this.providers.kubeconfig?.() ?? null
        if (published === null) send(404, { error: NOT_PUBLISHED_MESSAGE, code: 'KUBECONFIG_NOT_PUBLISHED' })
        else send(200, { nodeId: published.nodeId, sealed: formatSealedKubeconfig(published.sealed) })
      } else {
        send(404, { error: `unknown request ${req.method ?? ''} ${req.url ?? ''}; use GET ${STATUS_PATH} or GET ${KUBECONFIG_PATH}` })
      }
    } catch (err) {
      send(500, { error: (err as Error).message })
    }
  }
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
    const code = (err as NodeJS.ErrnoException).code
    const hint = code === 'ENOENT' || code === 'ECONNREFUSED'
      ? 'no agent is running with this state dir (start `p2p-bootstrap run`, or pass the --state-dir it uses)'
      : code === 'EACCES' ? 'permission denied: run as the agent\'s user (usually root)' : (err as Error).message
    throw new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `cannot read ${what} from ${socketPath}: ${hint}`, { cause: err })
  })
}
