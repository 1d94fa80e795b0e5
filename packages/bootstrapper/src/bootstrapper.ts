import { randomBytes, randomInt } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { join } from 'node:path'
import { availableParallelism, totalmem } from 'node:os'
import { TypedEventEmitter } from '@libp2p/interface'
import {
  FRAME_BYTES_MAX, Prng, createCoreNode, decodeWireMessage, encodeWireMessage, isRetired, roleOf, shapeDrift
} from '@p2p-bootstrap/core'
import type {
  CoreEvent, CoreMessage, CoreNodeMachine, Envelope, EpochRecord, NodeFacts, NodeId, NodeKey, Plan, PlannerMember, Role
} from '@p2p-bootstrap/core'
import { nodeNameFor } from '@p2p-bootstrap/k3s'
import type { RenderedOutput } from '@p2p-bootstrap/k3s'
import { PeerMessenger, createOverlay, nodeKeyFromPrivateKey } from '@p2p-bootstrap/overlay'
import type { Overlay } from '@p2p-bootstrap/overlay'
import { CLUSTER_HASH_ENTRY_NAME, K3sApplier } from './apply/applier.js'
import type { Backoff } from './apply/applier.js'
import { NodeDriver, systemClock } from './driver.js'
import type { DriverClock } from './driver.js'
import { KUBECONFIG_ENTRY_NAME } from './kubeconfig/limits.js'
import { adminKubeconfig } from './kubeconfig/admin-kubeconfig.js'
import { sealKubeconfig } from './kubeconfig/sealed-kubeconfig.js'
import type { SealedKubeconfig } from './kubeconfig/sealed-kubeconfig.js'
import { BootstrapperError } from './errors.js'
import { ReportLimiter } from './report-limiter.js'
import { fatalError } from './fatal-error.js'
import { leaveWaitingFor } from './leave-outlook.js'
import type { BootstrapperOptions } from './options.js'
import { planOutputText, writePlanOutput } from './plan-output.js'
import { nodePart, planView } from './plan-view.js'
import type { NodePart, PlanView } from './plan-view.js'
import { STATUS_ENTRY_NAME, encodePublishedStatus, hasReached, publishedStatusOf } from './published-status.js'
import type { AgentPhase } from './published-status.js'
import { resolveOptions } from './resolve-options.js'
import type { ResolvedOptions } from './resolve-options.js'
import { openStateDir } from './state/state-dir.js'
import { COMMITTED_PLAN_FILE, committedEvidence, gatherEvidence, missingStateProblem } from './state-evidence.js'
import type { StateDir } from './state/state-dir.js'
import { STATUS_SOCKET_NAME, StatusServer } from './status-server.js'
import type { LeaveUpdate, MemberReport, StatusReport } from './status-report.js'
import type { ObserveServer } from './observe/index.js'

/** Typed events of a bootstrapper; listeners must not throw (errors are the `error` event's job). */
export interface BootstrapperEvents {
  /** A member became known and alive. */
  'peer:join': CustomEvent<{ nodeId: string }>
  /** A member was declared dead by failure detection, or left. */
  'peer:leave': CustomEvent<{ nodeId: string, reason: 'dead' | 'left' }>
  /** A member that was declared dead or had left is alive again. */
  'peer:back': CustomEvent<{ nodeId: string }>
  /** This node's phase changed; `waitingFor` says what it waits for and why. */
  'phase': CustomEvent<{ phase: AgentPhase, waitingFor: string }>
  /** A plan was committed (or restored from disk). */
  'plan': CustomEvent<{ plan: Plan, view: PlanView }>
  /** This node's role in the latest plan (none is sent for a plan that retired this node). */
  'role': CustomEvent<{ role: Role, epoch: number, part: NodePart }>
  /**
   * A committed epoch this node learned, or restored from disk at start (one event each, oldest
   * first as the core hands them over): who proposed it, who voted, the control planes it made,
   * whom it replaced or retired, and why (`record.notes`). Sent before `plan` for the latest one.
   */
  'epoch': CustomEvent<{ record: EpochRecord, plan: Plan }>
  /**
   * This node left the cluster: it asked to (`leave()`, here or before a restart), a committed
   * epoch retired it, and its retirement was carried out. The bootstrapper stops right after.
   */
  'left': CustomEvent<{ epoch: number }>
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
/** Messages per peer queued while its connection opens; the protocol tolerates loss beyond it. */
const QUEUE_FRAMES_MAX = 512
/** How long stop() lets the last messages leave before closing connections. */
const STOP_FLUSH_MS = 2_000
/**
 * Reports a peer can cause at will (bad frames, rejected entries) are logged at most this many per
 * code and interval; the rest are summed up in one line with a sample when the interval ends.
 */
const PEER_REPORTS_PER_INTERVAL_MAX = 10
const PEER_REPORT_INTERVAL_MS = 10_000
/** Where k3s writes its admin kubeconfig on a server (`write-kubeconfig-mode: 0600`). */
const ADMIN_KUBECONFIG_PATH = 'etc/rancher/k3s/k3s.yaml'
/** The core's `node/<id>/leaving` entry: a node asked the control plane to retire it. */
const LEAVING_ENTRY_NAME = 'leaving'
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
  private readonly peerReports = new ReportLimiter({
    intervalMs: PEER_REPORT_INTERVAL_MS,
    perIntervalMax: PEER_REPORTS_PER_INTERVAL_MAX,
    emit: (error) => { this.report(error) }
  })
  private peerReportTimer: ReturnType<typeof setInterval> | undefined
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
  /** The one flow that takes this node out of the cluster (see `leave()`); resolves with the retiring epoch. */
  private leaving: Promise<number> | undefined
  /** The epoch that retired this node, once its retirement was carried out. */
  private leftEpoch: number | null = null
  /** Monotonic for the core's timers (S7), wall for its HLC and for what people read. */
  private readonly clock: DriverClock
  /** Members declared dead or left, so their return is announced once ('peer:back'). */
  private readonly gone = new Set<string>()

  constructor (options: BootstrapperOptions) {
    super()
    this.options = resolveOptions(options)
    this.clock = options.clock ?? systemClock()
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
    this.startedAtMs = this.clock.wallMs()
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
    // Lost state, kept evidence: judged before identity.key could be created anew.
    const evidence = await gatherEvidence(state.path, options.root)
    const missing = missingStateProblem(state.path, evidence)
    if (missing !== null) throw missing
    const bootstrapBarred = committedEvidence(evidence)
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
      tuning: { ...options.overlayTuning },
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
      nowMs: this.clock.monotonicMs(),
      wallMs: this.clock.wallMs(),
      ...(bootstrapBarred === undefined ? {} : { bootstrapBarred })
    })
    // Superseded entries of earlier runs are dropped, so the log does not grow with restarts; if the
    // restore refused any entry, the log as it was is kept aside first (S8: nothing dropped silently).
    const problems = node.restoreProblems
    const kept = await state.compact(node.ledgerRecords(), problems.length === 0
      ? {}
      : { keepAsideBecause: `the restore refused ${problems.length} ledger ${problems.length === 1 ? 'entry' : 'entries'} (first: ${problems[0] ?? ''})` })
    if (kept !== null) this.report(new BootstrapperError('BOOTSTRAP_LEDGER_REJECTED', `${kept.path}: ${kept.message}`))

    const tickMs = Math.max(10, Math.min(50, Math.floor(options.coreProfile.probeIntervalMs / 4)))
    const driver = new NodeDriver(node, {
      persist: async (batch) => { await state.append(batch) },
      send: (envelopes) => { this.send(envelopes) },
      events: (events) => { this.onCoreEvents(events) },
      fatal: (err) => { this.fail(err) },
      clock: this.clock
    }, tickMs)
    this.driver = driver
    this.applier = await this.createApplier(state, nodeKeyFromPrivateKey(privateKey))

    messenger.addEventListener('message', (event) => {
      if (!driver.step({ from: event.detail.from, to: node.nodeId, message: event.detail.message })) {
        this.peerReports.offer(new BootstrapperError('BOOTSTRAP_BACKLOG_FULL', `dropped a message from ${event.detail.from}: too many of its messages (or of all peers') wait for this node; the protocols send again`))
      }
    })
    messenger.addEventListener('frame:rejected', (event) => {
      this.peerReports.offer(new BootstrapperError('BOOTSTRAP_FRAME_REJECTED', `peer ${event.detail.from} sent a bad frame (${event.detail.reason}); its stream was closed`))
    })
    this.peerReportTimer = setInterval(() => { this.peerReports.flush() }, PEER_REPORT_INTERVAL_MS)
    this.peerReportTimer.unref()
    overlay.addEventListener('peer:connect', (event) => { driver.discover(event.detail) })
    await messenger.start()
    driver.start()
    this.publishClusterHash()
    for (const peer of overlay.connectedPeers()) driver.discover(peer)
    // Members known from disk: their addresses let this node reach them without discovery.
    for (const member of node.status().members) await this.learnAddresses(member.nodeId)
    this.protectMembers()
    // Until the core's first phase change, say what it waits for rather than "starting".
    if (this.latestPlan === null) this.waitingFor = node.status().waitingFor

    // What the node restored from disk (a committed plan, its role) is known before start() returns.
    await driver.settled()
    if (options.statusSocket) {
      this.statusServer = new StatusServer(state.file(STATUS_SOCKET_NAME), () => this.status(), {
        kubeconfig: () => this.sealedKubeconfig(),
        leave: async (send, signal) => { await this.followLeave(send, signal) }
      })
      await this.statusServer.start()
    }
    if (options.observe !== undefined) {
      // Loaded only when asked for: prom-client alone adds some 40 ms to every start.
      const { AgentSources, ObserveServer } = await import('./observe/index.js')
      this.observer = new ObserveServer(options.observe, new AgentSources({ bootstrapper: this, overlay, messenger, state }))
      await this.observer.start()
    }
    // It asked to leave before this start (the request is in its ledger): finish leaving.
    if (this.latestPlan !== null && this.askedToLeave() && this.stopping === undefined) this.beginLeave()
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
      // Peers are told we leave (they log it as such, not as a death) before the transport closes.
      driver.input((nowMs, wallMs) => { driver.node.shutdown(nowMs, wallMs) })
      await driver.settled()
      await this.applying
      await this.applier?.stop()
      await driver.settled()
      await this.messenger?.flush({ signal: AbortSignal.timeout(STOP_FLUSH_MS) }).catch(() => {})
    }
    await this.release()
  }

  private async release (): Promise<void> {
    clearInterval(this.peerReportTimer)
    this.peerReports.flush()
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

  /**
   * Resolves once every other node of the latest plan, and every other live member, needs nothing
   * more from this one: it applied the plan (its published status says so), or its ledger matched
   * ours after our latest own write (it holds the plan and everything this node wrote: its
   * node-ip, which a server joining through this one needs to render its config), or it left (an
   * agent run with `--once` says goodbye as it exits, its output written). What `--once` waits for
   * before it exits: no node is left without a peer to learn the plan from (L2), or waiting for
   * facts only this node had. Holding the plan alone is not enough: a peer that committed before
   * our facts reached it waited for them for ever. A member declared dead is waited for (the death
   * may be a slow node's); the caller bounds the wait.
   */
  async waitForPeersHoldPlan (options: AbortOptions = {}): Promise<void> {
    await this.waitFor(() => {
      const plan = this.latestPlan
      const node = this.driver?.node
      if (plan === null || node === undefined) return false
      const members = node.status().members
      const stateOf = new Map(members.map(member => [member.nodeId, member.state]))
      const live = members.filter(member => member.state === 'alive' || member.state === 'suspect').map(member => member.nodeId)
      const others = new Set([...plan.controlPlanes, ...plan.workers, ...live])
      others.delete(node.nodeId)
      return [...others].every(id => stateOf.get(id) === 'left' || node.holdsAllWeWrote(id) ||
        hasReached(publishedStatusOf(node, id), 'applied', plan.epoch))
    }, options)
  }

  /**
   * Takes this node out of the cluster: asks the control plane to retire it (the core writes
   * `node/<self>/leaving`, on disk before it is sent), waits for a committed epoch that retires it
   * (a worker at once; a control plane once a live worker can take its role over, which it hands
   * to it in that epoch), waits until the retirement is carried out (k3s drained and stopped),
   * then stops the bootstrapper. `status().waitingFor` says what it waits for meanwhile.
   *
   * The request cannot be taken back: an aborted `signal` rejects with `BOOTSTRAP_ABORTED`, and
   * the node still leaves, and stops, once an epoch retires it. Rejects with `BOOTSTRAP_NO_PLAN`
   * before the cluster is formed (stop the agent instead), `BOOTSTRAP_STOPPED` when the
   * bootstrapper stops first. Calling it again follows the same leave.
   */
  async leave ({ signal }: AbortOptions = {}): Promise<void> {
    if (signal?.aborted === true) throw leaveAborted(signal.reason)
    const leaving = this.beginLeave()
    if (signal === undefined) {
      await leaving
      return
    }
    let onAbort: (() => void) | undefined
    try {
      await Promise.race([leaving, new Promise<never>((resolve, reject) => {
        onAbort = () => { reject(leaveAborted(signal.reason)) }
        signal.addEventListener('abort', onAbort, { once: true })
      })])
    } finally {
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
    }
  }

  /** Starts the one leave flow (or returns it); throws when this node cannot leave now. */
  private beginLeave (): Promise<number> {
    if (this.leaving !== undefined) return this.leaving
    const driver = this.requireDriver()
    if (this.stopping !== undefined) throw new BootstrapperError('BOOTSTRAP_STOPPED', 'the bootstrapper is stopped: start it again to leave')
    if (this.latestPlan === null) {
      throw new BootstrapperError('BOOTSTRAP_NO_PLAN', 'cannot leave before the cluster is formed (no committed plan yet): nothing counts on this node, so stop the agent instead')
    }
    const leaving = this.leaveOnce(driver)
    leaving.catch(() => {}) // every caller sees the outcome; the flow itself must not go unobserved
    this.leaving = leaving
    return leaving
  }

  private async leaveOnce (driver: NodeDriver<CoreNodeMachine>): Promise<number> {
    const nodeId = driver.node.nodeId
    driver.input((nowMs, wallMs) => { driver.node.leave(nowMs, wallMs) })
    // S6: the request is on disk and on its way before anyone is told that the node is leaving.
    await driver.settled()
    this.announceWaitingFor()
    let epoch: number
    try {
      await this.waitFor(() => this.latestPlan !== null && isRetired(this.latestPlan, nodeId), {})
      epoch = retiredAt(driver.node.status().history, nodeId) ?? this.latestPlan?.epoch ?? 0
      await this.carryOutRetirement()
    } catch (err) {
      if (!(err instanceof BootstrapperError) || err.code !== 'BOOTSTRAP_STOPPED') throw err
      throw new BootstrapperError('BOOTSTRAP_STOPPED',
        'the bootstrapper stopped before this node left (a committed epoch retires it, then k3s is drained and stopped); ' +
        'the request to leave stays in its ledger, and the agent finishes leaving when it runs again',
        { cause: err })
    }
    this.leftEpoch = epoch
    this.announceWaitingFor()
    this.safeDispatchEvent('left', { detail: { epoch } })
    await this.stop()
    return epoch
  }

  /**
   * Resolves once the applier has carried out this node's retirement: the plan went to the
   * applier like any other (`apply`), which drains (on a server), stops and disables k3s.
   */
  private async carryOutRetirement (): Promise<void> {
    await this.applying
    await this.applier?.waitForRetired()
  }

  /** True when this node's ledger holds its own request to leave. */
  private askedToLeave (): boolean {
    const node = this.driver?.node
    return node !== undefined && node.lookup(`node/${node.nodeId}/${LEAVING_ENTRY_NAME}`) !== undefined
  }

  /**
   * The `leave` request of the status socket: starts leaving (or joins the leave under way) and
   * reports each step through `send` until the node left. Throws before the first line when it
   * cannot leave; a client that goes away (`signal`) ends the report, not the leave.
   */
  private async followLeave (send: (update: LeaveUpdate) => void, signal: AbortSignal): Promise<void> {
    const leaving = this.beginLeave()
    const node = this.requireDriver().node
    const core = node.status()
    const sent = new Set(core.history.map(record => record.epoch))
    let waitingFor = this.currentWaitingFor()
    send({ event: 'leaving', nodeId: node.nodeId, epoch: this.latestPlan?.epoch ?? 0, role: roleOf(this.latestPlan, node.nodeId), waitingFor })
    let retiredSent = false
    const retiredEpoch = retiredAt(core.history, node.nodeId)
    if (retiredEpoch !== null) {
      retiredSent = true
      send({ event: 'retired', epoch: retiredEpoch })
    }
    if (this.leftEpoch !== null) {
      send({ event: 'left', epoch: this.leftEpoch })
      return
    }
    const listening = new AbortController()
    const options = { signal: AbortSignal.any([listening.signal, signal]) }
    try {
      await new Promise<void>((resolve, reject) => {
        this.addEventListener('epoch', ({ detail: { record } }) => {
          if (sent.has(record.epoch)) return
          sent.add(record.epoch)
          send({ event: 'epoch', record })
          if (!retiredSent && record.retired.includes(node.nodeId)) {
            retiredSent = true
            send({ event: 'retired', epoch: record.epoch })
          }
        }, options)
        this.addEventListener('phase', () => {
          const now = this.currentWaitingFor()
          if (now === waitingFor) return
          waitingFor = now
          send({ event: 'waiting', waitingFor })
        }, options)
        this.addEventListener('left', ({ detail: { epoch } }) => {
          send({ event: 'left', epoch })
          resolve()
        }, options)
        options.signal.addEventListener('abort', () => { resolve() }, { once: true })
        leaving.catch(reject)
      })
    } finally {
      listening.abort()
    }
  }

  /** Everything `p2p-bootstrap status` shows. */
  status (): StatusReport {
    const driver = this.requireDriver()
    const node = driver.node
    const core = node.status()
    const nowMs = this.clock.wallMs()
    // lastSeenMs is the core's monotonic time.
    const monotonicMs = this.clock.monotonicMs()
    const connected = new Set(this.overlay?.connectedPeers() ?? [])
    const plan = this.latestPlan
    // The plan, role and epoch as this agent acts on them: the core learns a plan a moment before
    // its event (after the persist) reaches the agent, and the report must not mix the two.
    const role = roleOf(plan, node.nodeId)
    const self: MemberReport = {
      nodeId: node.nodeId,
      hostname: this.options.node.hostname,
      nodeName: nodeNameFor(node.nodeId, this.options.node.hostname),
      address: this.addressOf(node.nodeId),
      state: 'self',
      role,
      phase: this.phase,
      lastSeenAgoMs: 0,
      connected: true,
      ...this.leaveFlags(node.nodeId)
    }
    const members: MemberReport[] = core.members.filter(member => member.nodeId !== node.nodeId).map(member => ({
      nodeId: member.nodeId,
      ...this.namesOf(member.nodeId),
      address: this.addressOf(member.nodeId),
      state: member.state,
      role: member.role,
      phase: publishedStatusOf(node, member.nodeId)?.phase ?? null,
      lastSeenAgoMs: member.lastSeenMs === null ? null : Math.max(0, monotonicMs - member.lastSeenMs),
      connected: connected.has(member.nodeId),
      ...this.leaveFlags(member.nodeId)
    }))
    return {
      nodeId: node.nodeId,
      clusterId: core.clusterId,
      clusterName: plan?.name ?? this.options.shape.name ?? null,
      hostname: this.options.node.hostname,
      nodeName: nodeNameFor(node.nodeId, this.options.node.hostname),
      phase: this.phase,
      // Before a plan the core knows best ("2 more nodes to reach a quorum"); it changes without a phase change.
      waitingFor: plan === null ? core.waitingFor : this.currentWaitingFor(),
      expect: this.options.shape.expect ?? null,
      controlPlanes: this.options.shape.controlPlanes,
      proposer: core.proposer,
      ballot: core.ballot,
      epoch: plan?.epoch ?? 0,
      role,
      plan: plan === null ? null : planView(plan),
      part: plan === null ? null : nodePart(plan, node.nodeId),
      members: [self, ...members.sort((a, b) => a.nodeId.localeCompare(b.nodeId))],
      addresses: this.addresses(),
      connections: connected.size,
      files: this.files,
      ledgerEntries: node.ledgerSize(),
      ledgerBytes: node.ledgerBytes(),
      startedAtMs: this.startedAtMs,
      reportedAtMs: nowMs,
      history: core.history,
      leaving: core.leaving,
      retiredAtEpoch: retiredAt(core.history, node.nodeId),
      failoverDelayMs: this.options.coreProfile.failoverDelayMs,
      localHealth: core.localHealth,
      configDrift: plan === null ? [] : shapeDrift(plan, this.options.shape),
      ...(core.planConflict !== undefined && { planConflict: core.planConflict })
    }
  }

  /** Whether a member asked to leave and whether the latest plan retired it, for the status. */
  private leaveFlags (nodeId: NodeId): { leaving: boolean, retired: boolean } {
    const retired = this.latestPlan !== null && isRetired(this.latestPlan, nodeId)
    const asked = this.driver?.node.lookup(`node/${nodeId}/${LEAVING_ENTRY_NAME}`) !== undefined
    return { leaving: asked && !retired, retired }
  }

  /** What this node waits for: while it leaves, the leave's words; else the applier's (or the core's). */
  private currentWaitingFor (): string {
    return this.leaveWaitingFor() ?? this.waitingFor
  }

  private leaveWaitingFor (): string | null {
    const node = this.driver?.node
    const plan = this.latestPlan
    if (node === undefined || plan === null || (this.leaving === undefined && !this.askedToLeave())) return null
    if (this.leftEpoch !== null) return `nothing: this node left the cluster (epoch ${this.leftEpoch} retired it); the agent stops`
    // Retired: the applier says what carrying it out waits for (a successor to be Ready, the drain).
    if (isRetired(plan, node.nodeId)) return null
    const core = node.status()
    const alive = core.members.filter(member => member.state === 'alive' || member.nodeId === node.nodeId).map(member => member.nodeId)
    const live: PlannerMember[] = [...new Set([node.nodeId, ...alive])].map(nodeId => ({ nodeId, facts: node.factsOf(nodeId) ?? { labels: {} } }))
    const leaving = new Set(core.members.map(member => member.nodeId).filter(nodeId => node.lookup(`node/${nodeId}/${LEAVING_ENTRY_NAME}`) !== undefined))
    leaving.add(node.nodeId)
    return leaveWaitingFor({ plan, self: node.nodeId, shape: this.options.shape, live, leaving, failoverDelayMs: this.options.coreProfile.failoverDelayMs })
  }

  /** Tells listeners (a `phase` event, same phase) when what this node waits for changed. */
  private announceWaitingFor (): void {
    this.setPhase(this.phase)
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
        case 'member:alive':
          // A member declared gone that answers again is back (after a restart, a healed cut, or a
          // death that was wrong): said once, so an operator who saw it go sees it return.
          if (this.gone.delete(event.nodeId)) this.safeDispatchEvent('peer:back', { detail: { nodeId: event.nodeId } })
          if (event.type === 'member:join') this.safeDispatchEvent('peer:join', { detail: { nodeId: event.nodeId } })
          this.protectMembers()
          break
        case 'member:dead':
        case 'member:left':
          this.gone.add(event.nodeId)
          this.safeDispatchEvent('peer:leave', { detail: { nodeId: event.nodeId, reason: event.type === 'member:dead' ? 'dead' : 'left' } })
          this.applier?.poke() // a Ready server that died is no longer a join target
          this.protectMembers()
          break
        case 'phase':
          // The core stops at `committed`; from there what the node waits for is the applier's to say.
          if (this.latestPlan !== null) break
          this.waitingFor = event.waitingFor
          if (event.phase !== 'committed') this.setPhase(event.phase)
          break
        case 'plan:committed':
          this.safeDispatchEvent('epoch', { detail: { record: event.record, plan: event.plan } })
          this.onPlan(event.plan)
          break
        case 'role':
          break // announced with its part, once the plan is known (onPlan)
        case 'ledger:synced':
          // The start gate counts members whose ledger matched ours (bootStartHold).
          this.applier?.poke()
          break
        case 'node:entry':
          if (event.name === 'facts') void this.learnAddresses(event.nodeId)
          // A status, the CA hash or facts may be what the applier waits for.
          this.applier?.poke()
          break
        case 'ledger:rejected':
          this.peerReports.offer(new BootstrapperError('BOOTSTRAP_LEDGER_REJECTED', `rejected a ledger entry from ${event.from}: ${event.reason}`))
          break
        case 'peer:misbehaving': {
          // The core drops its messages unread until then; the overlay keeps it disconnected too.
          // The core counts on the monotonic clock (its nowMs), so the remaining time is read on it too.
          const durationMs = Math.max(0, event.untilMs - this.clock.monotonicMs())
          this.overlay?.block(event.peer, durationMs)
          this.report(new BootstrapperError('BOOTSTRAP_PEER_PENALISED', `peer ${event.peer} sent ${event.reason}: disconnected and refused for ${Math.round(durationMs / 1000)} s`))
          break
        }
        case 'ledger:equivocation':
          this.report(new BootstrapperError('BOOTSTRAP_EQUIVOCATION', `node ${event.voter} signed two different votes (${event.key}); its votes are not counted twice`))
          break
        case 'shape:mismatch':
          this.report(new BootstrapperError('BOOTSTRAP_SHAPE_MISMATCH', `node ${event.nodeId}: ${event.detail}`))
          break
        case 'state:dropped':
          this.notice(event.detail)
          break
        case 'consensus:refused':
          this.report(new BootstrapperError('BOOTSTRAP_VOTE_REFUSED', `did not vote for the epoch ${event.epoch} proposal of ${event.from}: ${event.reason}`))
          break
        default:
          break
      }
    }
    // While leaving, a member that came or went changes who can take this node's role over.
    if (this.latestPlan !== null && (this.leaving !== undefined || this.askedToLeave())) this.announceWaitingFor()
    this.settleWaiters()
  }

  private onPlan (plan: Plan): void {
    if (this.latestPlan !== null && this.latestPlan.epoch >= plan.epoch) return
    this.latestPlan = plan
    // S8: an edited config never changes the committed plan; say so, with what the edit does.
    for (const drift of shapeDrift(plan, this.options.shape)) this.report(new BootstrapperError('BOOTSTRAP_SHAPE_DRIFT', drift))
    // Each node keeps the control plane connected: the ledger's hot path once a plan exists.
    this.overlay?.keepConnected(plan.controlPlanes)
    const nodeId = this.nodeId
    const part = nodePart(plan, nodeId)
    this.waitingFor = `writing this node's output for plan epoch ${plan.epoch}`
    this.setPhase('committed')
    this.safeDispatchEvent('plan', { detail: { plan, view: planView(plan) } })
    // A retired node has no role: the plan never counts it again.
    if (part.retired !== true) this.safeDispatchEvent('role', { detail: { role: part.role, epoch: plan.epoch, part } })
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
        publish: (name, value) => { this.driver?.input((nowMs, wallMs) => { this.driver?.node.publish(name, value, nowMs, wallMs) }) },
        alive: (nodeId) => this.driver?.node.status().members.some(member => member.nodeId === nodeId && (member.state === 'alive' || member.state === 'suspect')) ?? false,
        // Heard means more than a message: the member's ledger digest matched ours since this start,
        // so any epoch it holds (one that replaced this node while it was down) is held here too.
        heard: (nodeId) => this.driver?.node.syncedWith(nodeId) === true &&
          this.driver.node.status().members.some(member => member.nodeId === nodeId && (member.state === 'alive' || member.state === 'suspect'))
      },
      reports: {
        phase: (phase, waitingFor, epoch) => {
          // About an older plan than the latest (a probe that ended as a new epoch came): stale.
          if (this.latestPlan !== null && epoch < this.latestPlan.epoch) return
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
    this.driver?.input((nowMs, wallMs) => { this.driver?.node.publish(KUBECONFIG_ENTRY_NAME, sealed, nowMs, wallMs) })
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
    this.driver?.input((nowMs, wallMs) => { this.driver?.node.publish(CLUSTER_HASH_ENTRY_NAME, value, nowMs, wallMs) })
  }

  private setPhase (phase: AgentPhase): void {
    const epoch = this.latestPlan?.epoch ?? 0
    if (phase === 'applied' || phase === 'ready') this.appliedEpoch = Math.max(this.appliedEpoch, epoch)
    const waitingFor = this.currentWaitingFor()
    if (phase === this.phase) {
      // Same phase, new reason (a probe that says "not yet"): listeners still hear what it waits for.
      if (this.announcedWaitingFor !== waitingFor) {
        this.announcedWaitingFor = waitingFor
        this.safeDispatchEvent('phase', { detail: { phase, waitingFor } })
      }
      return
    }
    this.phase = phase
    this.announcedWaitingFor = waitingFor
    const value = encodePublishedStatus({ phase, epoch })
    this.driver?.input((nowMs, wallMs) => { this.driver?.node.publish(STATUS_ENTRY_NAME, value, nowMs, wallMs) })
    this.safeDispatchEvent('phase', { detail: { phase, waitingFor } })
  }

  /** Members that have not left are never dropped from the overlay's bounded peer store. */
  private protectMembers (): void {
    const members = this.driver?.node.status().members ?? []
    this.overlay?.setMembers(members.filter(member => member.state !== 'left').map(member => member.nodeId))
  }

  private async learnAddresses (nodeId: string): Promise<void> {
    const node = this.driver?.node
    if (node === undefined || nodeId === node.nodeId) return
    const addresses = node.factsOf(nodeId)?.addresses
    if (addresses !== undefined && addresses.length > 0) await this.messenger?.addPeerAddresses(nodeId, addresses)
  }

  /** A member's host name and k3s node name as its published facts give them; null before they arrive. */
  private namesOf (nodeId: string): { hostname: string | null, nodeName: string | null } {
    const facts = this.driver?.node.factsOf(nodeId) ?? null
    if (facts === null) return { hostname: null, nodeName: null }
    return { hostname: facts.hostname ?? null, nodeName: nodeNameFor(nodeId, facts.hostname) }
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

  /** The node cannot go on (a write to the state dir failed, or a bug): stop rather than act on a broken state. */
  private fail (err: unknown): void {
    const error = fatalError(err, this.options.stateDir)
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

/** The first epoch of `history` that retired `nodeId`, or null. */
function retiredAt (history: readonly EpochRecord[], nodeId: NodeId): number | null {
  return history.find(record => record.retired.includes(nodeId))?.epoch ?? null
}

function leaveAborted (reason: unknown): BootstrapperError {
  return new BootstrapperError('BOOTSTRAP_ABORTED',
    'stopped waiting for this node to leave (the signal was aborted); the request cannot be taken back: the node still leaves, and its agent stops, once a committed epoch retires it',
    { cause: reason })
}

/** Validates `options` (errors name the option) and returns a bootstrapper ready to `start()`. */
export function createBootstrapper (options: BootstrapperOptions): Bootstrapper {
  return new Bootstrapper(options)
}
