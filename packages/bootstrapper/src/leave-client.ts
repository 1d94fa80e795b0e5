import { request } from 'node:http'
import type { IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { setTimeout as delay } from 'node:timers/promises'
import { z } from 'zod'
import { BootstrapperError } from './errors.js'
import type { BootstrapperErrorCode } from './errors.js'
import { LEAVE_PATH, agentUnreachable, isNoAgent } from './status-server.js'
import type { LeaveUpdate } from './status-report.js'

/** Longest line of the `leave` stream: an epoch record of a first plan with a thousand voters fits. */
const LINE_BYTES_MAX = 1024 * 1024
/** Lines one stream may carry; a node waits for a few epochs, not for thousands. */
const LINES_MAX = 100_000
/** Pace of the check that the agent's socket is gone once the node left. */
const GONE_POLL_MS = 100
/** The refusal codes the agent relays; any other code reads as a socket problem. */
const RELAYED_CODES: readonly BootstrapperErrorCode[] = ['BOOTSTRAP_NO_PLAN', 'BOOTSTRAP_STOPPED', 'BOOTSTRAP_NOT_STARTED', 'BOOTSTRAP_STORAGE_FAILED']

const nodeIds = z.array(z.string().min(1))
const epochRecordSchema = z.strictObject({
  epoch: z.number().int().positive(),
  proposer: z.string().min(1),
  voters: nodeIds,
  decidedAtMs: z.number(),
  controlPlanes: nodeIds,
  replaced: nodeIds,
  retired: nodeIds,
  notes: z.array(z.string())
})

const leaveUpdateSchema = z.discriminatedUnion('event', [
  z.strictObject({ event: z.literal('leaving'), nodeId: z.string().min(1), epoch: z.number().int().nonnegative(), role: z.enum(['control-plane', 'worker']).nullable(), waitingFor: z.string() }),
  z.strictObject({ event: z.literal('waiting'), waitingFor: z.string() }),
  z.strictObject({ event: z.literal('epoch'), record: epochRecordSchema }),
  z.strictObject({ event: z.literal('retired'), epoch: z.number().int().positive() }),
  z.strictObject({ event: z.literal('left'), epoch: z.number().int().positive() }),
  z.strictObject({ event: z.literal('error'), code: z.string(), error: z.string() })
])

const refusalSchema = z.looseObject({ error: z.string(), code: z.string().optional() })

/**
 * Asks the agent whose socket is `socketPath` to leave the cluster, and follows it: `onUpdate`
 * gets each line of its progress (see `LeaveUpdate`). Resolves with the epoch that retired the
 * node once the agent says it left (it stops right after: `waitForAgentGone`). Throws
 * `BootstrapperError`: the agent's own code when it refuses (`BOOTSTRAP_NO_PLAN` before the
 * cluster is formed) or stops first (`BOOTSTRAP_STOPPED`), `BOOTSTRAP_STATUS_SOCKET` when no agent
 * answers or the answer is not this protocol. An aborted `signal` rejects with its reason; the
 * agent keeps leaving.
 */
export async function requestLeave (socketPath: string, options: { signal?: AbortSignal, onUpdate?: (update: LeaveUpdate) => void } = {}): Promise<{ epoch: number }> {
  const { signal } = options
  signal?.throwIfAborted()
  // Set from the stream's callbacks: an object, so the checks after it are not narrowed away.
  const outcome: { left: number | null, failure: { code: string, error: string } | null } = { left: null, failure: null }
  const onLine = (update: LeaveUpdate): void => {
    if (update.event === 'left') outcome.left = update.epoch
    if (update.event === 'error') outcome.failure = update
    options.onUpdate?.(update)
  }
  try {
    await streamLines(socketPath, signal, onLine)
  } catch (err) {
    if (signal?.aborted === true) throw signal.reason
    throw err
  }
  if (outcome.failure !== null) throw relayed(outcome.failure.code, outcome.failure.error)
  if (outcome.left === null) {
    throw new BootstrapperError('BOOTSTRAP_STOPPED', `the agent on ${socketPath} stopped before a committed epoch retired this node; its request to leave stays in the ledger: start the agent again and repeat \`p2p-bootstrap leave\``)
  }
  return { epoch: outcome.left }
}

/** Resolves once nothing listens on `socketPath` any more (the agent stopped), polling its socket. */
export async function waitForAgentGone (socketPath: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  for (;;) {
    options.signal?.throwIfAborted()
    const listening = await new Promise<boolean>((resolve, reject) => {
      const socket = connect({ path: socketPath })
      socket.once('connect', () => { socket.destroy(); resolve(true) })
      socket.once('error', (err: NodeJS.ErrnoException) => {
        socket.destroy()
        if (isNoAgent(err)) resolve(false)
        // A connection reset while the agent closes its socket: it is on its way out; look again.
        else if (err.code === 'ECONNRESET') resolve(true)
        else reject(agentUnreachable(socketPath, 'check whether the agent stopped on', err))
      })
    })
    if (!listening) return
    await delay(GONE_POLL_MS, undefined, options.signal === undefined ? {} : { signal: options.signal })
  }
}

function relayed (code: string, message: string): BootstrapperError {
  const known = (RELAYED_CODES as readonly string[]).includes(code)
  return new BootstrapperError(known ? code as BootstrapperErrorCode : 'BOOTSTRAP_STATUS_SOCKET', known ? message : `the agent refused to leave: ${message}`)
}

/** POSTs the leave request and hands each line of the answer to `onLine`, strictly decoded. */
async function streamLines (socketPath: string, signal: AbortSignal | undefined, onLine: (update: LeaveUpdate) => void): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const req = request({ socketPath, path: LEAVE_PATH, method: 'POST', headers: { 'content-length': '0' }, ...(signal === undefined ? {} : { signal }) }, (res) => {
      if (res.statusCode !== 200) {
        collectRefusal(res, socketPath).then(reject, reject)
        return
      }
      let pending = ''
      let lines = 0
      const fail = (message: string): void => {
        req.destroy()
        reject(new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `the agent on ${socketPath} answered leave with ${message}: is it the same p2p-bootstrap version as this command?`))
      }
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        pending += chunk
        for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
          const text = pending.slice(0, end)
          pending = pending.slice(end + 1)
          if (++lines > LINES_MAX) { fail(`over ${LINES_MAX} lines`); return }
          const parsed = leaveUpdateSchema.safeParse(parseJson(text))
          if (!parsed.success) { fail(`a line of the wrong shape (${text.slice(0, 80)})`); return }
          onLine(parsed.data)
        }
        if (Buffer.byteLength(pending) > LINE_BYTES_MAX) fail(`a line over ${LINE_BYTES_MAX} bytes`)
      })
      res.on('end', () => { if (pending === '') resolve(); else fail('a cut last line') })
      res.on('error', reject)
    })
    req.on('error', (err) => { reject(signal?.aborted === true ? err : agentUnreachable(socketPath, 'ask the agent to leave through', err)) })
    req.end()
  })
}

/** The agent refused: its code and message when it says them, else what an old agent looks like. */
async function collectRefusal (res: IncomingMessage, socketPath: string): Promise<never> {
  const chunks: Buffer[] = []
  let bytes = 0
  for await (const chunk of res) {
    const buffer = chunk as Buffer
    bytes += buffer.byteLength
    if (bytes > LINE_BYTES_MAX) break
    chunks.push(buffer)
  }
  const refusal = refusalSchema.safeParse(parseJson(Buffer.concat(chunks).toString('utf8')))
  // Agents that serve leave give every refusal a code; an older one answers 404 without.
  if (res.statusCode === 404 && (!refusal.success || refusal.data.code === undefined)) {
    throw new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `the agent on ${socketPath} does not serve leave (an older p2p-bootstrap?): upgrade it to the version of this command`)
  }
  if (!refusal.success) throw new BootstrapperError('BOOTSTRAP_STATUS_SOCKET', `the agent on ${socketPath} refused leave with status ${res.statusCode ?? 0}`)
  throw relayed(refusal.data.code ?? '', refusal.data.error)
}

function parseJson (text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return undefined
  }
}
