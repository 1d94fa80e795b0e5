import type { Bootstrapper } from '@p2p-bootstrap/bootstrapper'
import { Option } from 'commander'
import type { Command } from 'commander'
import { CONFIG_FILE_DEFAULT, CONFIG_FILE_ENV, configFilePath } from '../config/default-path.js'
import type { RunFlags, RunSettings } from '../config/index.js'
import { CliError } from '../errors.js'
import { LOG_FORMATS, LOG_LEVEL_ENV, LOG_LEVELS } from '../run/log-choices.js'
import type { LogFormat, LogLevel } from '../run/log.js'
import type { CommandContext, CommandModule } from './command.js'

/** How long at most `--once` waits, after its own output, for the rest of the plan's nodes to hold the plan. */
const ONCE_LINGER_MS = 30_000

/** How long `run` waits for the agent to stop cleanly (connections closed, state flushed) before exiting anyway. */
const STOP_BOUND_MS = 10_000

/** Repeatable flags collect into a list. */
function collect (value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value]
}

/**
 * `run`: the agent. Joins the private overlay, forms (or rejoins) the cluster, writes this node's
 * output, and keeps serving the ledger to late joiners until stopped (SIGINT/SIGTERM); with
 * `--once` it exits 0 once the plan is committed and applied here and every other node holds it
 * (or left, its own output written).
 * It also exits 0 once this node left the cluster (`p2p-bootstrap leave`): an epoch retired it.
 */
export const runCommand: CommandModule = {
  name: 'run',
  register (program, context) {
    program.command('run')
      .description('join the overlay, agree on the cluster plan, write this node\'s output, keep serving')
      .option('--config <file>', `YAML config file (native, or a Kairos cloud-config with p2p: and kubevip: blocks); default ${CONFIG_FILE_DEFAULT} when it exists, or ${CONFIG_FILE_ENV}`)
      .option('--token <token>', 'the network token; \'-\' reads it from standard input (also P2PB_TOKEN)')
      .option('--state-dir <dir>', 'identity, votes and ledger (default /var/lib/p2p-bootstrap)')
      .option('--root <dir>', 'write output under this directory (default /)')
      .option('--listen <multiaddr>', 'listen address, repeatable (default /ip4/0.0.0.0/tcp/4001)', collect)
      .option('--peer <address>', 'static peer: 192.168.1.10 (port 4001), host:port, or a multiaddr; no peer id needed; repeatable', collect)
      .option('--expect <n>', 'nodes expected at first boot (quorum is a majority of it)')
      .option('--control-planes <m>', 'control-plane nodes: 1, 3, 5 or 7')
      .option('--vip <ip>', 'kube-vip virtual IP')
      .option('--interface <if>', 'network interface for kube-vip and flannel')
      .option('--node-ip <ip>', 'this node\'s address for k3s (default: from --interface or the host)')
      .option('--subnet <cidr>', 'the node network\'s CIDR, e.g. 192.168.1.0/24 (default: from the interface holding the node IP)')
      .option('--label <k=v>', 'node label, repeatable', collect)
      .addOption(new Option('--role <role>', 'request a role').choices(['control-plane', 'worker']))
      .addOption(new Option('--profile <profile>', 'timing profile').choices(['lan', 'wan', 'test']))
      .option('--failover-delay <seconds>', 'how long a control plane stays dead before a live worker replaces it (default: the profile\'s, 300 on lan)')
      .option('--no-mdns', 'do not use mDNS on the LAN')
      .option('--no-dht', 'do not use the private DHT rendezvous')
      .option('--dry-run', 'render and write output only; start nothing')
      .option('--once', 'exit 0 once the plan is committed and applied')
      .addOption(new Option('--log-format <format>', 'text: one readable line per record (the default, on a terminal or not); json: one JSON object per line, each with an `event` field').choices(LOG_FORMATS))
      .option('--json', 'the same as --log-format json')
      .addOption(new Option('--log-level <level>', `least severe records logged (default info; also ${LOG_LEVEL_ENV})`).choices(LOG_LEVELS))
      .action(async (flags: RunFlags & { mdns: boolean, dht: boolean, logLevel?: string, logFormat?: string }) => {
        const { logLevel, logFormat, ...runFlags } = flags
        // commander sets --no-x flags to true by default; only an explicit --no-x may override the file.
        const explicit: RunFlags = { ...runFlags }
        if (flags.mdns) delete explicit.mdns
        if (flags.dht) delete explicit.dht
        const { chooseLogFormat, resolveLogLevel } = await import('../run/log.js')
        const format = chooseLogFormat({ json: flags.json === true, ...(logFormat === undefined ? {} : { logFormat }) }, context.io.stdoutIsTty === true, process.env)
        await run(explicit, resolveLogLevel(logLevel, process.env), format, context)
      })
  }
}

async function run (flags: RunFlags, logLevel: LogLevel, logFormat: { format: LogFormat, colour: boolean }, { io }: CommandContext): Promise<void> {
  // Loaded only when the agent runs: the command tree is built for every invocation, and these
  // bring in the config readers (zod, yaml), pino and the agent; the libp2p stack itself loads
  // when the bootstrapper starts its overlay.
  const [
    { createBootstrapper },
    { loadConfigFile, resolveRunSettings },
    { checkTokenAndShape },
    { createRunLogger },
    { noDiscoveryProblem },
    { ProgressReporter },
    { timerScheduler }
  ] = await Promise.all([
    import('@p2p-bootstrap/bootstrapper'),
    import('../config/index.js'),
    import('../config/token-source.js'),
    import('../run/log.js'),
    import('../run/discovery.js'),
    import('../run/progress.js'),
    import('../run/wait-reminder.js')
  ])
  const configPath = await configFilePath(flags.config, process.env)
  const file = configPath === undefined ? undefined : await loadConfigFile(configPath)
  let settings: RunSettings = resolveRunSettings(flags, file, process.env)
  if (settings.tokenFromStdin) {
    settings = { ...settings, options: { ...settings.options, token: (await io.readIn()).trim() } }
  }
  checkTokenAndShape(settings, flags)
  const bootstrapper = createBootstrapper(settings.options)
  const log = createRunLogger({
    ...logFormat,
    level: logLevel,
    nowMs: io.nowMs,
    writeOut: io.writeOut,
    writeErr: io.writeErr
  })
  const reporter = new ProgressReporter(bootstrapper, log, { nowMs: io.nowMs, scheduler: timerScheduler })
  reporter.attach()
  for (const warning of file?.warnings ?? []) reporter.emit({ event: 'config:warning', source: file?.source, message: warning }, `warning: ${warning}`, 'warn')
  const shutdown = io.shutdownSignal()
  const fatal = new Promise<never>((resolve, reject) => {
    bootstrapper.addEventListener('error', (event) => { if (event.detail.fatal) reject(event.detail) })
  })
  fatal.catch(() => {}) // observed below; this only keeps an unobserved rejection quiet
  // Listened to before start: a node that asked to leave before a restart leaves as soon as it can.
  const leaving: { epoch: number | null } = { epoch: null }
  const left = new Promise<void>((resolve) => {
    bootstrapper.addEventListener('left', (event) => { leaving.epoch = event.detail.epoch; resolve() })
  })
  try {
    await Promise.race([bootstrapper.start({ signal: shutdown }), fatal])
    const { nodeId, options } = bootstrapper
    reporter.emit({ event: 'start', nodeId, clusterId: options.keys.clusterId, addresses: bootstrapper.addresses() },
      `node ${nodeId} of cluster ${options.keys.clusterId}, listening on ${bootstrapper.addresses().join(' ')}`)
    const noDiscovery = noDiscoveryProblem(bootstrapper.options)
    if (noDiscovery !== undefined) reporter.emit({ event: 'discovery:none' }, noDiscovery, 'error')
    const observed = bootstrapper.observeAddress()
    if (observed !== null) {
      reporter.emit({ event: 'observe', address: observed }, `metrics at http://${observed}/metrics, status page at http://${observed}/`)
    }
    if (settings.once) {
      await Promise.race([bootstrapper.waitForApplied({ signal: shutdown }), fatal, left])
      if (leaving.epoch === null) {
        const lingered = reporter.waitFor(`the plan's other nodes to hold it (up to ${ONCE_LINGER_MS / 1000} s), so none is left without a peer to learn from`,
          { timeoutMs: ONCE_LINGER_MS })
        await lingerForFleet(bootstrapper, shutdown).finally(lingered)
        reporter.finish(doneLine(bootstrapper), `done: ${doneWords(bootstrapper)}`)
      }
    } else {
      await Promise.race([untilAborted(shutdown), fatal, left])
    }
    if (leaving.epoch !== null) {
      reporter.finish({ event: 'left', nodeId, epoch: leaving.epoch },
        `left the cluster: epoch ${leaving.epoch} retired this node and its retirement is carried out; the agent stops (remove the state dir before this machine joins again)`)
    }
  } catch (err) {
    if (shutdown.aborted && !(err instanceof CliError)) {
      if (settings.once) throw new CliError('CLI_INTERRUPTED', 'stopped by a signal before the plan was applied')
      return // a signal is the normal way to stop the agent
    }
    throw err
  } finally {
    await stopWithin(bootstrapper, STOP_BOUND_MS, () => {
      log.warn({ event: 'stop-slow', boundMs: STOP_BOUND_MS }, `stopping took over ${STOP_BOUND_MS / 1000} s; leaving the rest to the process exit`)
    })
    if (shutdown.aborted) {
      // A stop by a signal says so: a silent end in the journal reads like a crash.
      const reason = shutdown.reason instanceof Error ? shutdown.reason.message : 'stopped by a signal'
      reporter.finish({ event: 'stopped', reason }, `${reason}; the state dir is kept and the next start carries on from it`)
    }
    reporter.stop()
  }
}

/** Stops the bootstrapper, but gives up waiting after `boundMs`: a stuck close must not hang the command. */
async function stopWithin (bootstrapper: Bootstrapper, boundMs: number, onSlow: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const bound = new Promise<'slow'>((resolve) => { timer = setTimeout(() => { resolve('slow') }, boundMs) })
  try {
    const outcome = await Promise.race([bootstrapper.stop().then(() => 'stopped' as const), bound])
    if (outcome === 'slow') onSlow()
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Waits (bounded) until every other node needs nothing more from this one (it applied the plan,
 * holds everything this node wrote, or left), so none is left without a peer to learn from or
 * waiting for this node's facts.
 */
async function lingerForFleet (bootstrapper: Bootstrapper, shutdown: AbortSignal): Promise<void> {
  const signal = AbortSignal.any([shutdown, AbortSignal.timeout(ONCE_LINGER_MS)])
  try {
    await bootstrapper.waitForPeersHoldPlan({ signal })
  } catch (err) {
    if (shutdown.aborted) throw err
    // The others may be down; this node's own output is written, which is what --once promises.
  }
}

function doneLine (bootstrapper: Bootstrapper): { event: string, [field: string]: unknown } {
  const status = bootstrapper.status()
  return {
    event: 'done',
    nodeId: status.nodeId,
    clusterId: status.clusterId,
    epoch: status.epoch,
    role: status.role,
    init: status.part?.init ?? false,
    files: status.files
  }
}

function doneWords (bootstrapper: Bootstrapper): string {
  const status = bootstrapper.status()
  return `${status.role ?? 'no role'}${status.part?.init === true ? ' (initialises the cluster)' : ''} in plan epoch ${status.epoch}; files: ${status.files.join(', ')}`
}

async function untilAborted (signal: AbortSignal): Promise<void> {
  if (signal.aborted) return
  await new Promise<void>((resolve) => { signal.addEventListener('abort', () => { resolve() }, { once: true }) })
}
