// One benchmark node: a single bootstrapper in its own process, so its CPU and memory are its own,
// started with options the CLI does not expose (the naive baseline's `tuning`). It logs JSON lines
// shaped like `p2p-bootstrap run --json` (`time`, `event`, then the facts), so the fleet reads both
// the same way. Run by Node itself (type stripping, no tsx: only type imports are relative) on the
// packages' built dist, exactly as the CLI is:
//
//   P2PB_TOKEN=… node benchmarks/lib/bench-node.ts <options.json>
//
// where options.json holds BootstrapperOptions without the token. SIGTERM or SIGINT stop it
// (bounded); it also stops when its standard input closes, so a dead benchmark leaves no node.
import { readFileSync } from 'node:fs'
import { createBootstrapper } from '@p2p-bootstrap/bootstrapper'
import type { BootstrapperOptions } from '@p2p-bootstrap/bootstrapper'

/** How long a stop may take before the process exits anyway (the CLI's bound too). */
const STOP_BOUND_MS = 10_000

function log (event: string, fields: Readonly<Record<string, unknown>> = {}): void {
  process.stdout.write(JSON.stringify({ time: Date.now(), event, ...fields }) + '\n')
}

const optionsPath = process.argv[2]
const token = process.env.P2PB_TOKEN
if (optionsPath === undefined || token === undefined || token === '') {
  process.stderr.write('usage: P2PB_TOKEN=<token> node benchmarks/lib/bench-node.ts <options.json>\n')
  process.exit(2)
}
const options = JSON.parse(readFileSync(optionsPath, 'utf8')) as Omit<BootstrapperOptions, 'token'>
const bootstrapper = createBootstrapper({ ...options, token })

let lastFound = -1
const found = (): void => {
  const alive = bootstrapper.status().members.filter(member => member.state === 'alive' || member.state === 'self').length
  if (alive === lastFound) return
  lastFound = alive
  log('peers', { found: alive })
}
bootstrapper.addEventListener('peer:join', () => { found() })
bootstrapper.addEventListener('peer:leave', (event) => { log('peer:leave', event.detail); found() })
bootstrapper.addEventListener('phase', (event) => { log('phase', { phase: event.detail.phase }) })
bootstrapper.addEventListener('plan', (event) => { log('plan', { epoch: event.detail.view.epoch, controlPlanes: event.detail.view.controlPlanes }) })
bootstrapper.addEventListener('role', (event) => { log('role', { role: event.detail.role, epoch: event.detail.epoch }) })
bootstrapper.addEventListener('applied', (event) => { log('applied', { role: event.detail.part.role }) })
bootstrapper.addEventListener('error', (event) => { log('error', { code: event.detail.code, message: event.detail.message, fatal: event.detail.fatal }) })

let stopping: Promise<void> | undefined
function stop (status: number): void {
  stopping ??= (async () => {
    const bound = setTimeout(() => { process.exit(status) }, STOP_BOUND_MS)
    bound.unref()
    await bootstrapper.stop().catch(() => {})
    log('stopped')
    process.exit(status)
  })()
}
process.on('SIGTERM', () => { stop(0) })
process.on('SIGINT', () => { stop(0) })
// The fleet holds our standard input open; its end means the benchmark is gone.
process.stdin.on('end', () => { stop(0) })
process.stdin.on('error', () => { stop(0) })
process.stdin.resume()

try {
  await bootstrapper.start({ signal: AbortSignal.timeout(60_000) })
  log('start', { nodeId: bootstrapper.nodeId, addresses: bootstrapper.addresses() })
  const observed = bootstrapper.observeAddress()
  if (observed !== null) log('observe', { address: observed })
  found()
} catch (err) {
  log('error', { code: 'START_FAILED', message: err instanceof Error ? err.message : String(err), fatal: true })
  stop(1)
}
