import { randomBytes, randomInt } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { availableParallelism, totalmem } from 'node:os'
import { TypedEventEmitter } from '@libp2p/interface'
import {
  FRAME_BYTES_MAX, Prng, createCoreNode, decodeWireMessage, encodeWireMessage
} from '@p2p-bootstrap/core'
import type { CoreEvent, CoreMessage, CoreNodeMachine, Envelope, NodeFacts, NodeKey, Plan, Role } from '@p2p-bootstrap/core'
import type { RenderedOutput } from '@p2p-bootstrap/k3s'
import { PeerMessenger, createOverlay, nodeKeyFromPrivateKey } from '@p2p-bootstrap/overlay'
import type { Overlay } from '@p2p-bootstrap/overlay'
import { CLUSTER_HASH_ENTRY_NAME, K3sApplier } from './apply/applier.js'
import type { Backoff } from './apply/applier.js'
import { NodeDriver } from './driver.js'
import { KUBECONFIG_ENTRY_NAME } from './kubeconfig/limits.js'
import { adminKubeconfig } from './kubeconfig/admin-kubeconfig.js'
import { sealKubeconfig } from './kubeconfig/sealed-kubeconfig.js'
import type { SealedKubeconfig } from './kubeconfig/sealed-kubeconfig.js'
import { BootstrapperError } from './errors.js'
import type { BootstrapperOptions } from './options.js'
import { planOutputText, writePlanOutput } from './plan-output.js'
import { nodePart, planView } from './plan-view.js'
import type { NodePart, PlanView } from './plan-view.js'
import { STATUS_ENTRY_NAME, encodePublishedStatus, hasReached, publishedStatusOf } from './published-status.js'
import type { AgentPhase } from './published-status.js'
import { resolveOptions } from './resolve-options.js'
import type { ResolvedOptions } from './resolve-options.js'
import { openStateDir } from './state/state-dir.js'
import type { StateDir } from './state/state-dir.js'
import { STATUS_SOCKET_NAME, StatusServer } from './status-server.js'
import type { MemberReport, StatusReport } from './status-report.js'
import type { ObserveServer } from './observe/index.js'

/** Typed events of a bootstrapper; listeners must not throw (errors are the `error` event's job). */
export interface BootstrapperEvents {
  /** A member became known and alive. */
  'peer:join': CustomEvent<{ nodeId: string }>
  /** A member was declared dead by failure detection, or left. */
  'peer:leave': CustomEvent<{ nodeId: string, reason: 'dead' | 'left' }>
  /** This node's phase changed; `waitingFor` says what it waits for and why. */
  'phase': CustomEvent<{ phase: AgentPhase, waitingFor: string }>
  /** A plan was committed (or restored from disk). */
  'plan': CustomEvent<{ plan: Plan, view: PlanView }>
  /** This node's role in the latest plan. */
  'role': CustomEvent<{ role: Role, epoch: number, part: NodePart }>
  /**
   * This node's output for the plan is written and k3s started (only written in a dry run, or
   * handed to `apply.onOutput`): `files` lists the paths.
   */
  'applied': CustomEvent<{ plan: Plan, part: NodePart, files: readonly string[], service: 'k3s' | 'k3s-agent' }>
  /** Every node of the plan reports k3s Ready: the cluster is up. Once per plan epoch. */
  'ready': CustomEvent<{ plan: Plan }>
  /** Something went wrong. `fatal` errors stopped the bootstrapper; the others were survived. */
  'error': CustomEvent<BootstrapperError>
  /** Something worth a line in the log that is not an error (a repaired state file). */
  'notice': CustomEvent<{ message: string }>
}

export interface AbortOptions {
  signal?: AbortSignal
}

/** The committed plan as JSON in the state dir, for people and scripts. */
const COMMITTED_PLAN_FILE = 'plan.json'
/** Messages per peer queued while its connection opens; the protocol tolerates loss beyond it. */
const QUEUE_FRAMES_MAX = 512
/** How long stop() lets the last messages leave before closing connections. */
const STOP_FLUSH_MS = 2_000
/** Where k3s writes its admin kubeconfig on a server (`write-kubeconfig-mode: 0600`). */
const ADMIN_KUBECONFIG_PATH = 'etc/rancher/k3s/k3s.yaml'
/** Connections are bounded, but a fleet's SWIM probes reach every member in turn. */
const CONNECTIONS_MAX = 64
/** Pace of readiness probes and start retries: the test profile's is short so that tests run fast. */
const APPLY_BACKOFF: Readonly<Record<string, Backoff>> = {
  test: { initialMs: 100, maxMs: 1_000 },
  lan: { initialMs: 1_000, maxMs: 15_000 },
  wan: { initialMs: 2_000, maxMs: 30_000 }
}

interface Waiter {
  readonly check: () => boolean
  readonly resolve: () => void
  readonly reject: (reason: unknown) => void
}

/**
 * The embeddable agent: the pure core node driven over the private libp2p overlay, with a durable
 * state dir, typed events and a local status socket.
 *
 * @example
 * ```ts
 * const bootstrapper = createBootstrapper({ token, stateDir: '/var/lib/p2p-bootstrap' })
 * bootstrapper.addEventListener('role', (event) => { console.log('role', event.detail.role) })
 * await bootstrapper.start()
 * const plan = await bootstrapper.waitForPlan({ signal: AbortSignal.timeout(600_000) })
 * ```
 */
export class Bootstrapper extends TypedEventEmitter<BootstrapperEvents> {
  readonly options: ResolvedOptions
  private state: StateDir | undefined
  private overlay: Overlay | undefined
  private messenger: PeerMessenger<CoreMessage> | undefined
  private driver: NodeDriver<CoreNodeMachine> | undefined
  private applier: K3sApplier | undefined
  private statusServer: StatusServer | undefined
  private observer: ObserveServer | undefined
  private phase: AgentPhase = 'discovering'
  private waitingFor = 'starting'
  private announcedWaitingFor = ''
  private latestPlan: Plan | null = null
  private appliedEpoch = 0
  private readyEpoch = 0
  private files: readonly string[] = []
  private planFiles: readonly string[] = []
  private applying: Promise<void> = Promise.resolve()
  private waiters = new Set<Waiter>()
  private startedAtMs = 0
  private starting: Promise<void> | undefined
  private stopping: Promise<void> | undefined

  constructor (options: BootstrapperOptions) {
    super()
    this.options = resolveOptions(options)
  }

  /** The node id (libp2p peer id); known once started. */
  get nodeId (): string {
    return this.requireDriver().node.nodeId
  }

  /** The overlay's listen addresses, each ending in /p2p/<node id>. */
  addresses (): string[] {
    return this.overlay?.addresses() ?? []
  }

  /** Opens the state dir, joins the overlay and starts forming (or rejoining) the cluster. */
  async start (options: AbortOptions = {}): Promise<void> {
    if (this.stopping !== undefined) throw new BootstrapperError('BOOTSTRAP_STOPPED', 'this bootstrapper was stopped; create a new one')
    this.starting ??= this.startOnce(options)
    await this.starting
  }

  private async startOnce ({ signal }: AbortOptions): Promise<void> {
    signal?.throwIfAborted()
    this.startedAtMs = Date.now()
    try {
      await this.open(signal)
    } catch (err) {
      await this.release()
      throw err
    }
  }

  private async open (signal: AbortSignal | undefined): Promise<void> {
    const { options } = this
    const state = await openStateDir(options.stateDir, signal === undefined ? {} : { signal })
    this.state = state
    const { privateKey } = await state.identity()
    const loaded = await state.load()
    for (const notice of loaded.notices) this.notice(`${notice.path}: ${notice.message}`)
    signal?.throwIfAborted()

    const overlay = await createOverlay({
      keys: options.keys,
      identity: privateKey,
      listen: [...options.listen],
      peers: [...options.peers],
      mdns: options.mdns,
      dht: options.dht,
      profile: options.profileName,
      limits: { maxConnections: CONNECTIONS_MAX },
      start: false
    })
    this.overlay = overlay
    await overlay.start(signal === undefined ? {} : { signal })

    const messenger = new PeerMessenger<CoreMessage>(overlay.libp2p, {
      protocol: `${options.keys.syncProtocolPrefix}/1.0.0`,
      encode: encodeWireMessage,
      decode: decodeWireMessage,
      maxFrameBytes: FRAME_BYTES_MAX,
      queueFramesMax: QUEUE_FRAMES_MAX,
      writeTimeoutMs: 5_000,
      idleStreamTimeoutMs: 60_000,
      dialTimeoutMs: 5_000,
      redialBackoffMs: 1_000
    })
    this.messenger = messenger

    const node = createCoreNode({
      key: nodeKeyFromPrivateKey(privateKey),
      clusterId: options.keys.clusterId,
      sealingKey: options.keys.sealingKey,
      shape: options.shape,
      facts: this.facts(overlay.addresses()),
      profile: options.coreProfile,
      prng: new Prng(randomInt(0, 2 ** 31)),
      entropy: (length) => new Uint8Array(randomBytes(length)),
      restored: loaded.records,
      nowMs: Date.now()
    })
    // Superseded entries of earlier runs are dropped, so the log does not grow with restarts.
    await state.compact(node.ledgerRecords())

    const tickMs = Math.max(10, Math.min(50, Math.floor(options.coreProfile.probeIntervalMs / 4)))
    const driver = new NodeDriver(node, {
      persist: async (batch) => { await state.append(batch) },
      send: (envelopes) => { this.send(envelopes) },
      events: (events) => { this.onCoreEvents(events) },
      fatal: (err) => { this.fail(err) },
      now: () => Date.now()
    }, tickMs)
    this.driver = driver
    this.applier = await this.createApplier(state, nodeKeyFromPrivateKey(privateKey))

    messenger.addEventListener('message', (event) => {
      driver.step({ from: event.detail.from, to: node.nodeId, message: event.detail.message })
    })
    messenger.addEventListener('frame:rejected', (event) => {
      this.report(new BootstrapperError('BOOTSTRAP_FRAME_REJECTED', `peer ${event.detail.from} sent a bad frame (${event.detail.reason}); its stream was closed`))
    })
    overlay.addEventListener('peer:connect', (event) => { driver.discover(event.detail) })
    await messenger.start()
    driver.start()
    this.publishClusterHash()
    for (const peer of overlay.connectedPeers()) driver.discover(peer)
    // Members known from disk: their addresses let this node reach them without discovery.
    for (const member of node.status().members) await this.learnAddresses(member.nodeId)
    // Until the core's first phase change, say what it waits for rather than "starting".
    if (this.latestPlan === null) this.waitingFor = node.status().waitingFor

    // What the node restored from disk (a committed plan, its role) is known before start() returns.
    await driver.settled()
    if (options.statusSocket) {
      this.statusServer = new StatusServer(state.file(STATUS_SOCKET_NAME), () => this.status(), { kubeconfig: () => this.sealedKubeconfig() })
      await this.statusServer.start()
    }
    if (options.observe !== undefined) {
      // Loaded only when asked for: prom-client alone adds some 40 ms to every start.
      const { AgentSources, ObserveServer } = await import('./observe/index.js')
      this.observer = new ObserveServer(options.observe, new AgentSources({ bootstrapper: this, overlay, messenger, state }))
      await this.observer.start()
    }
  }

  /** Where `/metrics`, `/healthz` and the status page listen (`127.0.0.1:9464`), or null when off or stopped. */
  observeAddress (): string | null {
    return this.observer?.address() ?? null
  }

  /** Stops everything, after letting the last messages leave; idempotent. */
  async stop (): Promise<void> {
    this.stopping ??= this.stopOnce()
    await this.stopping
  }

  private async stopOnce (): Promise<void> {
    await this.starting?.catch(() => {})
    const driver = this.driver
    if (driver?.running === true) {
      await driver.settled()
      await this.applying
      await this.applier?.stop()
      await driver.settled()
      await this.messenger?.flush({ signal: AbortSignal.timeout(STOP_FLUSH_MS) }).catch(() => {})
    }
    await this.release()
  }

  private async release (): Promise<void> {
    await this.applier?.stop()
    this.driver?.stop()
    const stopped = new BootstrapperError('BOOTSTRAP_STOPPED', 'the bootstrapper stopped before this happened')
    for (const waiter of this.waiters) waiter.reject(stopped)
    this.waiters.clear()
    await this.messenger?.stop().catch(() => {})
    await this.statusServer?.stop().catch(() => {})
    await this.observer?.stop().catch(() => {})
    await this.overlay?.stop().catch(() => {})
    await this.state?.close().catch(() => {})
  }

  /** Resolves with the committed plan (at once if there is one). */
  async waitForPlan (options: AbortOptions = {}): Promise<Plan> {
    await this.waitFor(() => this.latestPlan !== null, options)
    const plan = this.latestPlan
    if (plan === null) throw new BootstrapperError('BOOTSTRAP_STOPPED', 'no plan')
    return plan
  }

  /** Resolves once this node's output for the latest plan is written (and k3s started, unless a dry run). */
  async waitForApplied (options: AbortOptions = {}): Promise<void> {
    await this.waitFor(() => this.latestPlan !== null && this.appliedEpoch >= this.latestPlan.epoch, options)
  }

  /** Resolves once every node of the latest plan reports k3s Ready (never in a dry run). */
  async waitForReady (options: AbortOptions = {}): Promise<void> {
    await this.waitFor(() => this.latestPlan !== null && this.readyEpoch >= this.latestPlan.epoch, options)
  }

  /**
   * Resolves once every node the plan lists, and every other member alive now (a node that came
   * after the plan), has published `phase` (or later) for the plan's epoch: a node that exits after
   * this leaves nobody waiting for something only it could tell.
   */
  async waitForFleet (phase: AgentPhase, options: AbortOptions = {}): Promise<void> {
    await this.waitFor(() => {
      const plan = this.latestPlan
      const node = this.driver?.node
      if (plan === null || node === undefined) return false
      const alive = node.status().members.filter(member => member.state === 'alive' || member.state === 'suspect').map(member => member.nodeId)
      const everyone = new Set([...plan.controlPlanes, ...plan.workers, ...alive])
      return [...everyone].every(id => hasReached(publishedStatusOf(node, id), phase, plan.epoch))
    }, options)
  }

  /** Everything `p2p-bootstrap status` shows. */
  status (): StatusReport {
    const driver = this.requireDriver()
    const node = driver.node
    const core = node.status()
    const nowMs = Date.now()
    const connected = new Set(this.overlay?.connectedPeers() ?? [])
    const plan = this.latestPlan
    const self: MemberReport = {
      nodeId: node.nodeId,
      address: this.addressOf(node.nodeId),
      state: 'self',
      role: core.role,
      phase: this.phase,
      lastSeenAgoMs: 0,
      connected: true
    }
    const members: MemberReport[] = core.members.filter(member => member.nodeId !== node.nodeId).map(member => ({
      nodeId: member.nodeId,
      address: this.addressOf(member.nodeId),
      state: member.state,
      role: member.role,
      phase: publishedStatusOf(node, member.nodeId)?.phase ?? null,
      lastSeenAgoMs: member.lastSeenMs === null ? null : Math.max(0, nowMs - member.lastSeenMs),
      connected: connected.has(member.nodeId)
    }))
    return {
      nodeId: node.nodeId,
      clusterId: core.clusterId,
      phase: this.phase,
      // Before a plan the core knows best ("2 more nodes to reach a quorum"); it changes without a phase change.
      waitingFor: plan === null ? core.waitingFor : this.waitingFor,
      expect: this.options.shape.expect ?? null,
      controlPlanes: this.options.shape.controlPlanes,
      proposer: core.proposer,
      ballot: core.ballot,
      epoch: core.epoch,
      role: core.role,
      plan: plan === null ? null : planView(plan),
      part: plan === null ? null : nodePart(plan, node.nodeId),
      members: [self, ...members.sort((a, b) => a.nodeId.localeCompare(b.nodeId))],
      addresses: this.addresses(),
      connections: connected.size,
      files: this.files,
      ledgerEntries: node.ledgerSize(),
      ledgerBytes: node.ledgerBytes(),
      startedAtMs: this.startedAtMs,
      reportedAtMs: nowMs
    }
  }

  /** Counters of the sync protocol (frames, bytes, drops, rejections). */
  stats (): ReturnType<PeerMessenger<CoreMessage>['stats']> | null {
    return this.messenger?.stats() ?? null
  }

  // ---- wiring ----

  private facts (addresses: readonly string[]): NodeFacts {
    const { node } = this.options
    return {
      labels: node.labels,
      memoryMb: Math.floor(totalmem() / (1024 * 1024)),
      cpus: availableParallelism(),
      ...(node.role === undefined ? {} : { requestedRole: node.role }),
      ...(node.nodeIp === undefined ? {} : { nodeIp: node.nodeIp }),
      hostname: node.hostname,
      addresses
    }
  }

  private send (envelopes: readonly Envelope[]): void {
    const messenger = this.messenger
    if (messenger === undefined) return
    for (const envelope of envelopes) messenger.send(envelope.to, envelope.message as CoreMessage)
  }

  private onCoreEvents (events: readonly CoreEvent[]): void {
    for (const event of events) {
      switch (event.type) {
        case 'member:join':
          this.safeDispatchEvent('peer:join', { detail: { nodeId: event.nodeId } })
          break
        case 'member:dead':
        case 'member:left':
          this.safeDispatchEvent('peer:leave', { detail: { nodeId: event.nodeId, reason: event.type === 'member:dead' ? 'dead' : 'left' } })
          this.applier?.poke() // a Ready server that died is no longer a join target
          break
        case 'phase':
          // The core stops at `committed`; from there what the node waits for is the applier's to say.
          if (this.latestPlan !== null) break
          this.waitingFor = event.waitingFor
          if (event.phase !== 'committed') this.setPhase(event.phase)
          break
        case 'plan:committed':
          this.onPlan(event.plan)
          break
        case 'role':
          break // announced with its part, once the plan is known (onPlan)
        case 'node:entry':
          if (event.name === 'facts') void this.learnAddresses(event.nodeId)
          // A status, the CA hash or facts may be what the applier waits for.
          this.applier?.poke()
          break
        case 'ledger:rejected':
          this.report(new BootstrapperError('BOOTSTRAP_LEDGER_REJECTED', `rejected a ledger entry from ${event.from}: ${event.reason}`))
          break
        case 'ledger:equivocation':
          this.report(new BootstrapperError('BOOTSTRAP_EQUIVOCATION', `node ${event.voter} signed two different votes (${event.key}); its votes are not counted twice`))
          break
        case 'shape:mismatch':
          this.report(new BootstrapperError('BOOTSTRAP_SHAPE_MISMATCH', `node ${event.nodeId}: ${event.detail}`))
          break
        default:
          break
      }
    }
    this.settleWaiters()
  }

  private onPlan (plan: Plan): void {
    if (this.latestPlan !== null && this.latestPlan.epoch >= plan.epoch) return
    this.latestPlan = plan
    // Each node keeps the control plane connected: the ledger's hot path once a plan exists.
    this.overlay?.keepConnected(plan.controlPlanes)
    const nodeId = this.nodeId
    const part = nodePart(plan, nodeId)
    this.waitingFor = `writing this node's output for plan epoch ${plan.epoch}`
    this.setPhase('committed')
    this.safeDispatchEvent('plan', { detail: { plan, view: planView(plan) } })
    this.safeDispatchEvent('role', { detail: { role: part.role, epoch: plan.epoch, part } })
    this.applying = this.applying.then(async () => { await this.apply(plan, part) })
  }

  /** Writes the plan view for operators, then hands the plan to the k3s applier. */
  private async apply (plan: Plan, part: NodePart): Promise<void> {
    if (this.latestPlan !== plan || this.driver?.running !== true) return
    try {
      this.planFiles = await writePlanOutput(this.options.root, plan, part.nodeId)
      // A readable copy for operators; the ledger log holds the certified original.
      await this.state?.writeFile(COMMITTED_PLAN_FILE, planOutputText(plan, part.nodeId), 0o600)
    } catch (err) {
      this.report(err instanceof BootstrapperError ? err : new BootstrapperError('BOOTSTRAP_APPLY_FAILED', String(err), { cause: err }))
    }
    if (this.driver?.running !== true) return
    this.applier?.setPlan(plan)
  }

  private async createApplier (state: StateDir, nodeKey: NodeKey): Promise<K3sApplier> {
    const { options } = this
    const applier = new K3sApplier({
      nodeId: nodeKey.nodeId,
      nodeKey,
      sealingKey: options.keys.sealingKey,
      root: options.root,
      dryRun: options.dryRun,
      node: {
        ...(options.node.nodeIp === undefined ? {} : { nodeIp: options.node.nodeIp }),
        ...(options.node.interface === undefined ? {} : { interface: options.node.interface }),
        ...(options.subnet === undefined ? {} : { subnet: options.subnet })
      },
      blocks: options.k3s,
      apply: options.apply,
      state,
      backoff: APPLY_BACKOFF[options.profileName] ?? { initialMs: 1_000, maxMs: 15_000 },
      ledger: {
        lookup: (key) => this.driver?.node.lookup(key),
        factsOf: (nodeId) => this.driver?.node.factsOf(nodeId) ?? undefined,
        statusOf: (nodeId) => {
          const node = this.driver?.node
          return node === undefined ? null : publishedStatusOf(node, nodeId)
        },
        publish: (name, value) => { this.driver?.input((nowMs) => { this.driver?.node.publish(name, value, nowMs) }) }
      },
      reports: {
        phase: (phase, waitingFor) => {
          this.waitingFor = waitingFor
          this.setPhase(phase)
        },
        applied: (plan, files, output) => { this.onApplied(plan, files, output) },
        clusterReady: (plan) => {
          this.readyEpoch = Math.max(this.readyEpoch, plan.epoch)
          this.safeDispatchEvent('ready', { detail: { plan } })
          this.settleWaiters()
        },
        nodeReady: async (plan, output) => { if (output.role === 'control-plane') await this.publishAdminKubeconfig(plan) },
        error: (error) => { this.report(error) },
        notice: (message) => { this.notice(message) }
      }
    })
    await applier.load()
    return applier
  }

  private onApplied (plan: Plan, files: readonly string[], output: RenderedOutput): void {
    if (this.driver?.running !== true) return
    this.files = [...this.planFiles, ...files]
    this.safeDispatchEvent('applied', { detail: { plan, part: nodePart(plan, this.nodeId), files: this.files, service: output.service } })
    this.settleWaiters()
  }

  /**
   * With admin keys configured, a Ready server shares k3s' admin kubeconfig, pointed at the VIP
   * (else at this server) and sealed to those keys: members only ever see sealed boxes.
   */
  private async publishAdminKubeconfig (plan: Plan): Promise<void> {
    const { adminKeys, root, node } = this.options
    if (adminKeys.length === 0) return
    const path = join(root, ADMIN_KUBECONFIG_PATH)
    const text = await readFile(path, 'utf8').catch((err: unknown) => {
      throw new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `cannot read k3s' admin kubeconfig ${path} (${(err as Error).message}): \`p2p-bootstrap kubeconfig\` has nothing to offer from this server`, { cause: err })
    })
    const host = plan.vip ?? node.nodeIp ?? '127.0.0.1'
    const server = `https://${isIP(host) === 6 ? `[${host}]` : host}:6443`
    const sealed = sealKubeconfig(adminKubeconfig(text, server), adminKeys, (length) => new Uint8Array(randomBytes(length)))
    this.driver?.input((nowMs) => { this.driver?.node.publish(KUBECONFIG_ENTRY_NAME, sealed, nowMs) })
  }

  /** The sealed admin kubeconfig a control plane of the plan published; never a non-member's. */
  private sealedKubeconfig (): SealedKubeconfig | null {
    const node = this.driver?.node
    const plan = this.latestPlan
    if (node === undefined || plan === null) return null
    // Anyone can seal to a public key: only a control plane of the committed plan is believed.
    for (const nodeId of plan.controlPlanes) {
      const sealed = node.lookup(`node/${nodeId}/${KUBECONFIG_ENTRY_NAME}`)
      if (sealed !== undefined) return { nodeId, sealed }
    }
    return null
  }

  /** The cluster-wide k3s settings' hash, for joiners to compare with the init node's (once per value). */
  private publishClusterHash (): void {
    const node = this.driver?.node
    if (node === undefined) return
    const value = new TextEncoder().encode(this.options.k3s.clusterHash)
    const held = node.lookup(`node/${node.nodeId}/${CLUSTER_HASH_ENTRY_NAME}`)
    if (held !== undefined && Buffer.from(held).equals(value)) return
    this.driver?.input((nowMs) => { this.driver?.node.publish(CLUSTER_HASH_ENTRY_NAME, value, nowMs) })
  }

  private setPhase (phase: AgentPhase): void {
    const epoch = this.latestPlan?.epoch ?? 0
    if (phase === 'applied' || phase === 'ready') this.appliedEpoch = Math.max(this.appliedEpoch, epoch)
    if (phase === this.phase) {
      // Same phase, new reason (a probe that says "not yet"): listeners still hear what it waits for.
      if (this.announcedWaitingFor !== this.waitingFor) {
        this.announcedWaitingFor = this.waitingFor
        this.safeDispatchEvent('phase', { detail: { phase, waitingFor: this.waitingFor } })
      }
      return
    }
    this.phase = phase
    this.announcedWaitingFor = this.waitingFor
    const value = encodePublishedStatus({ phase, epoch })
    this.driver?.input((nowMs) => { this.driver?.node.publish(STATUS_ENTRY_NAME, value, nowMs) })
    this.safeDispatchEvent('phase', { detail: { phase, waitingFor: this.waitingFor } })
  }

  private async learnAddresses (nodeId: string): Promise<void> {
    const node = this.driver?.node
    if (node === undefined || nodeId === node.nodeId) return
    const addresses = node.factsOf(nodeId)?.addresses
    if (addresses !== undefined && addresses.length > 0) await this.messenger?.addPeerAddresses(nodeId, addresses)
  }

  private addressOf (nodeId: string): string | null {
    const facts = this.driver?.node.factsOf(nodeId) ?? null
    return facts?.nodeIp ?? facts?.addresses?.[0] ?? null
  }

  private async waitFor (check: () => boolean, { signal }: AbortOptions): Promise<void> {
    signal?.throwIfAborted()
    if (check()) return
    if (this.stopping !== undefined) throw new BootstrapperError('BOOTSTRAP_STOPPED', 'the bootstrapper is stopped')
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.waiters.delete(waiter)
        reject(signal?.reason)
      }
      const waiter: Waiter = {
        check,
        resolve: () => { signal?.removeEventListener('abort', onAbort); resolve() },
        reject: (reason) => { signal?.removeEventListener('abort', onAbort); reject(reason) }
      }
      this.waiters.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  private settleWaiters (): void {
    for (const waiter of this.waiters) {
      if (waiter.check()) {
        this.waiters.delete(waiter)
        waiter.resolve()
      }
    }
  }

  private report (error: BootstrapperError): void {
    this.safeDispatchEvent('error', { detail: error })
  }

  private notice (message: string): void {
    this.safeDispatchEvent('notice', { detail: { message } })
  }

  /** A write to the state dir failed: nothing after it was sent; stop rather than run on without it. */
  private fail (err: unknown): void {
    const error = new BootstrapperError('BOOTSTRAP_STORAGE_FAILED',
      `stopping: the state dir refused a write (${(err as Error).message}); free space or fix ${this.options.stateDir}, then start again`,
      { cause: err, fatal: true })
    for (const waiter of this.waiters) waiter.reject(error)
    this.waiters.clear()
    this.report(error)
    void this.stop()
  }

  private requireDriver (): NodeDriver<CoreNodeMachine> {
    if (this.driver === undefined) throw new BootstrapperError('BOOTSTRAP_NOT_STARTED', 'the bootstrapper is not started: call start() first')
    return this.driver
  }
}

/** Validates `options` (errors name the option) and returns a bootstrapper ready to `start()`. */
export function createBootstrapper (options: BootstrapperOptions): Bootstrapper {
  return new Bootstrapper(options)
}
