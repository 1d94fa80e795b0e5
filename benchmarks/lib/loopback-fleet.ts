// A fleet of real node processes on loopback, for the benchmarks. Each node is its own Node
// process on its own address (127.0.<subnet>.2, .3, …), with its state dir and output root under
// one mkdtemp folder that is removed when the fleet stops. Two ways to run a node:
//
// * `cli`: `node packages/cli/bin/p2p-bootstrap.js run --json --dry-run …`, what users run. It
//   runs the CLI's compiled dist, so `npx tsc -b` must have built the current source first
//   (`npm run bench` does); `checkBuilt()` refuses a missing build or a Node too old for the nodes, and warns of a stale build.
// * `script`: benchmarks/lib/bench-node.ts (one bootstrapper, run by Node on the same dist), which
//   takes options the CLI does not expose: the naive baseline's `tuning`.
//
// Identities are created first (loadOrCreateIdentity), so every node can be given a few others'
// addresses with their peer ids as static peers. Each process's JSON log lines (`event`, `time`)
// are collected; `waitFor` waits on them with a deadline. Processes are stopped with SIGTERM, then
// SIGKILL by pid, on every exit path: `stop()`, an error (the `exit` hook), SIGINT and SIGTERM.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { readdirSync, rmSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { P2pBootstrapError, formatToken, generateToken } from '@p2p-bootstrap/core'
import { loadOrCreateIdentity } from '@p2p-bootstrap/overlay'
import type { BootstrapperOptions } from '@p2p-bootstrap/bootstrapper'
import { freePort } from '../../test/helpers/free-port.js'
import { isolatedNetns } from '../../test/helpers/netns.js'

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const CLI_BIN = join(ROOT, 'packages', 'cli', 'bin', 'p2p-bootstrap.js')
const BENCH_NODE = join(ROOT, 'benchmarks', 'lib', 'bench-node.ts')
/** How long a node may take to stop after SIGTERM before it is killed (the CLI flushes for up to 2 s). */
const STOP_GRACE_MS = 6_000
/** Bytes of a node's standard error kept for error messages. */
const STDERR_TAIL_BYTES = 4_000
/** The oldest Node major the CLI runs on (package.json `engines`). */
const NODE_MAJOR_MIN = 22
/** The VIP of every benchmark cluster: on loopback, but no node's address. */
const FLEET_VIP = '127.0.9.1'

export type NodeRunner = 'cli' | 'script'
export type Tuning = NonNullable<BootstrapperOptions['tuning']>

export interface FleetOptions {
  /** Node processes. At most 250 (one /24 of loopback). */
  readonly size: number
  readonly runner: NodeRunner
  readonly profile: 'lan' | 'wan' | 'test'
  /** Static peers per node: the next `staticPeers` nodes in a ring (default 3), never everyone. */
  readonly staticPeers?: number
  /** mDNS on: only inside run-in-netns (`npm run bench`), or `create` refuses. Default false. */
  readonly mdns?: boolean
  /** The metrics listener on each node's own address (for `p2pb_sync_sent_bytes_total`). Default false. */
  readonly metrics?: boolean
  /** `expect` in the token; default `size`, so the proposer decides as soon as everyone is seen. */
  readonly expect?: number
  /** Control-plane nodes; default 3 (1 below 3 nodes). */
  readonly controlPlanes?: number
  /** Advanced bootstrapper tuning: the `script` runner only (the CLI has no such flag). */
  readonly tuning?: Tuning
  /** Third octet of the nodes' loopback addresses; default 10. */
  readonly subnet?: number
  /** Extra arguments to each node's `node` (e.g. `--max-semi-space-size=1`). */
  readonly nodeArgs?: readonly string[]
  /** One node runs under `node --cpu-prof`, writing its profile into `dir` when it exits (after SIGTERM). */
  readonly cpuProfile?: { readonly node: number, readonly dir: string }
  /** Nodes run with `node --inspect=<own ip>:<port>` (see `FleetNode.inspectAddress`), for heap probes. */
  readonly inspect?: readonly number[]
  /** The CLI's log level; the default (info) omits `role`, which is debug. */
  readonly logLevel?: 'debug' | 'info'
}

/** One JSON log line of a node: its `event`, its `time` (the node's clock, ms since the epoch), the rest. */
export interface FleetEvent {
  readonly node: number
  readonly event: string
  readonly timeMs: number
  readonly fields: Readonly<Record<string, unknown>>
}

export interface FleetNode {
  readonly index: number
  readonly ip: string
  readonly peerId: string
  readonly stateDir: string
  readonly root: string
  readonly listen: string
  /** The listen address with `/p2p/<peer id>`. */
  readonly address: string
  /** `ip:port` of the metrics listener, or null when off. */
  readonly metricsAddress: string | null
  /** `ip:port` of the V8 inspector, or null when the node is not inspected. */
  readonly inspectAddress: string | null
}

interface Running {
  readonly child: ChildProcess
  readonly spawnedAtMs: number
  stderrTail: string
  exit: { code: number | null, signal: NodeJS.Signals | null } | null
  /** Set when we sent the signal, so an exit we caused is not reported as a crash. */
  killedByUs: boolean
  readonly closed: Promise<void>
}

/**
 * FLEET_TIMEOUT: a wait on the fleet's events ran out of time (the message says what each node
 * logged last); FLEET_NODE_EXITED: a node exited while the fleet waited, without being told to
 * (the message holds the end of its stderr); FLEET_BAD_OPTION: a fleet that cannot be made;
 * FLEET_OLD_NODE: the benchmark runs on a Node the nodes (its own `process.execPath`) cannot run on.
 */
export type FleetErrorCode = 'FLEET_TIMEOUT' | 'FLEET_NODE_EXITED' | 'FLEET_BAD_OPTION' | 'FLEET_NOT_BUILT' | 'FLEET_OLD_NODE'

export class FleetError extends P2pBootstrapError<FleetErrorCode> {}

const liveFleets = new Set<LoopbackFleet>()
/** Folders made but not yet removed, fleet or not (a signal may land while a fleet is being created). */
const liveDirs = new Set<string>()
let hooksInstalled = false

/**
 * The last line of defence: whatever ends this process (an error, process.exit, a signal), no
 * node process and no temp folder outlives it. `exit` listeners must be synchronous, hence SIGKILL
 * and rmSync here; `stop()` is the graceful path.
 */
function installExitHooks (): void {
  if (hooksInstalled) return
  hooksInstalled = true
  process.on('exit', () => {
    for (const fleet of liveFleets) fleet.killAllNow()
    for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true })
  })
  let signalled = false
  const onSignal = (signal: NodeJS.Signals): void => {
    const status = signal === 'SIGINT' ? 130 : 143
    // A second signal means "now": the exit hook kills what is left.
    if (signalled) process.exit(status)
    signalled = true
    process.stderr.write(`\n${signal}: stopping ${liveFleets.size} fleet(s)\n`)
    void Promise.allSettled([...liveFleets].map(async fleet => { await fleet.stop() })).finally(() => { process.exit(status) })
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
}

/**
 * Refuses to run without a build (the node processes run the compiled dist), and returns a warning
 * when a package's source is newer than its build (`npx tsc -b` rewrites dist/.tsbuildinfo on
 * every build that changed something), so a result never silently measures old code.
 */
export function checkBuilt (): string | null {
  // Every node runs on this process's Node: one the CLI refuses would only fill the report with failed runs.
  const major = Number(process.versions.node.split('.')[0])
  if (major < NODE_MAJOR_MIN) throw new FleetError('FLEET_OLD_NODE', `Node ${process.versions.node} cannot run the nodes (they need Node ≥ ${NODE_MAJOR_MIN}): run through \`npm run bench\`, which uses the project's own Node, or install Node ${NODE_MAJOR_MIN} or later`)
  const newest = (dir: string): number => {
    let latest = 0
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs)
    }
    return latest
  }
  const stale: string[] = []
  for (const pkg of ['core', 'overlay', 'k3s', 'bootstrapper', 'cli']) {
    const dist = join(ROOT, 'packages', pkg, 'dist')
    let builtMs: number
    try {
      builtMs = Math.max(statSync(join(dist, 'index.js')).mtimeMs, statSync(join(dist, '.tsbuildinfo')).mtimeMs)
    } catch {
      throw new FleetError('FLEET_NOT_BUILT', `packages/${pkg}/dist is missing: run \`npx tsc -b\` in ${ROOT} first (the node processes run the compiled CLI)`)
    }
    if (newest(join(ROOT, 'packages', pkg, 'src')) > builtMs) stale.push(pkg)
  }
  return stale.length === 0 ? null : `the source of ${stale.join(', ')} is newer than its build: run \`npx tsc -b\` first, or this measures the last build`
}

/** A temp folder removed on every exit path, like a fleet's (e.g. for CPU profiles read after a fleet stops). */
export async function makeTempDir (prefix: string): Promise<string> {
  installExitHooks()
  const dir = await mkdtemp(join(tmpdir(), prefix))
  liveDirs.add(dir)
  return dir
}

export async function removeTempDir (dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  liveDirs.delete(dir)
}

/** The static peers of node `index`: the next `count` nodes of the ring (all others when fewer). */
export function ringPeers (index: number, size: number, count: number): number[] {
  const peers: number[] = []
  for (let step = 1; step <= Math.min(count, size - 1); step++) peers.push((index + step) % size)
  return peers
}

export class LoopbackFleet {
  readonly events: FleetEvent[] = []
  private readonly running: Array<Running | undefined>
  private readonly changed = new EventTarget()
  private stopping: Promise<void> | undefined

  private constructor (
    readonly options: FleetOptions,
    readonly dir: string,
    readonly token: string,
    readonly nodes: readonly FleetNode[]
  ) {
    this.running = nodes.map(() => undefined)
  }

  /** Makes the folder, the token and every identity; starts nothing yet. */
  static async create (options: FleetOptions): Promise<LoopbackFleet> {
    if (!Number.isInteger(options.size) || options.size < 1 || options.size > 250) throw new FleetError('FLEET_BAD_OPTION', `fleet size ${options.size}: must be 1 to 250 (one /24 of loopback addresses)`)
    if (options.tuning !== undefined && options.runner !== 'script') throw new FleetError('FLEET_BAD_OPTION', 'tuning needs the script runner (runner: \'script\'): the CLI has no tuning flag')
    // Multicast must not leave the machine: mDNS fleets run only in a namespace made for the run.
    if (options.mdns === true && isolatedNetns() === undefined) throw new FleetError('FLEET_BAD_OPTION', 'an mDNS fleet needs an isolated network namespace: run the benchmark through `npm run bench` (as root), which makes one')
    installExitHooks()
    const dir = await mkdtemp(join(tmpdir(), 'p2pb-bench-'))
    liveDirs.add(dir)
    try {
      const controlPlanes = options.controlPlanes ?? (options.size >= 3 ? 3 : 1)
      const token = formatToken(generateToken({ expect: options.expect ?? options.size, controlPlanes, vip: FLEET_VIP }))
      const subnet = options.subnet ?? 10
      const nodes: FleetNode[] = []
      for (let index = 0; index < options.size; index++) {
        const ip = `127.0.${subnet}.${index + 2}`
        const stateDir = join(dir, `node-${index}`, 'state')
        const { peerId } = await loadOrCreateIdentity(stateDir)
        const listen = `/ip4/${ip}/tcp/${await freePort(ip)}`
        const metricsAddress = options.metrics === true ? `${ip}:${await freePort(ip)}` : null
        const inspectAddress = options.inspect?.includes(index) === true ? `${ip}:${await freePort(ip)}` : null
        nodes.push({ index, ip, peerId, stateDir, root: join(dir, `node-${index}`, 'root'), listen, address: `${listen}/p2p/${peerId}`, metricsAddress, inspectAddress })
      }
      const fleet = new LoopbackFleet(options, dir, token, nodes)
      liveFleets.add(fleet)
      return fleet
    } catch (err) {
      await rm(dir, { recursive: true, force: true })
      liveDirs.delete(dir)
      throw err
    }
  }

  get size (): number {
    return this.nodes.length
  }

  /** Starts every node as fast as it can spawn them; returns when the first and the last were spawned. */
  async startAll (): Promise<{ firstSpawnMs: number, lastSpawnMs: number }> {
    const commands = await Promise.all(this.nodes.map(async node => await this.commandOf(node)))
    let firstSpawnMs = 0
    let lastSpawnMs = 0
    for (const node of this.nodes) {
      const running = this.spawnNode(node, commands[node.index] ?? [])
      if (node.index === 0) firstSpawnMs = running.spawnedAtMs
      lastSpawnMs = running.spawnedAtMs
    }
    return { firstSpawnMs, lastSpawnMs }
  }

  /**
   * Starts the nodes `batch` at a time, each batch once the one before has logged `start` (its
   * process loaded, the overlay listening). For measuring a formed fleet's steady state: N
   * start-ups at once on one small machine starve every event loop, which real hosts, each with
   * its own CPU, never see.
   */
  async startInBatches (batch: number, options: { timeoutMs: number, signal?: AbortSignal }): Promise<void> {
    const commands = await Promise.all(this.nodes.map(async node => await this.commandOf(node)))
    for (let first = 0; first < this.size; first += batch) {
      const indexes = this.nodes.slice(first, first + batch).map(node => node.index)
      for (const index of indexes) this.spawnNode(this.nodes[index] as FleetNode, commands[index] ?? [])
      await this.waitFor(`start of nodes ${first}–${first + indexes.length - 1}`, fleet => fleet.everyHas('start', indexes), options)
    }
  }

  /** The process id of node `index` (for /proc), or undefined before start or after exit. */
  pid (index: number): number | undefined {
    const running = this.running[index]
    return running === undefined || running.exit !== null ? undefined : running.child.pid
  }

  /** When node `index` was spawned (ms since the epoch), or undefined before start. */
  spawnedAtMs (index: number): number | undefined {
    return this.running[index]?.spawnedAtMs
  }

  /** Events of one node, or of every node when `index` is undefined, optionally of one kind. */
  eventsOf (index: number | undefined, event?: string): FleetEvent[] {
    return this.events.filter(line => (index === undefined || line.node === index) && (event === undefined || line.event === event))
  }

  /** The first `event` of node `index`, or undefined. */
  first (index: number, event: string): FleetEvent | undefined {
    return this.events.find(line => line.node === index && line.event === event)
  }

  /** True once every node (or every node in `among`) has logged `event`. */
  everyHas (event: string, among: readonly number[] = this.nodes.map(node => node.index)): boolean {
    return among.every(index => this.first(index, event) !== undefined)
  }

  /**
   * Resolves (with the time it held, ms since the epoch) once `condition` holds, checked on every
   * log line and exit. Rejects after `timeoutMs`, or when a node exits that we did not stop.
   */
  async waitFor (what: string, condition: (fleet: LoopbackFleet) => boolean, options: { timeoutMs: number, signal?: AbortSignal }): Promise<number> {
    if (condition(this)) return Date.now()
    return await new Promise<number>((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer)
        this.changed.removeEventListener('change', check)
        options.signal?.removeEventListener('abort', aborted)
      }
      const check = (): void => {
        const crashed = this.running.findIndex(running => running?.exit !== null && running?.exit !== undefined && !running.killedByUs)
        if (condition(this)) {
          cleanup()
          resolve(Date.now())
        } else if (crashed !== -1) {
          cleanup()
          reject(new FleetError('FLEET_NODE_EXITED', `node ${crashed} exited (${JSON.stringify(this.running[crashed]?.exit)}) while waiting for ${what}; its stderr:\n${this.running[crashed]?.stderrTail ?? ''}`))
        }
      }
      const aborted = (): void => { cleanup(); reject(options.signal?.reason) }
      const timer = setTimeout(() => {
        cleanup()
        reject(new FleetError('FLEET_TIMEOUT', `no ${what} within ${options.timeoutMs} ms; last event of each node: ${this.lastEvents()}`))
      }, options.timeoutMs)
      this.changed.addEventListener('change', check)
      options.signal?.addEventListener('abort', aborted, { once: true })
      check()
    })
  }

  /** Sends `signal` (default SIGKILL) to node `index`, marking the exit as ours. */
  kill (index: number, signal: NodeJS.Signals = 'SIGKILL'): void {
    const running = this.running[index]
    if (running === undefined || running.exit !== null || running.child.pid === undefined) return
    running.killedByUs = true
    process.kill(running.child.pid, signal)
  }

  /** Resolves when node `index` has exited (at once if it never started). */
  async exited (index: number): Promise<void> {
    await this.running[index]?.closed
  }

  /** SIGTERM to every node, SIGKILL to those still running after the grace, then the folder goes. Idempotent. */
  async stop (): Promise<void> {
    this.stopping ??= this.stopOnce()
    await this.stopping
  }

  /** Synchronous last resort (the process `exit` hook): SIGKILL every node, remove the folder. */
  killAllNow (): void {
    for (let index = 0; index < this.running.length; index++) this.kill(index, 'SIGKILL')
    rmSync(this.dir, { recursive: true, force: true })
    liveDirs.delete(this.dir)
    liveFleets.delete(this)
  }

  private async stopOnce (): Promise<void> {
    try {
      for (let index = 0; index < this.running.length; index++) this.kill(index, 'SIGTERM')
      const all = Promise.all(this.running.map(async running => { await running?.closed }))
      let timer: NodeJS.Timeout | undefined
      const grace = new Promise<'late'>((resolve) => { timer = setTimeout(() => { resolve('late') }, STOP_GRACE_MS) })
      const outcome = await Promise.race([all.then(() => 'stopped' as const), grace])
      clearTimeout(timer)
      if (outcome === 'late') {
        for (let index = 0; index < this.running.length; index++) this.kill(index, 'SIGKILL')
        await all
      }
    } finally {
      await rm(this.dir, { recursive: true, force: true })
      liveDirs.delete(this.dir)
      liveFleets.delete(this)
    }
  }

  private lastEvents (): string {
    return this.nodes.map((node) => {
      const own = this.eventsOf(node.index)
      const exit = this.running[node.index]?.exit
      return `${node.index}:${own.at(-1)?.event ?? 'none'}${exit === null || exit === undefined ? '' : '(exited)'}`
    }).join(' ')
  }

  /** The argv of one node; writes its config (CLI) or options (script) file first. */
  private async commandOf (node: FleetNode): Promise<string[]> {
    const { options } = this
    const peers = ringPeers(node.index, this.size, options.staticPeers ?? 3).map(index => this.nodes[index]?.address ?? '')
    const nodeDir = join(this.dir, `node-${node.index}`)
    await mkdir(nodeDir, { recursive: true })
    const profiled = options.cpuProfile?.node === node.index ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfile.dir}`] : []
    const inspected = node.inspectAddress === null ? [] : [`--inspect=${node.inspectAddress}`]
    const nodeArgs = [...(options.nodeArgs ?? []), ...profiled, ...inspected]
    if (options.runner === 'cli') {
      // The CLI takes the metrics listener and the host name from its config file only.
      const config = join(nodeDir, 'config.yaml')
      await writeFile(config, [
        `node: { hostname: bench-${node.index} }`,
        ...(node.metricsAddress === null ? [] : [`metrics: { listen: "${node.metricsAddress}" }`])
      ].join('\n') + '\n')
      return [...nodeArgs, CLI_BIN, 'run', '--json', '--dry-run', '--config', config,
        '--profile', options.profile, '--no-dht', ...(options.mdns === true ? [] : ['--no-mdns']),
        '--state-dir', node.stateDir, '--root', node.root, '--listen', node.listen, '--node-ip', node.ip,
        ...peers.flatMap(peer => ['--peer', peer]),
        ...(options.logLevel === undefined ? [] : ['--log-level', options.logLevel])]
    }
    const file = join(nodeDir, 'options.json')
    const nodeOptions: Omit<BootstrapperOptions, 'token'> = {
      stateDir: node.stateDir,
      root: node.root,
      listen: [node.listen],
      peers,
      mdns: options.mdns === true,
      dht: false,
      profile: options.profile,
      dryRun: true,
      node: { nodeIp: node.ip, hostname: `bench-${node.index}` },
      ...(node.metricsAddress === null ? {} : { observe: { listen: node.metricsAddress } }),
      ...(options.tuning === undefined ? {} : { tuning: options.tuning })
    }
    await writeFile(file, JSON.stringify(nodeOptions))
    return [...nodeArgs, BENCH_NODE, file]
  }

  private spawnNode (node: FleetNode, args: readonly string[]): Running {
    const child = spawn(process.execPath, args, {
      cwd: join(this.dir, `node-${node.index}`),
      env: { ...process.env, P2PB_TOKEN: this.token },
      // The script's standard input is its lifeline (it stops when it closes); the CLI ignores it.
      stdio: [this.options.runner === 'script' ? 'pipe' : 'ignore', 'pipe', 'pipe']
    })
    const running: Running = {
      child,
      spawnedAtMs: Date.now(),
      stderrTail: '',
      exit: null,
      killedByUs: false,
      closed: new Promise<void>((resolve) => {
        child.once('close', (code, signal) => {
          running.exit = { code, signal }
          this.changed.dispatchEvent(new Event('change'))
          resolve()
        })
      })
    }
    child.once('error', (err) => {
      running.stderrTail += `\n[fleet] spawn failed: ${err.message}`
    })
    let pending = ''
    child.stdout?.setEncoding('utf8').on('data', (text: string) => {
      pending += text
      let newline = pending.indexOf('\n')
      while (newline !== -1) {
        this.onLine(node.index, pending.slice(0, newline))
        pending = pending.slice(newline + 1)
        newline = pending.indexOf('\n')
      }
    })
    child.stderr?.setEncoding('utf8').on('data', (text: string) => {
      running.stderrTail = (running.stderrTail + text).slice(-STDERR_TAIL_BYTES)
    })
    this.running[node.index] = running
    return running
  }

  private onLine (index: number, line: string): void {
    if (line.trim() === '') return
    let record: unknown
    try {
      record = JSON.parse(line)
    } catch {
      return // not a log record (a stray print); the events are what we measure
    }
    if (typeof record !== 'object' || record === null) return
    const { event, time, ...fields } = record as Record<string, unknown>
    if (typeof event !== 'string') return
    this.events.push({ node: index, event, timeMs: typeof time === 'number' ? time : Date.now(), fields })
    this.changed.dispatchEvent(new Event('change'))
  }
}
