/**
 * An installer that places the k3s files itself: it takes part in the bootstrap like any node,
 * but receives this node's rendered files through `apply.onOutput` and writes them into its own
 * target folder (a mounted image root, a disk it is installing), with the modes given, instead of
 * the agent writing them under `/` and starting k3s. It also writes p2p-bootstrap's start gate
 * for both k3s units into the image (a systemd drop-in whose ExecCondition= needs the agent's
 * consent), and exits once the plan's other nodes have their output too.
 *
 * k3s is never enabled in the image: the installed system's own agent (p2p-bootstrap.service,
 * enabled, with the state dir the installer used) starts k3s at each boot once it confirmed this
 * node's role in the latest plan. An enabled k3s would start before the agent, and a server
 * replaced while the machine was off would rejoin, or re-initialise, on its own. The gate makes
 * an enable by hand, or by k3s' install script run without INSTALL_K3S_SKIP_ENABLE=true, harmless.
 *
 * Without a `readyCommand` the agent cannot see k3s come up, so the join order is that of a dry
 * run: joiners are given the init server's node-ip and the short token form (no CA pin).
 *
 * Run it on loopback (Node 24 runs TypeScript as is; the packages are used from their build):
 *
 *   npx tsc -b
 *   export P2PB_TOKEN=$(npx p2p-bootstrap token generate --expect 1)
 *   npx node examples/installer/image-installer.ts --target /tmp/image --state-dir /tmp/image-state \
 *     --listen /ip4/127.0.0.2/tcp/0 --node-ip 127.0.0.2 --no-discovery
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, rm } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import { pathToFileURL } from 'node:url'
import { createBootstrapper, gateDropIn } from '@p2p-bootstrap/bootstrapper'
import type { NodeOutput, ProfileName } from '@p2p-bootstrap/bootstrapper'

export interface InstallerSettings {
  readonly token: string
  /** The image root the k3s files go into (`/mnt/image`): `/etc/rancher/k3s/config.yaml` lands in `<target>/etc/rancher/k3s/config.yaml`. */
  readonly target: string
  /**
   * Identity, votes and ledger. Put it where the installed system's agent will find it
   * (`<target>/var/lib/p2p-bootstrap`): the node must keep its identity and votes after the reboot.
   */
  readonly stateDir: string
  /**
   * Where the agent itself writes: only its plan view, `etc/p2p-bootstrap/plan.json`. Default:
   * the target, so the installed system has it too.
   */
  readonly agentRoot?: string
  readonly listen: readonly string[]
  readonly peers: readonly string[]
  readonly nodeIp?: string
  /** Accept a loopback node-ip (a trial on one machine): a real kubelet refuses one, so only trials may. */
  readonly acceptLocalNodeIp?: boolean
  /** mDNS and the private DHT; off on loopback, where the static peers are enough. */
  readonly discovery: boolean
  readonly profile?: ProfileName
  /** How long to wait, after this node's files, for the plan's other nodes; default 30 s. */
  readonly lingerMs?: number
  readonly log?: (line: string) => void
  /** Told once the node listens, with its addresses (each ends in /p2p/<node id>). */
  readonly onListening?: (addresses: readonly string[]) => void
}

export interface InstalledFile {
  /** Where it was written: under the target. */
  readonly path: string
  readonly mode: number
  /** True when it holds a token (written 0600). */
  readonly secret: boolean
}

export interface InstallResult {
  readonly nodeId: string
  readonly role: NodeOutput['role']
  readonly init: boolean
  /** The k3s unit the installed agent will start (never enable): `k3s` on servers, `k3s-agent` on workers. */
  readonly service: NodeOutput['service']
  readonly files: readonly InstalledFile[]
}

const LINGER_MS_DEFAULT = 30_000

/** Bootstraps this node, writes its k3s files under `target`, and returns what it wrote. */
export async function installNode (settings: InstallerSettings, signal: AbortSignal): Promise<InstallResult> {
  const log = settings.log ?? ((line: string) => { process.stdout.write(`${line}\n`) })
  // Set by the callback; read once the agent says this node's output is applied.
  const handed: { result?: InstallResult } = {}
  const bootstrapper = createBootstrapper({
    token: settings.token,
    stateDir: settings.stateDir,
    root: settings.agentRoot ?? settings.target,
    listen: [...settings.listen],
    peers: [...settings.peers],
    mdns: settings.discovery,
    dht: settings.discovery,
    statusSocket: false, // a one-shot installer: nobody asks it for status
    ...(settings.profile === undefined ? {} : { profile: settings.profile }),
    ...(settings.nodeIp === undefined ? {} : { node: { nodeIp: settings.nodeIp } }),
    apply: {
      ...(settings.acceptLocalNodeIp === true ? { acceptLocalNodeIp: true } : {}),
      // Called again if it throws (after a back-off), or for a later plan: writing must be repeatable.
      onOutput: async (output, { signal: stopping }) => {
        const files: InstalledFile[] = []
        for (const file of [...output.files, gateDropIn('k3s'), gateDropIn('k3s-agent')]) {
          const path = underTarget(settings.target, file.path)
          await writeFileWithMode(path, file.content, file.mode, stopping)
          files.push({ path, mode: file.mode, secret: file.secret })
        }
        handed.result = { nodeId: output.nodeId, role: output.role, init: output.init, service: output.service, files }
        log(`wrote ${files.map(file => `${file.path} (${file.mode.toString(8)})`).join(', ')}`)
        log(`enable p2p-bootstrap.service in the image (systemctl --root=${settings.target} enable p2p-bootstrap): it starts ${output.service} at each boot; never enable ${output.service} itself`)
      }
    }
  })
  bootstrapper.addEventListener('error', (event) => { log(`${event.detail.code}: ${event.detail.message}`) })
  try {
    await bootstrapper.start({ signal })
    settings.onListening?.(bootstrapper.addresses())
    const plan = await bootstrapper.waitForPlan({ signal })
    log(`plan epoch ${plan.epoch} committed; writing this node's files under ${settings.target}`)
    await bootstrapper.waitForApplied({ signal })
    // Stay a little so that the plan's other nodes can still learn it from this one.
    const linger = AbortSignal.any([signal, AbortSignal.timeout(settings.lingerMs ?? LINGER_MS_DEFAULT)])
    await bootstrapper.waitForFleet('applied', { signal: linger }).catch(() => {
      if (signal.aborted) throw signal.reason
    })
  } finally {
    await bootstrapper.stop()
  }
  if (handed.result === undefined) throw new Error('the plan was applied but no files were handed over: see the errors above')
  return handed.result
}

/** `path` (absolute on the node) inside `target`; refuses anything that would climb out of it. */
function underTarget (target: string, path: string): string {
  if (!path.startsWith('/') || path.split('/').includes('..')) {
    throw new Error(`refusing to write ${JSON.stringify(path)}: output paths are absolute, without '..'`)
  }
  return join(target, path)
}

/** Atomic: a temporary file with the mode set before any byte, flushed, then renamed over. */
async function writeFileWithMode (path: string, content: string, mode: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted()
  await mkdir(dirname(path), { recursive: true, mode: 0o755 })
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.chmod(mode) // the umask does not apply to chmod: the mode is exactly the one given
    await handle.writeFile(content, 'utf8')
    await handle.sync()
  } catch (err) {
    await handle.close()
    await rm(temporary, { force: true })
    throw err
  }
  await handle.close()
  await rename(temporary, path)
}

/** The program: flags for the settings, the token from P2PB_TOKEN; SIGTERM and SIGINT abort. */
async function main (): Promise<void> {
  const { values } = parseArgs({
    options: {
      target: { type: 'string' },
      'state-dir': { type: 'string' },
      listen: { type: 'string', multiple: true, default: ['/ip4/0.0.0.0/tcp/4001'] },
      peer: { type: 'string', multiple: true, default: [] },
      'node-ip': { type: 'string' },
      'no-discovery': { type: 'boolean', default: false }
    }
  })
  const token = process.env.P2PB_TOKEN ?? ''
  const target = values.target
  if (token.trim() === '' || target === undefined) {
    process.stderr.write('image-installer: set P2PB_TOKEN and pass --target DIR (the image root to install into)\n')
    process.exitCode = 2
    return
  }
  const stop = new AbortController()
  for (const name of ['SIGTERM', 'SIGINT'] as const) process.once(name, () => { stop.abort() })
  const result = await installNode({
    token,
    target,
    stateDir: values['state-dir'] ?? join(target, 'var/lib/p2p-bootstrap'),
    listen: values.listen,
    peers: values.peer,
    discovery: !values['no-discovery'],
    ...(values['node-ip'] === undefined ? {} : { nodeIp: values['node-ip'] })
  }, stop.signal)
  process.stdout.write(`installed: ${result.role}${result.init ? ' (initialises the cluster)' : ''}; enable p2p-bootstrap.service, which starts ${result.service}.service (never enable it)\n`)
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`image-installer: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = 1
  })
}
