/**
 * A node agent that embeds p2p-bootstrap: the agent your own product runs on every machine,
 * with the cluster bootstrap as one of its jobs. It logs the bootstrapper's events, waits for
 * the committed plan, shows the status, and stops cleanly on SIGTERM (systemd's stop) or SIGINT.
 *
 * Run it on loopback, rendering into a folder and starting nothing (Node 24 runs TypeScript as is;
 * the packages are used from their build, hence `npx tsc -b` first):
 *
 *   npx tsc -b
 *   export P2PB_TOKEN=$(npx p2p-bootstrap token generate --expect 1)
 *   npx node examples/embed/node-agent.ts --dry-run --state-dir /tmp/agent/state --root /tmp/agent/root \
 *     --listen /ip4/127.0.0.2/tcp/0 --node-ip 127.0.0.2 --no-discovery
 *
 * While it runs, `p2p-bootstrap status --state-dir /tmp/agent/state` asks it over its socket, as
 * it would ask `p2p-bootstrap run`. `runNodeAgent` is the part to copy: it takes its settings and a
 * stop signal, and returns what the node knew when it stopped.
 */
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { createBootstrapper, shortId } from '@p2p-bootstrap/bootstrapper'
import type { Bootstrapper, BootstrapperError, ProfileName, StatusReport } from '@p2p-bootstrap/bootstrapper'
import type { Plan } from '@p2p-bootstrap/core'

export interface NodeAgentSettings {
  /** The network token text. */
  readonly token: string
  /** Identity, votes and ledger (0700). Keep it across reboots: it is who this node is. */
  readonly stateDir: string
  /** Where this node's k3s files are written: `/` on a machine, a folder to inspect them. */
  readonly root: string
  /** libp2p listen addresses; a port of 0 picks a free one. */
  readonly listen: readonly string[]
  /** Static peers (`192.168.1.10`, `host:port` or a multiaddr; no peer id needed); one is enough, the rest are learnt from it. */
  readonly peers: readonly string[]
  /** k3s' node-ip; default: the host's first IPv4 (or the listen address, when it names one). */
  readonly nodeIp?: string
  /** Write the files only; start nothing. */
  readonly dryRun: boolean
  /** mDNS and the private DHT; off on loopback, where the static peers are enough. */
  readonly discovery: boolean
  readonly profile?: ProfileName
  /** Where log lines go; default standard output. */
  readonly log?: (line: string) => void
  /** Told once the node listens, with its addresses (each ends in /p2p/<node id>). */
  readonly onListening?: (addresses: readonly string[]) => void
}

/** What the node knew when it stopped. */
export interface NodeAgentReport {
  readonly nodeId: string
  readonly plan: Plan | null
  readonly status: StatusReport
}

/** Runs the bootstrap until `signal` aborts (or a fatal error stops it), then stops cleanly. */
export async function runNodeAgent (settings: NodeAgentSettings, signal: AbortSignal): Promise<NodeAgentReport> {
  const log = settings.log ?? ((line: string) => { process.stdout.write(`${line}\n`) })
  const bootstrapper = createBootstrapper({
    token: settings.token,
    stateDir: settings.stateDir,
    root: settings.root,
    listen: [...settings.listen],
    peers: [...settings.peers],
    mdns: settings.discovery,
    dht: settings.discovery,
    dryRun: settings.dryRun,
    ...(settings.profile === undefined ? {} : { profile: settings.profile }),
    ...(settings.nodeIp === undefined ? {} : { node: { nodeIp: settings.nodeIp } })
  })
  // Listeners must not throw: they only log. A fatal error has already stopped the bootstrapper.
  const failed = new AbortController()
  bootstrapper.addEventListener('peer:join', (event) => { log(`peer joined: ${shortId(event.detail.nodeId)}`) })
  bootstrapper.addEventListener('peer:leave', (event) => { log(`peer gone (${event.detail.reason}): ${shortId(event.detail.nodeId)}`) })
  bootstrapper.addEventListener('phase', (event) => { log(`phase ${event.detail.phase}; waiting for: ${event.detail.waitingFor}`) })
  bootstrapper.addEventListener('applied', (event) => { log(`applied: ${event.detail.part.role}, ${event.detail.service}; files ${event.detail.files.join(', ')}`) })
  bootstrapper.addEventListener('ready', () => { log('cluster ready: every node of the plan reports k3s Ready') })
  bootstrapper.addEventListener('notice', (event) => { log(`notice: ${event.detail.message}`) })
  bootstrapper.addEventListener('error', (event) => {
    log(`${event.detail.fatal ? 'fatal' : 'error'} ${event.detail.code}: ${event.detail.message}`)
    if (event.detail.fatal) failed.abort(event.detail)
  })

  const waiting = AbortSignal.any([signal, failed.signal])
  let plan: Plan | null = null
  let status: StatusReport | undefined
  try {
    await bootstrapper.start({ signal: waiting })
    const addresses = bootstrapper.addresses()
    log(`node ${bootstrapper.nodeId} listening on ${addresses.join(' ')}`)
    settings.onListening?.(addresses)
    plan = await bootstrapper.waitForPlan({ signal: waiting })
    const self = bootstrapper.status()
    log(`plan epoch ${plan.epoch}: init ${shortId(plan.init)}, ${plan.controlPlanes.length} control plane(s), ` +
      `${plan.workers.length} worker(s); this node is ${self.role ?? 'not in the plan'}`)
    // Serve the ledger to nodes that come later, until told to stop.
    await untilAborted(waiting)
  } catch (err) {
    if (!waiting.aborted) throw err // a real failure; an abort is the normal way to stop
  } finally {
    status = statusOrUndefined(bootstrapper)
    await bootstrapper.stop()
  }
  if (failed.signal.aborted) throw failed.signal.reason as BootstrapperError
  if (status === undefined) throw new Error('the bootstrapper stopped before it started: see the lines above')
  log(`stopped: phase ${status.phase}, ${status.members.length} member(s) known`)
  return { nodeId: status.nodeId, plan, status }
}

function statusOrUndefined (bootstrapper: Bootstrapper): StatusReport | undefined {
  try {
    return bootstrapper.status()
  } catch {
    return undefined // never started
  }
}

async function untilAborted (signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
}

/** The program: flags for the settings, the token from P2PB_TOKEN, SIGTERM and SIGINT to stop. */
async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      'state-dir': { type: 'string', default: '/var/lib/p2p-bootstrap' },
      root: { type: 'string', default: '/' },
      listen: { type: 'string', multiple: true, default: ['/ip4/0.0.0.0/tcp/4001'] },
      peer: { type: 'string', multiple: true, default: [] },
      'node-ip': { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      'no-discovery': { type: 'boolean', default: false }
    }
  })
  const token = process.env.P2PB_TOKEN ?? ''
  if (token.trim() === '') {
    process.stderr.write('node-agent: set P2PB_TOKEN to the network token (p2p-bootstrap token generate makes one)\n')
    process.exitCode = 2
    return
  }
  const stop = new AbortController()
  for (const name of ['SIGTERM', 'SIGINT'] as const) process.once(name, () => { stop.abort() })
  await runNodeAgent({
    token,
    stateDir: values['state-dir'],
    root: values.root,
    listen: values.listen,
    peers: values.peer,
    dryRun: values['dry-run'],
    discovery: !values['no-discovery'],
    ...(values['node-ip'] === undefined ? {} : { nodeIp: values['node-ip'] })
  }, stop.signal)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`node-agent: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
