// A test host: one network namespace with loopback and one `eth0` on a lab bridge, its own state
// dir and `--root`, and the agent process it runs (one at a time; a restart keeps the state dir).
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { loadOrCreateIdentity } from '@p2p-bootstrap/overlay'
import { waitFor } from '../helpers/wait.js'
import { AgentProcess } from './agent.js'
import type { AgentExit, AgentLaunch } from './agent.js'
import { HarnessError } from './errors.js'
import type { AgentEvent } from './events.js'
import { queryStatus } from './status.js'
import type { StatusReport } from './status.js'

/** The port every agent listens on: each host has its own address, so they never clash. */
export const AGENT_PORT = 4001
/** The interface name inside every host. */
export const HOST_INTERFACE = 'eth0'
/** The identity file in a state dir (the overlay's name for it). */
const IDENTITY_FILE = 'identity.key'
/** Ids are uniform, so sorting before n others takes about n+1 draws; this bounds bad luck. */
const IDENTITY_DRAWS_MAX = 200
/** How long a killed agent may take to be reaped. */
const EXIT_TIMEOUT_MS = 15_000
/** How long a SIGTERM'd agent may take to stop cleanly (it flushes for up to 2 s) before SIGKILL. */
const STOP_TIMEOUT_MS = 10_000

/** What the lab tells a host about itself. */
export interface HostInit {
  readonly name: string
  readonly namespace: string
  readonly ip: string
  /** The lab-side end of this host's veth pair, in the lab namespace. */
  readonly labInterface: string
  /** Index of the subnet the host is on. */
  readonly subnet: number
  /** This host's folder in the lab's log dir: logs, `state/`, `root/`. */
  readonly dir: string
  /** Refuses work once the lab is disposed (a timed-out test may still be running). */
  readonly checkOpen: () => void
}

export interface WaitOptions {
  readonly timeoutMs: number
  /** What is awaited, in words, for the timeout error. */
  readonly what?: string
  readonly intervalMs?: number
}

export class Host {
  readonly name: string
  readonly namespace: string
  readonly ip: string
  readonly labInterface: string
  readonly subnet: number
  readonly dir: string
  readonly stateDir: string
  readonly root: string
  private id = ''
  private launch: AgentLaunch | null = null
  private current: AgentProcess | null = null
  private readonly runs: AgentProcess[] = []
  private readonly checkOpen: () => void

  constructor (init: HostInit) {
    this.name = init.name
    this.namespace = init.namespace
    this.ip = init.ip
    this.labInterface = init.labInterface
    this.subnet = init.subnet
    this.dir = init.dir
    this.stateDir = join(init.dir, 'state')
    this.root = join(init.dir, 'root')
    this.checkOpen = init.checkOpen
  }

  /**
   * Creates the host's folders and its node identity, so its node id is known before it starts.
   * With `sortsBefore`, identities are drawn until this node's id sorts before all of those: the
   * core's preferred proposer is the lowest live id, so a scenario can choose who it is.
   */
  async prepare (options: { sortsBefore?: readonly string[], signal?: AbortSignal } = {}): Promise<void> {
    await mkdir(this.root, { recursive: true })
    const others = options.sortsBefore ?? []
    for (let attempt = 1; ; attempt++) {
      const { peerId } = await loadOrCreateIdentity(this.stateDir, options.signal === undefined ? {} : { signal: options.signal })
      this.id = peerId
      if (others.every(other => peerId < other)) return
      if (attempt >= IDENTITY_DRAWS_MAX) {
        throw new HarnessError('HARNESS_BAD_ARGUMENT', `drew ${attempt} identities for host ${this.name} and none sorts before ${others.join(', ')}`)
      }
      await rm(join(this.stateDir, IDENTITY_FILE), { force: true })
    }
  }

  /** The node id (libp2p peer id) the agent on this host has, from its state dir. */
  get nodeId (): string {
    return this.id
  }

  /** The listen address the harness gives the agent. */
  get listenAddress (): string {
    return `/ip4/${this.ip}/tcp/${AGENT_PORT}`
  }

  /** This host as a static peer for another host's `--peer`. */
  get peerAddress (): string {
    return `${this.listenAddress}/p2p/${this.id}`
  }

  /** The running agent, or null. */
  get agent (): AgentProcess | null {
    return this.current !== null && this.current.running ? this.current : null
  }

  /** Every run of the agent on this host, oldest first. */
  get incarnations (): readonly AgentProcess[] {
    return this.runs
  }

  /** Starts `p2p-bootstrap run` here with this token and flags (and the host's own addresses and dirs). */
  start (launch: AgentLaunch): AgentProcess {
    this.checkOpen()
    if (this.agent !== null) {
      throw new HarnessError('HARNESS_AGENT_RUNNING', `host ${this.name} already runs an agent (pid ${this.agent.pid}); kill or stop it first`)
    }
    this.launch = launch
    const args = [
      'run', '--json',
      '--state-dir', this.stateDir,
      '--root', this.root,
      '--listen', this.listenAddress,
      '--node-ip', this.ip,
      '--interface', HOST_INTERFACE,
      ...(launch.flags ?? [])
    ]
    const agent = AgentProcess.spawn({ namespace: this.namespace, logDir: this.dir, incarnation: this.runs.length + 1, args, launch })
    this.runs.push(agent)
    this.current = agent
    return agent
  }

  /** Starts the agent again with the last launch, on the same state dir (after a kill or a stop). */
  restart (): AgentProcess {
    if (this.launch === null) throw new HarnessError('HARNESS_AGENT_NOT_STARTED', `host ${this.name} never ran an agent: call start() first`)
    return this.start(this.launch)
  }

  /** Sends SIGKILL (or `signal`) to the running agent and waits until it is gone. */
  async kill (signal: NodeJS.Signals = 'SIGKILL'): Promise<AgentExit | null> {
    const agent = this.current
    if (agent === null) return null
    agent.signal(signal)
    return await this.reaped(agent, EXIT_TIMEOUT_MS)
  }

  /** Stops the agent as systemd would: SIGTERM, then SIGKILL if it has not stopped in time. */
  async stop (): Promise<AgentExit | null> {
    const agent = this.current
    if (agent === null) return null
    agent.signal('SIGTERM')
    const timer = setTimeout(() => { agent.signal('SIGKILL') }, STOP_TIMEOUT_MS)
    try {
      return await this.reaped(agent, STOP_TIMEOUT_MS + EXIT_TIMEOUT_MS)
    } finally {
      clearTimeout(timer)
    }
  }

  private async reaped (agent: AgentProcess, timeoutMs: number): Promise<AgentExit> {
    await waitFor(() => !agent.running, { timeoutMs, intervalMs: 20, what: `the agent of host ${this.name} (pid ${agent.pid}) to exit` })
    return await agent.exited
  }

  /** The current run's events (empty before the first start). */
  async events (): Promise<AgentEvent[]> {
    return await (this.current?.events() ?? Promise.resolve([]))
  }

  /**
   * Waits until the current run printed an event matching `match` (an event name, or a test) and
   * returns it. Fails at once, with the agent's stderr, if the agent exits first.
   */
  async waitForEvent (match: string | ((event: AgentEvent) => boolean), options: WaitOptions): Promise<AgentEvent> {
    const agent = this.current
    if (agent === null) throw new HarnessError('HARNESS_AGENT_NOT_STARTED', `host ${this.name} runs no agent to wait on`)
    const test = typeof match === 'string' ? (event: AgentEvent) => event.event === match : match
    let found: AgentEvent | undefined
    const what = options.what ?? (typeof match === 'string' ? `a "${match}" event` : 'a matching event')
    await waitFor(async () => {
      found = (await agent.events()).find(test)
      return found !== undefined || !agent.running
    }, { timeoutMs: options.timeoutMs, intervalMs: options.intervalMs ?? 50, what: `${what} from host ${this.name}` })
    if (found === undefined) {
      // One more read: the event may have been written just before the process ended.
      found = (await agent.events()).find(test)
    }
    if (found === undefined) {
      const exit = agent.exitStatus
      throw new HarnessError('HARNESS_AGENT_EXITED',
        `the agent of host ${this.name} exited (code ${String(exit?.code)}, signal ${String(exit?.signal)}) before ${what}; stderr:\n${tail(await agent.stderr())}`)
    }
    return found
  }

  /** `p2p-bootstrap status --json` against this host's running agent. */
  async status (options: { signal?: AbortSignal } = {}): Promise<StatusReport> {
    this.checkOpen()
    return await queryStatus(this.stateDir, options)
  }

  /** A file under this host's `--root` ("etc/p2p-bootstrap/plan.json"), or null if absent. */
  async readOutput (path: string): Promise<string | null> {
    return await readFile(join(this.root, path), 'utf8').catch(() => null)
  }
}

/** The last lines of a log, for error messages. */
export function tail (text: string, lines = 20): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}
