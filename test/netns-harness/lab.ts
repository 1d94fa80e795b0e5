// A lab: test hosts in their own network namespaces, cabled to bridges that live in one more
// namespace made for the run (the "lab" namespace). Nothing is ever created in, or routed
// through, the namespace the harness runs in, so the lab is equally safe inside `npm test`'s
// namespace and in the machine's root namespace: every veth is created in the lab namespace with
// its peer moved straight into a host, and multicast (mDNS) stays on the lab's bridges.
//
//   host h1 (ns p2pb-<run>-h1)  eth0 10.a.b.1 ──veth── vh1 ┐
//   host h2 (ns p2pb-<run>-h2)  eth0 10.a.b.2 ──veth── vh2 ┼─ br0  (ns p2pb-<run>-lab)
//   router  (ns p2pb-<run>-rt)  eth0 10.a.b.254 ─veth── r0 ┘   br1 ─ r1 ── eth1 10.a.b+1.254
//
// Faults: a partition moves hosts' lab-side ports onto separate bridges (a split switch: links
// stay up, packets between groups vanish); a link can be set down (a pulled cable); netem on a
// host's eth0 adds latency, loss and reordering to everything it sends.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { checkHostName, namespaceName, newRunId, pickSubnets, routedPrefixes } from './addressing.js'
import { checkBinaryBuilt } from './binary.js'
import { netemSkipReason, netnsSkipReason } from './capabilities.js'
import { trackForCleanup, untrackForCleanup } from './cleanup.js'
import { mustRun, runCommand, runCommandSync } from './command.js'
import { HarnessError } from './errors.js'
import { HOST_INTERFACE, Host, tail } from './host.js'
import { netemArgs } from './impairment.js'
import type { Impairment } from './impairment.js'

/** Host numbers per subnet: .1 to .199; .250 is left for a VIP, .254 for the router. */
const HOST_NUMBER_MAX = 199
/** The last octet of a subnet's router. */
const ROUTER_NUMBER = 254
/** The last octet tests may use as a VIP: no host or router ever has it. */
export const VIP_NUMBER = 250

export interface LabOptions {
  /** How many subnets (bridges); hosts on different subnets talk only through a router. Default 1. */
  readonly subnets?: number
  readonly signal?: AbortSignal
}

export interface DisposeOptions {
  /** Keep the log dir (hosts' logs, state dirs and output) and print where it is. */
  readonly keepLogs?: boolean
}

/** One /24 of the lab: its bridge and addresses. */
export interface LabSubnet {
  readonly index: number
  /** The first three octets, "10.37.4". */
  readonly prefix: string
  readonly cidr: string
  /** Bridge name in the lab namespace. */
  readonly bridge: string
  /** The router's address on this subnet, once the lab has a router. */
  gateway: string | null
  /** Host numbers handed out so far. */
  hostsAdded: number
}

export class Lab {
  readonly runId: string
  /** Hosts' logs, state dirs and `--root`s; removed by dispose() unless kept. */
  readonly dir: string
  readonly labNamespace: string
  readonly subnets: readonly LabSubnet[]
  private readonly namespaces: string[] = []
  private readonly hostList: Host[] = []
  private routerNamespace: string | null = null
  private groupBridges: string[] = []
  private disposed = false
  private readonly cleanup = { disposeSync: (why: string) => { this.disposeSync(why) } }

  private constructor (runId: string, dir: string, prefixes: readonly string[]) {
    this.runId = runId
    this.dir = dir
    this.labNamespace = namespaceName(runId, 'lab')
    this.subnets = prefixes.map((prefix, index) => ({ index, prefix, cidr: `${prefix}.0/24`, bridge: `br${index}`, gateway: null, hostsAdded: 0 }))
  }

  /** Makes the lab namespace and one bridge per subnet. Throws HARNESS_UNAVAILABLE where namespaces cannot be made. */
  static async create (options: LabOptions = {}): Promise<Lab> {
    const reason = netnsSkipReason()
    if (reason !== undefined) throw new HarnessError('HARNESS_UNAVAILABLE', reason)
    checkBinaryBuilt()
    const signal = options.signal
    const routes = await runCommand('ip', ['-4', 'route', 'show', 'table', 'all'], signal === undefined ? {} : { signal })
    const prefixes = pickSubnets(options.subnets ?? 1, routedPrefixes(routes.stdout))
    const runId = newRunId()
    const dir = await mkdtemp(join(tmpdir(), `p2pb-lab-${runId}-`))
    const lab = new Lab(runId, dir, prefixes)
    trackForCleanup(lab.cleanup)
    try {
      await lab.addNamespace(lab.labNamespace, signal)
      for (const subnet of lab.subnets) {
        // Snooping off: a bridge must flood mDNS like a dumb switch, whatever IGMP says.
        await lab.ip(['-n', lab.labNamespace, 'link', 'add', subnet.bridge, 'type', 'bridge', 'mcast_snooping', '0'], signal)
        await lab.ip(['-n', lab.labNamespace, 'link', 'set', subnet.bridge, 'up'], signal)
      }
    } catch (err) {
      await lab.dispose({ keepLogs: true })
      throw err
    }
    return lab
  }

  get hosts (): readonly Host[] {
    return this.hostList
  }

  host (name: string): Host {
    const host = this.hostList.find(candidate => candidate.name === name)
    if (host === undefined) throw new HarnessError('HARNESS_BAD_ARGUMENT', `this lab has no host ${JSON.stringify(name)}; it has ${this.hostList.map(h => h.name).join(', ')}`)
    return host
  }

  /** An address of subnet `subnet` that no host or router uses ("10.37.4.250"), for a VIP. */
  vip (subnet = 0): string {
    return `${this.subnetAt(subnet).prefix}.${VIP_NUMBER}`
  }

  /**
   * Adds a host: a namespace with loopback up, and `eth0` cabled to the subnet's bridge with the
   * next free address, a multicast route on eth0 (mDNS is silent without one), and a default
   * route through the router when the subnet has one. Its node identity is created too; with
   * `sortsBefore`, one whose id sorts before those node ids (it becomes the preferred proposer).
   */
  async addHost (name: string, options: { subnet?: number, sortsBefore?: readonly string[], signal?: AbortSignal } = {}): Promise<Host> {
    this.checkOpen()
    checkHostName(name)
    if (this.hostList.some(host => host.name === name)) throw new HarnessError('HARNESS_BAD_ARGUMENT', `host ${name} already exists in this lab`)
    const subnet = this.subnetAt(options.subnet ?? 0)
    if (subnet.hostsAdded >= HOST_NUMBER_MAX) throw new HarnessError('HARNESS_BAD_ARGUMENT', `subnet ${subnet.cidr} is full (${HOST_NUMBER_MAX} hosts)`)
    const signal = options.signal
    subnet.hostsAdded += 1
    const ip = `${subnet.prefix}.${subnet.hostsAdded}`
    const namespace = namespaceName(this.runId, name)
    const labInterface = `v${name}`
    await this.addNamespace(namespace, signal)
    const lab = this.labNamespace
    await this.ip(['-n', lab, 'link', 'add', labInterface, 'type', 'veth', 'peer', 'name', HOST_INTERFACE, 'netns', namespace], signal)
    await this.ip(['-n', lab, 'link', 'set', labInterface, 'master', subnet.bridge], signal)
    await this.ip(['-n', lab, 'link', 'set', labInterface, 'up'], signal)
    await this.ip(['-n', namespace, 'link', 'set', 'lo', 'up'], signal)
    await this.ip(['-n', namespace, 'address', 'add', `${ip}/24`, 'dev', HOST_INTERFACE], signal)
    await this.ip(['-n', namespace, 'link', 'set', HOST_INTERFACE, 'up'], signal)
    await this.ip(['-n', namespace, 'route', 'add', '224.0.0.0/4', 'dev', HOST_INTERFACE], signal)
    if (subnet.gateway !== null) await this.ip(['-n', namespace, 'route', 'add', 'default', 'via', subnet.gateway], signal)
    const host = new Host({
      name, namespace, ip, labInterface, subnet: subnet.index, dir: join(this.dir, name), checkOpen: () => { this.checkOpen() }
    })
    await host.prepare({ ...(options.sortsBefore === undefined ? {} : { sortsBefore: options.sortsBefore }), ...(signal === undefined ? {} : { signal }) })
    this.hostList.push(host)
    return host
  }

  /** Adds `count` hosts named `${prefix}<n>…`, numbered on from the hosts that already have that prefix. */
  async addHosts (count: number, options: { prefix?: string, subnet?: number, signal?: AbortSignal } = {}): Promise<Host[]> {
    const prefix = options.prefix ?? 'h'
    const first = this.hostList.filter(host => host.name.startsWith(prefix)).length + 1
    const hosts: Host[] = []
    // In order, so addresses follow names (h1 = .1): the `ip` calls take milliseconds each.
    for (let index = 0; index < count; index++) {
      hosts.push(await this.addHost(`${prefix}${first + index}`, { ...options }))
    }
    return hosts
  }

  /**
   * Adds a router namespace with a leg (address .254) on each of `subnets` (default: all) and IPv4
   * forwarding on, and gives those subnets' hosts a default route through it. It forwards unicast
   * only: with no multicast routing, mDNS never crosses it, as on a real routed network.
   */
  async addRouter (options: { subnets?: readonly number[], signal?: AbortSignal } = {}): Promise<void> {
    this.checkOpen()
    if (this.routerNamespace !== null) throw new HarnessError('HARNESS_BAD_ARGUMENT', 'this lab already has a router')
    const signal = options.signal
    const namespace = namespaceName(this.runId, 'rt')
    await this.addNamespace(namespace, signal)
    this.routerNamespace = namespace
    await this.ip(['-n', namespace, 'link', 'set', 'lo', 'up'], signal)
    for (const index of options.subnets ?? this.subnets.map(subnet => subnet.index)) {
      const subnet = this.subnetAt(index)
      const leg = `eth${index}`
      const gateway = `${subnet.prefix}.${ROUTER_NUMBER}`
      await this.ip(['-n', this.labNamespace, 'link', 'add', `r${index}`, 'type', 'veth', 'peer', 'name', leg, 'netns', namespace], signal)
      await this.ip(['-n', this.labNamespace, 'link', 'set', `r${index}`, 'master', subnet.bridge], signal)
      await this.ip(['-n', this.labNamespace, 'link', 'set', `r${index}`, 'up'], signal)
      await this.ip(['-n', namespace, 'address', 'add', `${gateway}/24`, 'dev', leg], signal)
      await this.ip(['-n', namespace, 'link', 'set', leg, 'up'], signal)
      subnet.gateway = gateway
      for (const host of this.hostList.filter(candidate => candidate.subnet === index)) {
        await this.ip(['-n', host.namespace, 'route', 'add', 'default', 'via', gateway], signal)
      }
    }
    await mustRun('ip', ['netns', 'exec', namespace, 'sh', '-c', 'echo 1 > /proc/sys/net/ipv4/ip_forward'], signal === undefined ? {} : { signal })
  }

  /**
   * Splits the hosts into groups that cannot reach each other: each group's lab-side ports move
   * to a bridge of their own (links stay up; packets between groups are simply never delivered).
   * Hosts in no group stay on their subnet's bridge, with the router if there is one. Replaces
   * any earlier partition.
   */
  async partition (groups: ReadonlyArray<readonly Host[]>, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.checkOpen()
    const seen = new Set<Host>()
    for (const host of groups.flat()) {
      if (!this.hostList.includes(host)) throw new HarnessError('HARNESS_BAD_ARGUMENT', `host ${host.name} is not in this lab`)
      if (seen.has(host)) throw new HarnessError('HARNESS_BAD_ARGUMENT', `host ${host.name} is in two groups of the partition`)
      seen.add(host)
    }
    await this.heal(options)
    for (const [index, group] of groups.entries()) {
      const bridge = `bp${index}`
      await this.ip(['-n', this.labNamespace, 'link', 'add', bridge, 'type', 'bridge', 'mcast_snooping', '0'], options.signal)
      this.groupBridges.push(bridge)
      await this.ip(['-n', this.labNamespace, 'link', 'set', bridge, 'up'], options.signal)
      for (const host of group) await this.ip(['-n', this.labNamespace, 'link', 'set', host.labInterface, 'master', bridge], options.signal)
    }
  }

  /** Ends a partition: every host back on its subnet's bridge. */
  async heal (options: { signal?: AbortSignal } = {}): Promise<void> {
    this.checkOpen()
    if (this.groupBridges.length === 0) return
    for (const host of this.hostList) {
      await this.ip(['-n', this.labNamespace, 'link', 'set', host.labInterface, 'master', this.subnetAt(host.subnet).bridge], options.signal)
    }
    for (const bridge of this.groupBridges.splice(0)) await this.ip(['-n', this.labNamespace, 'link', 'del', bridge], options.signal)
  }

  /** Pulls (`down`) or plugs back (`up`) a host's cable: the lab-side end of its veth. */
  async setLink (host: Host, state: 'up' | 'down', options: { signal?: AbortSignal } = {}): Promise<void> {
    this.checkOpen()
    await this.ip(['-n', this.labNamespace, 'link', 'set', host.labInterface, state], options.signal)
  }

  /**
   * Gives everything `hosts` send (default: every host) latency, loss and reordering with tc
   * netem on their eth0, so each host-to-host packet meets the impairment once. Throws
   * HARNESS_UNAVAILABLE where netem is missing: check netemSkipReason() first.
   */
  async impair (impairment: Impairment, options: { hosts?: readonly Host[], signal?: AbortSignal } = {}): Promise<void> {
    this.checkOpen()
    const reason = netemSkipReason()
    if (reason !== undefined) throw new HarnessError('HARNESS_UNAVAILABLE', reason)
    const args = netemArgs(impairment)
    for (const host of options.hosts ?? this.hostList) {
      await mustRun('ip', ['netns', 'exec', host.namespace, 'tc', 'qdisc', 'replace', 'dev', HOST_INTERFACE, 'root', ...args], options.signal === undefined ? {} : { signal: options.signal })
    }
  }

  /** Removes impairments from `hosts` (default: every host). */
  async clearImpairment (options: { hosts?: readonly Host[], signal?: AbortSignal } = {}): Promise<void> {
    this.checkOpen()
    for (const host of options.hosts ?? this.hostList) {
      // Deleting a root qdisc that was never added fails; both leave the default qdisc in place.
      await runCommand('ip', ['netns', 'exec', host.namespace, 'tc', 'qdisc', 'del', 'dev', HOST_INTERFACE, 'root'], options.signal === undefined ? {} : { signal: options.signal })
    }
  }

  /** The lab's topology in words, for logs. */
  describe (): string {
    const lines = [`lab ${this.runId}: namespace ${this.labNamespace}, logs in ${this.dir}`]
    for (const subnet of this.subnets) lines.push(`  subnet ${subnet.cidr} on ${subnet.bridge}${subnet.gateway === null ? '' : `, router ${subnet.gateway}`}`)
    for (const host of this.hostList) lines.push(`  ${host.name}: ${host.ip} (ns ${host.namespace}) node ${host.nodeId}`)
    return lines.join('\n')
  }

  /**
   * Kills every agent (SIGKILL, by pid), deletes every namespace (hosts, router, lab: their
   * interfaces and bridges go with them) and removes the log dir, or keeps it and prints where.
   * Idempotent; after it, the lab refuses all work.
   */
  async dispose (options: DisposeOptions = {}): Promise<void> {
    if (this.disposed) return
    this.disposed = true
    untrackForCleanup(this.cleanup)
    for (const host of this.hostList) await host.kill('SIGKILL').catch(() => null)
    if (options.keepLogs === true) await this.report()
    for (const namespace of this.namespaces.splice(0).reverse()) {
      this.killLeftovers(namespace)
      await runCommand('ip', ['netns', 'delete', namespace])
    }
    if (options.keepLogs === true) {
      console.error(`netns-harness: kept the logs, state dirs and output of lab ${this.runId} in ${this.dir}`)
    } else {
      await rm(this.dir, { recursive: true, force: true })
    }
  }

  /** The exit/signal path: the same teardown without waiting; logs are kept. */
  disposeSync (why: string): void {
    if (this.disposed) return
    this.disposed = true
    for (const host of this.hostList) host.agent?.signal('SIGKILL')
    for (const namespace of this.namespaces.splice(0).reverse()) {
      this.killLeftovers(namespace)
      runCommandSync('ip', ['netns', 'delete', namespace])
    }
    console.error(`netns-harness: ${why}; removed lab ${this.runId}, kept its logs in ${this.dir}`)
  }

  /** Anything still running inside a namespace of ours was started by us (an agent's child): it goes too. */
  private killLeftovers (namespace: string): void {
    const pids = runCommandSync('ip', ['netns', 'pids', namespace]).stdout.split('\n').map(Number).filter(pid => Number.isInteger(pid) && pid > 0)
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {
        // Gone already.
      }
    }
  }

  /** Prints, for a failed run, each host's exit status and the end of its logs. */
  private async report (): Promise<void> {
    const lines = [this.describe()]
    for (const host of this.hostList) {
      for (const run of host.incarnations) {
        const exit = run.exitStatus
        lines.push(`--- ${host.name} run ${run.incarnation} (pid ${run.pid}, ${exit === null ? 'running' : `exit ${String(exit.code)} ${String(exit.signal)}`})`)
        const events = await run.events().catch(() => [])
        for (const event of events.slice(-4)) lines.push(`  out: ${JSON.stringify(event).slice(0, 300)}`)
        const stderr = await run.stderr().catch(() => '')
        if (stderr.trim() !== '') lines.push(...tail(stderr, 10).split('\n').map(line => `  err: ${line}`))
      }
    }
    console.error(lines.join('\n'))
  }

  private subnetAt (index: number): LabSubnet {
    const subnet = this.subnets[index]
    if (subnet === undefined) throw new HarnessError('HARNESS_BAD_ARGUMENT', `this lab has subnets 0 to ${this.subnets.length - 1}, not ${index}: pass { subnets } to createLab`)
    return subnet
  }

  private async addNamespace (namespace: string, signal: AbortSignal | undefined): Promise<void> {
    await this.ip(['netns', 'add', namespace], signal)
    this.namespaces.push(namespace)
  }

  private async ip (args: readonly string[], signal: AbortSignal | undefined): Promise<void> {
    this.checkOpen()
    await mustRun('ip', args, signal === undefined ? {} : { signal })
  }

  private checkOpen (): void {
    if (this.disposed) throw new HarnessError('HARNESS_DISPOSED', `lab ${this.runId} is disposed: a test kept running after its end (timed out?)`)
  }
}

/** Creates a lab; see {@link Lab}. Dispose it in every exit path (afterEach or finally). */
export async function createLab (options: LabOptions = {}): Promise<Lab> {
  return await Lab.create(options)
}
