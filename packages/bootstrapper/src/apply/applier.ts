import { clusterOriginOf, initialiserOf, joinTargets, openAgentToken, openServerToken, roleOf, wasReplaced } from '@p2p-bootstrap/core'
import type { NodeFacts, NodeId, NodeKey, Plan, Role } from '@p2p-bootstrap/core'
import { DATA_DIR_DEFAULT, RenderError, nodeNameFor, renderNode } from '@p2p-bootstrap/k3s'
import type { NodeSecrets, RenderedOutput } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { hasReached } from '../published-status.js'
import type { AgentPhase, PublishedStatus } from '../published-status.js'
import type { StateDir } from '../state/state-dir.js'
import type { ApplyOptions, CommandLine, NodeOutput } from './apply-options.js'
import { loadApplyRecord, saveApplyRecord } from './apply-record.js'
import { serviceOf } from './apply-record.js'
import type { ApplyRecord, K3sService } from './apply-record.js'
import { hostNetwork } from './host-network.js'
import { nextJoinStep } from './join-sequence.js'
import type { JoinStep } from './join-sequence.js'
import type { K3sBlocks } from './k3s-blocks.js'
import { answersTcp, readCaHash } from './k3s-facts.js'
import {
  SERVER_READY_ENTRY_NAME, STOPPED_ENTRY_NAME, chooseRemover, pendingRemovals, removedEntryName, retiringServers,
  serverRemovalsPending
} from './node-removal.js'
import type { RemovalView } from './node-removal.js'
import { filesHash, pathUnder, writeOutputFiles } from './output-files.js'
import { RetryTimer } from './retry-timer.js'
import type { Backoff } from './retry-timer.js'
import { describeFailure, expandCommand, runCommand } from './run-command.js'
import type { CommandResult } from './run-command.js'
import { etcdctlArgv, membersOfNode, parseMemberList } from './etcd-members.js'
import type { EtcdMember } from './etcd-members.js'
import { holdsServerData, removeServerState, staleServerError } from './stale-server.js'
import { bootStartHold, grantConsent, hasConsent, installGate, revokeConsent } from './start-gate.js'

export type { Backoff } from './retry-timer.js'

/** Ledger names this agent publishes under `node/<id>/`. */
export const CA_HASH_ENTRY_NAME = 'ca-hash'
export const CLUSTER_HASH_ENTRY_NAME = 'k3s-hash'

const HASH_PATTERN = /^[0-9a-f]{64}$/
const API_PORT = 6443
const VIP_PROBE_TIMEOUT_MS = 1_000
const PROBE_ATTEMPT_TIMEOUT_MS = 10_000
const COMMAND_TIMEOUT_MS_DEFAULT = 120_000

// Started, never enabled: k3s starts at boot only when the agent consents again (start-gate.ts).
const DEFAULT_START: CommandLine = ['systemctl', 'start', '{service}']
const DAEMON_RELOAD: CommandLine = ['systemctl', 'daemon-reload']
const DEFAULT_RESTART: CommandLine = ['systemctl', 'restart', '{service}']
const DEFAULT_STOP: CommandLine = ['systemctl', 'disable', '--now', '{service}']
const DEFAULT_SERVER_PROBE: CommandLine = ['k3s', 'kubectl', 'get', '--raw', '/readyz']
const DEFAULT_WORKER_PROBE: CommandLine = ['systemctl', 'is-active', '--quiet', 'k3s-agent']
/** kubectl as k3s ships it on a server (it reads the admin kubeconfig k3s writes). */
const KUBECTL: CommandLine = ['k3s', 'kubectl']

/** What the applier reads from and writes to the ledger (through the driver, in S6 order). */
export interface ApplierLedger {
  lookup: (key: string) => Uint8Array | undefined
  factsOf: (nodeId: NodeId) => NodeFacts | undefined
  statusOf: (nodeId: NodeId) => PublishedStatus | null
  publish: (name: string, value: Uint8Array) => void
  /**
   * True while a member is alive (or suspect) in this node's view: of the servers, the lowest live
   * one deletes gone nodes from Kubernetes. Without it, every member counts as alive.
   */
  alive?: (nodeId: NodeId) => boolean
  /**
   * True once this agent heard a member directly since it started (not only from the ledger on
   * disk): a server's first start after a reboot waits for a majority of its plan's control planes
   * (start-gate.ts). Without it, `alive` stands in.
   */
  heard?: (nodeId: NodeId) => boolean
}

/** Where the applier tells the agent what happened. */
export interface ApplierReports {
  /** `epoch` is the plan epoch the phase is about: a report about an older plan than the agent's latest is stale. */
  phase: (phase: AgentPhase, waitingFor: string, epoch: number) => void
  applied: (plan: Plan, files: readonly string[], output: RenderedOutput) => void
  clusterReady: (plan: Plan) => void
  /** This node is Ready: what a Ready server publishes besides its phase (the admin kubeconfig). */
  nodeReady: (plan: Plan, output: RenderedOutput) => Promise<void>
  error: (error: BootstrapperError) => void
  notice: (message: string) => void
  /**
   * This node left: the plan retired it, and its k3s service is stopped (drained first on a
   * server), or never ran. Once per run of the agent; `waitForRetired` resolves at the same time.
   */
  retired?: (plan: Plan) => void
}

export interface ApplierInit {
  readonly nodeId: NodeId
  readonly nodeKey: NodeKey
  readonly sealingKey: Uint8Array
  readonly root: string
  readonly dryRun: boolean
  readonly node: { readonly nodeIp?: string, readonly interface?: string, readonly subnet?: string }
  readonly blocks: K3sBlocks
  readonly apply: ApplyOptions
  readonly state: StateDir
  readonly ledger: ApplierLedger
  readonly reports: ApplierReports
  /** Retry pace of probes and failed starts (the timing profile's). */
  readonly backoff: Backoff
}

/** A join decision that is not a wait. */
type JoinDecision = Exclude<JoinStep, { kind: 'wait' }>

/** A readiness probe of one plan epoch; a newer plan stops it, so it never speaks for that plan. */
interface Probe {
  readonly epoch: number
  readonly controller: AbortController
  readonly done: Promise<void>
}

interface RetiredWaiter {
  readonly resolve: (plan: Plan) => void
  readonly reject: (reason: unknown) => void
}

/**
 * Brings this node's k3s to what the latest committed plan says, in the order DESIGN §7 requires:
 * decide how to join (the one initialiser at once; servers one at a time; workers after a server),
 * open the tokens, render, check the cluster-wide settings against the init node's, write the
 * files (or hand them to an installer's callback), run the start step once, probe `/readyz` with
 * back-off and publish Ready; the init server then publishes the CA hash that joiners pin.
 *
 * Later epochs are reconciled the same way. A node whose role and join target stay keeps running
 * (same bytes, no restart) and reports Ready again for the new epoch. A worker promoted to control
 * plane waits for its turn, then stops its agent and starts the server. A server whose join
 * target left the control plane gets a config naming a live one, without a restart. The lowest
 * live Ready server deletes replaced (dead) and retired (stopped) nodes from Kubernetes, so their
 * etcd members stop counting, before any new server joins. A node replaced while it was down
 * starts nothing until its stale server state is gone (opt-in: it removes it itself), and a node
 * the plan retired drains (on a server), stops and disables its k3s service.
 *
 * Every change in the ledger pokes it; it re-decides from what is published, never from timing.
 * A record in the state dir makes restarts repeat nothing: same join decision, same bytes, no
 * second start, stop or clean-up.
 */
export class K3sApplier {
  private readonly init: ApplierInit
  private readonly abort = new AbortController()
  private plan: Plan | null = null
  private record: ApplyRecord | null = null
  private running: Promise<void> | undefined
  private dirty = false
  private probes: Probe[] = []
  private readonly startRetry: RetryTimer
  private readonly removalRetry: RetryTimer
  private lastProblem = ''
  private announcedEpoch = 0
  private clusterReadyEpoch = 0
  /** The latest plan epoch at which this node's own k3s answered Ready. */
  private readyEpoch = 0
  /**
   * k3s ran here in an earlier boot and this agent has not started it in this one (no consent
   * under /run): the next start is a start, not a restart, and a server's waits for bootStartHold.
   */
  private bootStartPending = false
  private lastHold = ''
  private retiredPlan: Plan | null = null
  private retiredWaiters = new Set<RetiredWaiter>()

  constructor (init: ApplierInit) {
    this.init = init
    this.startRetry = new RetryTimer(init.backoff, () => { this.poke() })
    this.removalRetry = new RetryTimer(init.backoff, () => { this.poke() })
  }

  /** Reads what earlier runs applied; call once before the first plan. */
  async load (): Promise<void> {
    this.record = await loadApplyRecord(this.init.state, this.init.reports.notice)
    const ran = this.ownRecord()?.ranService ?? null
    this.bootStartPending = this.startsK3s() && ran !== null && !(await hasConsent(this.init.root, ran))
  }

  /** The committed plan changed. */
  setPlan (plan: Plan): void {
    if (this.plan !== null && this.plan.epoch >= plan.epoch) return
    this.plan = plan
    // A probe of an older epoch must not report Ready for this one (a promoted worker's agent is not a server).
    this.stopProbes(plan.epoch)
    this.poke()
  }

  /** Something this node waits for may have changed (a status, the CA hash, facts): decide again. */
  poke (): void {
    if (this.abort.signal.aborted) return
    if (this.running !== undefined) { this.dirty = true; return }
    this.running = this.loop()
  }

  /** Stops probing and retrying; resolves once nothing of the applier runs. */
  async stop (): Promise<void> {
    const stopped = new BootstrapperError('BOOTSTRAP_STOPPED', 'the bootstrapper stopped')
    this.abort.abort(stopped)
    this.startRetry.clear()
    this.removalRetry.clear()
    for (const waiter of this.retiredWaiters) waiter.reject(stopped)
    this.retiredWaiters.clear()
    await this.running
    await Promise.all(this.probes.map(async probe => { await probe.done }))
  }

  /** Resolves once the current decision round has finished (tests, stop). */
  async settled (): Promise<void> {
    while (this.running !== undefined) await this.running
  }

  /** The plan that retired this node, once its k3s service is stopped (or never ran); else null. */
  get retired (): Plan | null {
    return this.retiredPlan
  }

  /**
   * Resolves with the plan that retired this node once its retirement is carried out: k3s drained
   * (on a server), stopped and disabled. What `leave` waits for before the agent exits.
   */
  async waitForRetired (options: { signal?: AbortSignal } = {}): Promise<Plan> {
    const { signal } = options
    signal?.throwIfAborted()
    if (this.retiredPlan !== null) return this.retiredPlan
    if (this.abort.signal.aborted) throw new BootstrapperError('BOOTSTRAP_STOPPED', 'the bootstrapper stopped')
    return await new Promise<Plan>((resolve, reject) => {
      const onAbort = (): void => {
        this.retiredWaiters.delete(waiter)
        reject(signal?.reason)
      }
      const waiter: RetiredWaiter = {
        resolve: (plan) => { signal?.removeEventListener('abort', onAbort); resolve(plan) },
        reject: (reason) => { signal?.removeEventListener('abort', onAbort); reject(reason) }
      }
      this.retiredWaiters.add(waiter)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  private async loop (): Promise<void> {
    try {
      do {
        this.dirty = false
        try {
          await this.reconcile()
        } catch (err) {
          if (this.abort.signal.aborted) return
          this.problem(err instanceof BootstrapperError ? err : new BootstrapperError('BOOTSTRAP_APPLY_FAILED', (err as Error).message, { cause: err }))
        }
      } while (this.dirty && !this.abort.signal.aborted)
    } finally {
      // In the same turn as the last check of `dirty`: a poke after it starts a new round.
      this.running = undefined
    }
  }

  private async reconcile (): Promise<void> {
    const plan = this.plan
    if (plan === null) return
    await this.checkClusterReady(plan)
    const { nodeId } = this.init
    const role = roleOf(plan, nodeId)
    if (role === null) {
      await this.retire(plan)
      return
    }
    if (wasReplaced(plan, nodeId) && !(await this.leaveStaleServer(plan))) return
    if (this.heldAtBoot(plan, role)) return
    const running = this.runningRecord(role)
    const applied = running === undefined ? await this.applyRole(plan, role) : await this.keepRunning(plan, role, running)
    if (applied) await this.removeGoneNodes(plan)
  }

  /**
   * True while the first start of this node's k3s in this boot must wait (start-gate.ts): the
   * plan it holds may be stale. Said in `status`, the page and, once per reason, the log.
   */
  private heldAtBoot (plan: Plan, role: Role): boolean {
    if (!this.bootStartPending || serviceOf(role) !== 'k3s' || this.ownRecord()?.ranService !== 'k3s') return false
    const { ledger, nodeId } = this.init
    const heard = ledger.heard ?? ((id: NodeId) => ledger.alive?.(id) ?? true)
    const hold = bootStartHold({ plan, nodeId, heard, statusOf: ledger.statusOf })
    if (hold === undefined) return false
    // Hearing a member is no ledger change, which is what pokes the applier: look again later.
    this.startRetry.schedule()
    this.phase('committed', hold, plan)
    if (hold !== this.lastHold) {
      this.lastHold = hold
      this.init.reports.notice(hold)
    }
    return true
  }

  /**
   * Writes the systemd drop-ins that make k3s' units wait for the agent's consent (option
   * apply.bootGate, default on); a daemon-reload makes a new one count in this boot already.
   */
  private async installBootGate (output: RenderedOutput): Promise<void> {
    if (this.init.apply.bootGate === false) return
    if (!(await installGate(this.init.root, this.abort.signal))) return
    const timeoutMs = this.commandTimeoutMs()
    const result = await runCommand([...DAEMON_RELOAD], { timeoutMs, signal: this.abort.signal, env: this.commandEnv(output) })
    if (result.code !== 0) {
      this.init.reports.notice(`${describeFailure([...DAEMON_RELOAD], result, timeoutMs)}: the start gate of k3s' units counts from the next boot or daemon-reload on`)
    }
  }

  /** The record of this node's k3s running in `role` (any epoch), if it is. */
  private runningRecord (role: Role): ApplyRecord | undefined {
    const record = this.ownRecord()
    if (record === null || record.role !== role || !record.started || record.retiredEpoch !== undefined) return undefined
    return record
  }

  private ownRecord (): ApplyRecord | null {
    return this.record !== null && this.record.nodeId === this.init.nodeId ? this.record : null
  }

  /**
   * This node's output for a role it does not run yet: its first start, a change of role (the
   * other service is stopped first), or a start that failed before. Returns true once started.
   */
  private async applyRole (plan: Plan, role: Role): Promise<boolean> {
    const kept = this.keptRecord(plan, role)
    const decision = kept === undefined ? await this.decideJoin(plan, role) : { join: kept.join, caHash: kept.caHash }
    if ('waitingFor' in decision) {
      this.phase('committed', decision.waitingFor, plan)
      return false
    }
    if (!this.clusterSettingsAgree(plan)) return false
    const secrets = this.openSecrets(plan, role)
    const output = this.render(plan, decision.join, decision.caHash, secrets)
    if (output === undefined) return false
    const files = await this.deliver(plan, output, secrets, decision.join)
    if (files === undefined) return false
    const previous = this.ownRecord()
    const record: ApplyRecord = {
      epoch: plan.epoch,
      nodeId: this.init.nodeId,
      role,
      join: decision.join,
      ...(decision.caHash === undefined ? {} : { caHash: decision.caHash }),
      filesHash: filesHash(output.files),
      started: false,
      ranService: previous?.ranService ?? null,
      onReadyRan: kept?.onReadyRan ?? false,
      ...(previous?.cleanedEpoch === undefined ? {} : { cleanedEpoch: previous.cleanedEpoch })
    }
    await this.save(record)
    const started = await this.startService(record, output)
    if (started === undefined) return false
    this.afterStart(plan, output, started, files)
    return true
  }

  /**
   * k3s already runs in the plan's role (this epoch or an earlier one): the same bytes need nothing
   * but a new Ready for this epoch. A join target that left the control plane is replaced in the
   * config without a restart (k3s reads it at its next start; a running k3s knows every server,
   * and restarting servers at once could cost etcd its quorum). Other changed bytes (a node-local
   * setting changed across a restart of the agent) restart k3s once. Returns true once running.
   */
  private async keepRunning (plan: Plan, role: Role, record: ApplyRecord): Promise<boolean> {
    const join = await this.currentJoin(plan, role, record.join)
    if (!this.clusterSettingsAgree(plan)) return false
    const secrets = this.openSecrets(plan, role)
    const output = this.render(plan, join, record.caHash, secrets)
    if (output === undefined) return false
    const hash = filesHash(output.files)
    const sameEpoch = record.epoch === plan.epoch
    const carried: ApplyRecord = { ...record, epoch: plan.epoch, join, onReadyRan: sameEpoch && record.onReadyRan }
    if (hash === record.filesHash && !this.bootStartPending) {
      if (!sameEpoch) await this.save(carried)
      this.afterStart(plan, output, carried, this.pathsOf(output))
      return true
    }
    const files = await this.deliver(plan, output, secrets, join)
    if (files === undefined) return false
    if (join !== record.join && !this.bootStartPending) {
      const retargeted: ApplyRecord = { ...carried, filesHash: hash }
      await this.save(retargeted)
      this.init.reports.notice(`config.yaml now names ${join.kind === 'join' ? join.server : 'no server'} to join through (the server it named left the control plane); k3s reads it at its next start, so it is not restarted`)
      this.afterStart(plan, output, retargeted, files)
      return true
    }
    const pending: ApplyRecord = { ...carried, filesHash: hash, started: false }
    await this.save(pending)
    const started = await this.startService(pending, output)
    if (started === undefined) return false
    this.afterStart(plan, output, started, files)
    return true
  }

  /**
   * The join target of a running node, or a live server of the plan if the one it named left. With
   * no other server to name (the successor of a single server that left), the old one stays: it
   * only matters at k3s' next start, and a server with etcd data ignores it then.
   */
  private async currentJoin (plan: Plan, role: Role, join: JoinDecision): Promise<JoinDecision> {
    if (join.kind === 'init' || this.joinTargetValid(plan, role, join)) return join
    const { nodeId, ledger } = this.init
    if (role === 'worker' && plan.vip !== undefined && await answersTcp(plan.vip, API_PORT, VIP_PROBE_TIMEOUT_MS, this.abort.signal)) {
      return { kind: 'join', server: plan.vip, viaVip: true }
    }
    const others = plan.controlPlanes.filter(id => id !== nodeId)
    const ready = others.filter(id => hasReached(ledger.statusOf(id), 'ready', plan.epoch))
    for (const id of [...ready, ...others]) {
      const server = ledger.factsOf(id)?.nodeIp
      if (server !== undefined) return { kind: 'join', server, viaVip: false }
    }
    return join
  }

  private joinTargetValid (plan: Plan, role: Role, join: Extract<JoinDecision, { kind: 'join' }>): boolean {
    if (join.viaVip) return role === 'worker' && plan.vip === join.server
    const { nodeId, ledger } = this.init
    return plan.controlPlanes.some(id => id !== nodeId && ledger.factsOf(id)?.nodeIp === join.server)
  }

  /** The record of an earlier run for this plan epoch and role, if it is this node's. */
  private keptRecord (plan: Plan, role: Role): ApplyRecord | undefined {
    const record = this.ownRecord()
    if (record === null || record.epoch !== plan.epoch || record.role !== role || record.retiredEpoch !== undefined) return undefined
    return record
  }

  /**
   * A dry run, or an installer callback with no way to tell readiness: each earlier step is assumed
   * to have succeeded (joiners join the init node with the short token), so a fleet renders at once.
   */
  private assumesEarlierSteps (): boolean {
    return this.init.dryRun || (this.init.apply.onOutput !== undefined && this.init.apply.readyCommand === undefined)
  }

  /** Output that no real kubelet runs: a dry run, or a stand-in k3s (apply.acceptLocalNodeIp). */
  private localOnly (): boolean {
    return this.init.dryRun || this.init.apply.acceptLocalNodeIp === true
  }

  private startsK3s (): boolean {
    return !this.init.dryRun && this.init.apply.onOutput === undefined
  }

  /** How this node joins now, or what it waits for. A dry run assumes every earlier step succeeded. */
  private async decideJoin (plan: Plan, role: Role): Promise<{ join: JoinDecision, caHash?: string } | { waitingFor: string }> {
    const { nodeId, ledger } = this.init
    const nodeIpOf = (id: NodeId): string | undefined => ledger.factsOf(id)?.nodeIp
    if (this.assumesEarlierSteps()) {
      if (initialiserOf(plan) === nodeId) return { join: { kind: 'init' } }
      // The first node of the join graph: the initialiser, else the first server before this one.
      // Never a server after it, which may name this one: two servers joining each other (J1).
      const target = joinTargets(plan, nodeId)[0]
      if (target === undefined) return { waitingFor: 'a server before this one in the join order, or an initialiser: the plan names neither (every node is assumed Ready in this mode)' }
      const server = nodeIpOf(target)
      if (server === undefined) return { waitingFor: `the control plane ${short(target)} to publish its node-ip` }
      return { join: { kind: 'join', server, viaVip: false } }
    }
    const readyServers = new Set(plan.controlPlanes.filter(id => hasReached(ledger.statusOf(id), 'ready', plan.epoch)))
    const caHash = this.publishedCaHash(plan)
    const input = {
      plan,
      nodeId,
      readyServers,
      nodeIpOf,
      caHashKnown: caHash !== undefined,
      vipAnswers: false,
      awaitingRemoval: role === 'control-plane' ? serverRemovalsPending(plan, this.removalView()) : [],
      retiringServers: retiringServers(plan, this.removalView())
    }
    let step = nextJoinStep(input)
    if (step.kind === 'join' && role === 'worker' && plan.vip !== undefined &&
        await answersTcp(plan.vip, API_PORT, VIP_PROBE_TIMEOUT_MS, this.abort.signal)) {
      step = nextJoinStep({ ...input, vipAnswers: true })
    }
    if (step.kind === 'wait') return { waitingFor: step.waitingFor }
    return step.kind === 'init' || caHash === undefined ? { join: step } : { join: step, caHash }
  }

  private publishedCaHash (plan: Plan): string | undefined {
    // The initialiser's CA, or (after it was replaced before the cluster formed) its successor's.
    return hashEntry(this.init.ledger.lookup(`node/${clusterOriginOf(plan)}/${CA_HASH_ENTRY_NAME}`))
  }

  /**
   * The init node's cluster-wide settings are the cluster's: a node whose critical keys, VIP or
   * kube-vip settings differ writes nothing (k3s would refuse the join much later, and less clearly).
   */
  private clusterSettingsAgree (plan: Plan): boolean {
    const origin = clusterOriginOf(plan)
    if (origin === this.init.nodeId) return true
    const theirs = hashEntry(this.init.ledger.lookup(`node/${origin}/${CLUSTER_HASH_ENTRY_NAME}`))
    if (theirs === undefined) {
      this.phase('committed', `the init node ${short(origin)} to publish its cluster-wide k3s settings`, plan)
      return false
    }
    if (theirs === this.init.blocks.clusterHash) return true
    this.problem(new BootstrapperError('BOOTSTRAP_CONFIG_MISMATCH',
      `this node's cluster-wide k3s settings (the VIP, kube-vip image or interface, or a critical k3s key such as cluster-cidr, disable or flannel-backend) differ from the init node ${short(origin)}'s: ` +
      'nothing is written; give every node the same cluster-wide settings and restart this one'))
    return false
  }

  private openSecrets (plan: Plan, role: Role): NodeSecrets {
    try {
      const agentToken = openAgentToken(plan.secrets, this.init.sealingKey)
      if (role !== 'control-plane') return { agentToken }
      return { agentToken, serverToken: openServerToken(plan.secrets, this.init.nodeKey) }
    } catch (err) {
      throw new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `cannot open the plan's k3s tokens: ${(err as Error).message}`, { cause: err })
    }
  }

  private render (plan: Plan, join: JoinDecision, caHash: string | undefined, secrets: NodeSecrets): RenderedOutput | undefined {
    const { nodeId, ledger, blocks, node } = this.init
    const facts = new Map<NodeId, NodeFacts>()
    // Retired nodes too: a server handing its role over may be the join target.
    for (const id of new Set([...plan.controlPlanes, ...plan.workers, ...(plan.retired ?? []), nodeId])) {
      const known = ledger.factsOf(id)
      if (known !== undefined) facts.set(id, known)
    }
    // This node's bytes depend on its own facts and its join target only; another node's facts
    // serve cross-checks (the VIP is nobody's node-ip). A node whose facts have not reached this one
    // (it died right after writing them, or they are still on their way) is rendered around; a
    // join target without a known node-ip was already waited for.
    const goneNodes = new Set([...plan.controlPlanes, ...plan.workers].filter(id => id !== nodeId && !facts.has(id)))
    const nodeIp = facts.get(nodeId)?.nodeIp ?? node.nodeIp
    if (nodeIp === undefined) {
      this.problem(new BootstrapperError('BOOTSTRAP_BAD_OPTION', 'this node has no node-ip: set node.ip (--node-ip) or node.interface (--interface) to an interface with an IPv4 address'))
      return undefined
    }
    const role = roleOf(plan, nodeId) ?? 'worker'
    try {
      return renderNode({
        plan,
        nodeId,
        facts,
        secrets,
        ...(caHash === undefined ? {} : { caHash }),
        ...(join.kind === 'join' ? { joinAddress: join.server, vipAnswers: join.viaVip } : {}),
        network: hostNetwork({ nodeIp, localOnly: this.localOnly(), ...optional('interface', node.interface), ...optional('subnet', node.subnet) }),
        localOnly: this.localOnly(),
        ...(blocks.kubeVip === undefined ? {} : { kubeVip: blocks.kubeVip }),
        ...(goneNodes.size === 0 ? {} : { goneNodes }),
        clusterK3s: blocks.clusterK3s,
        userK3s: blocks.nodeK3s,
        kairosK3sArgs: role === 'control-plane' ? blocks.kairosArgs.server : blocks.kairosArgs.agent
      })
    } catch (err) {
      if (!(err instanceof RenderError)) throw err
      this.problem(new BootstrapperError('BOOTSTRAP_RENDER_FAILED', `nothing written: ${err.message}`, { cause: err }))
      return undefined
    }
  }

  /** Writes the files under the root, or hands them to the installer's callback. */
  private async deliver (plan: Plan, output: RenderedOutput, secrets: NodeSecrets, join: JoinDecision): Promise<string[] | undefined> {
    const { onOutput } = this.init.apply
    if (onOutput === undefined) {
      const written = await writeOutputFiles(this.init.root, output.files, this.abort.signal)
      return written.paths
    }
    const handed: NodeOutput = {
      plan,
      nodeId: this.init.nodeId,
      role: output.role,
      init: output.init,
      service: output.service,
      nodeName: output.nodeName,
      files: output.files,
      secrets,
      join,
      notes: output.notes
    }
    try {
      await onOutput(handed, { signal: this.abort.signal })
    } catch (err) {
      if (this.abort.signal.aborted) throw err
      this.problem(new BootstrapperError('BOOTSTRAP_HOOK_FAILED', `the onOutput callback failed: ${(err as Error).message}; retrying`, { cause: err }))
      this.startRetry.schedule()
      return undefined
    }
    return output.files.map(file => file.path)
  }

  /**
   * Runs the start step for the record's files: a restart when this service already ran with other
   * files; after a change of role, the other service is stopped and disabled first (a promoted
   * worker's agent must not run beside its server). Each step is saved before the next, so a
   * restart of the agent repeats none that succeeded. Returns the started record, or undefined
   * after a failure (reported, and retried with back-off).
   */
  private async startService (record: ApplyRecord, output: RenderedOutput): Promise<ApplyRecord | undefined> {
    let current = record
    if (this.startsK3s()) {
      if (current.ranService !== null && current.ranService !== output.service) {
        const stopped = await this.stopService(current.ranService, `this node is a ${output.role} now and runs ${output.service}`, this.commandEnv(output))
        if (!stopped) return undefined
        current = { ...current, ranService: null }
        await this.save(current)
      }
      // After a reboot the unit is stopped: a start, not a restart, whatever changed.
      if (!(await this.startK3s(output, current.ranService === output.service && !this.bootStartPending))) return undefined
    }
    current = { ...current, started: true, ranService: this.startsK3s() ? output.service : current.ranService }
    await this.save(current)
    this.startRetry.reset()
    return current
  }

  /**
   * Runs the start step (or the restart step when k3s already ran with other files), after the
   * boot gate is in place and this agent consented to the unit for this boot (start-gate.ts).
   */
  private async startK3s (output: RenderedOutput, restart: boolean): Promise<boolean> {
    const { apply } = this.init
    await this.installBootGate(output)
    await grantConsent(this.init.root, output.service, this.plan?.epoch ?? 0)
    const template = restart ? (apply.restartCommand ?? DEFAULT_RESTART) : (apply.startCommand ?? DEFAULT_START)
    const argv = expandCommand(template, output.service)
    const timeoutMs = this.commandTimeoutMs()
    this.phase('committed', `\`${argv.join(' ')}\` to start ${output.service}`)
    const result = await runCommand(argv, { timeoutMs, signal: this.abort.signal, env: this.commandEnv(output) })
    if (result.code === 0) {
      this.bootStartPending = false
      this.lastHold = ''
      return true
    }
    this.problem(new BootstrapperError('BOOTSTRAP_START_FAILED',
      `${describeFailure(argv, result, timeoutMs)}; retrying in ${Math.round(this.startRetry.waitMs / 1000)} s (check \`journalctl -u ${output.service}\`)`))
    this.startRetry.schedule()
    return false
  }

  /**
   * Runs the stop step for `service`; a failure is reported and retried with back-off. The consent
   * goes first, so that nothing starts the unit again behind the agent's back (start-gate.ts).
   */
  private async stopService (service: K3sService, why: string, env: Record<string, string>): Promise<boolean> {
    await revokeConsent(this.init.root, service)
    const argv = expandCommand(this.init.apply.stopCommand ?? DEFAULT_STOP, service)
    const timeoutMs = this.commandTimeoutMs()
    this.phase('committed', `\`${argv.join(' ')}\` to stop ${service}: ${why}`)
    const result = await runCommand(argv, { timeoutMs, signal: this.abort.signal, env })
    if (result.code === 0) return true
    this.problem(new BootstrapperError('BOOTSTRAP_START_FAILED',
      `${describeFailure(argv, result, timeoutMs)} (${why}); retrying in ${Math.round(this.startRetry.waitMs / 1000)} s (check \`journalctl -u ${service}\`)`))
    this.startRetry.schedule()
    return false
  }

  /** Written and started: say so once per epoch, then probe until Ready. */
  private afterStart (plan: Plan, output: RenderedOutput, record: ApplyRecord, files: readonly string[]): void {
    this.record = record
    this.lastProblem = ''
    if (this.announcedEpoch < plan.epoch) {
      this.announcedEpoch = plan.epoch
      const probe = this.probeCommand(output)
      this.phase('applied', probe === undefined
        ? `nothing: this node's output for plan epoch ${plan.epoch} is ${this.startsK3s() ? 'written and started' : 'written'}`
        : `k3s on this node to answer \`${probe.join(' ')}\``, plan)
      this.init.reports.applied(plan, files, output)
      if (probe !== undefined) this.startProbe(plan, output, probe)
    }
  }

  private pathsOf (output: RenderedOutput): string[] {
    return output.files.map(file => this.init.apply.onOutput === undefined ? pathUnder(this.init.root, file) : file.path)
  }

  private probeCommand (output: RenderedOutput): string[] | undefined {
    const { apply } = this.init
    if (this.init.dryRun || apply.readyCommand === false) return undefined
    if (apply.readyCommand !== undefined) return expandCommand(apply.readyCommand, output.service)
    if (apply.onOutput !== undefined) return undefined
    return [...(output.role === 'control-plane' ? DEFAULT_SERVER_PROBE : DEFAULT_WORKER_PROBE)]
  }

  private startProbe (plan: Plan, output: RenderedOutput, argv: string[]): void {
    this.stopProbes(plan.epoch)
    const controller = new AbortController()
    const signal = AbortSignal.any([this.abort.signal, controller.signal])
    const done = this.probeUntilReady(plan, output, argv, signal).catch((err: unknown) => {
      if (!signal.aborted) this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `readiness probe: ${(err as Error).message}`, { cause: err }))
    })
    const probe: Probe = { epoch: plan.epoch, controller, done }
    this.probes.push(probe)
    void probe.done.finally(() => { this.probes = this.probes.filter(other => other !== probe) })
  }

  /** Stops the probes of epochs before `epoch` (all of them with Infinity). */
  private stopProbes (epoch: number): void {
    for (const probe of this.probes) if (probe.epoch < epoch) probe.controller.abort()
  }

  /** Probes with back-off until the local k3s is Ready, then publishes it (and the CA hash on the init server). */
  private async probeUntilReady (plan: Plan, output: RenderedOutput, argv: string[], signal: AbortSignal): Promise<void> {
    const since = new Date().toISOString()
    const expectOk = this.init.apply.readyCommand === undefined && output.role === 'control-plane'
    let backoffMs = this.init.backoff.initialMs
    let caHash: string | undefined
    while (!signal.aborted) {
      const result = await runCommand(argv, { timeoutMs: PROBE_ATTEMPT_TIMEOUT_MS, signal, env: this.commandEnv(output) }).catch(() => undefined)
      if (result === undefined) return
      const ready = result.code === 0 && (!expectOk || result.stdout.trim() === 'ok')
      let caProblem = 'k3s answers but has not written server/token (with the CA hash) yet'
      if (ready && output.init) {
        caHash = await readCaHash(this.init.root, this.dataDir()).catch((err: unknown) => { caProblem = (err as Error).message; return undefined })
      }
      if (ready && (!output.init || caHash !== undefined)) break
      const why = !ready ? describeFailure(argv, result, PROBE_ATTEMPT_TIMEOUT_MS) : caProblem
      this.phase('applied', `k3s on this node to be Ready (since ${since}; last probe: ${why})`, plan)
      await delay(backoffMs, signal)
      backoffMs = Math.min(backoffMs * 2, this.init.backoff.maxMs)
    }
    if (signal.aborted || this.plan?.epoch !== plan.epoch) return
    const { ledger, nodeId } = this.init
    // Joiners pin the CA in their token: it is published before Ready, so both are there together.
    if (caHash !== undefined) ledger.publish(CA_HASH_ENTRY_NAME, new TextEncoder().encode(caHash))
    // Once, for good: this server runs, so it may delete gone nodes (node-removal.ts).
    if (output.role === 'control-plane' && ledger.lookup(`node/${nodeId}/${SERVER_READY_ENTRY_NAME}`) === undefined) {
      ledger.publish(SERVER_READY_ENTRY_NAME, new TextEncoder().encode(String(plan.epoch)))
    }
    this.readyEpoch = Math.max(this.readyEpoch, plan.epoch)
    await this.init.reports.nodeReady(plan, output).catch((err: unknown) => {
      this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `after Ready: ${(err as Error).message}`, { cause: err }))
    })
    this.phase('ready', `nothing: k3s is Ready on this node (${output.role}, plan epoch ${plan.epoch})`, plan)
    this.poke()
  }

  /** Once every node of the plan is Ready: the `ready` event, and the on-ready command once per epoch. */
  private async checkClusterReady (plan: Plan): Promise<void> {
    if (this.clusterReadyEpoch >= plan.epoch) return
    const everyone = [...plan.controlPlanes, ...plan.workers]
    if (!everyone.every(id => hasReached(this.init.ledger.statusOf(id), 'ready', plan.epoch))) return
    this.clusterReadyEpoch = plan.epoch
    this.init.reports.clusterReady(plan)
    const command = this.init.apply.onReadyCommand
    const record = this.record
    if (command === undefined || record === null || record.epoch !== plan.epoch || record.onReadyRan) return
    const timeoutMs = this.commandTimeoutMs()
    const env = { P2PB_ROOT: this.init.root, P2PB_NODE_ID: this.init.nodeId, P2PB_EPOCH: String(plan.epoch), P2PB_CLUSTER_ID: plan.clusterId }
    const result = await runCommand(command, { timeoutMs, signal: this.abort.signal, env })
    if (result.code !== 0) {
      this.problem(new BootstrapperError('BOOTSTRAP_HOOK_FAILED', `the on-ready command ${describeFailure(command, result, timeoutMs)}; it is not run again for this epoch`))
    }
    this.record = { ...record, onReadyRan: true }
    await this.save(this.record)
  }

  // ---- gone nodes: replaced servers and retired nodes leave Kubernetes ----

  private removalView (): RemovalView {
    const { ledger, nodeId } = this.init
    return { lookup: ledger.lookup, alive: id => id === nodeId || (ledger.alive?.(id) ?? true) }
  }

  /**
   * On the one server chosen for it (the lowest live server that has been Ready; node-removal.ts),
   * once its own k3s is Ready for this epoch: deletes each gone node from Kubernetes, which makes
   * k3s drop its etcd member, and publishes that it did; a new server's join waits for it. Only
   * committed plans get here, so nothing is deleted before the epoch that replaced it is committed.
   */
  private async removeGoneNodes (plan: Plan): Promise<void> {
    if (this.assumesEarlierSteps() || roleOf(plan, this.init.nodeId) !== 'control-plane' || this.readyEpoch < plan.epoch) return
    const view = this.removalView()
    const pending = pendingRemovals(plan, view)
    if (pending.length === 0 || chooseRemover(plan, view) !== this.init.nodeId) return
    for (const gone of pending) {
      const retry = `retrying in ${Math.round(this.removalRetry.waitMs / 1000)} s`
      const ranServer = plan.replaced?.includes(gone) === true || this.init.ledger.lookup(`node/${gone}/${SERVER_READY_ENTRY_NAME}`) !== undefined
      if (!(await this.deleteNode(gone, `${short(gone)} still counts as an etcd member and no new server joins before it is gone; ${retry}`, ranServer))) {
        this.removalRetry.schedule()
        return
      }
    }
    this.removalRetry.reset()
  }

  /**
   * Deletes `gone` from Kubernetes and, for a former server (`checkMember`), makes sure its etcd
   * member is gone too (etcd-members.ts); only then publishes that it did, which is what a new
   * server's join waits for. A failure is reported with `consequence`.
   */
  private async deleteNode (gone: NodeId, consequence: string, checkMember = false): Promise<boolean> {
    const facts = this.init.ledger.factsOf(gone)
    if (facts === undefined) {
      this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `cannot delete ${short(gone)} from Kubernetes yet: its facts (host name, hence its k3s node name) have not reached this node; ${consequence}`))
      return false
    }
    const name = nodeNameFor(gone, facts.hostname)
    // --ignore-not-found: a deletion that succeeded before a crash, or by another server, is done.
    const argv = [...KUBECTL, 'delete', 'node', name, '--ignore-not-found']
    const timeoutMs = this.commandTimeoutMs()
    const result = await runCommand(argv, { timeoutMs, signal: this.abort.signal, env: this.baseEnv() })
    if (result.code !== 0) {
      this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `${describeFailure(argv, result, timeoutMs)}: ${consequence}`))
      return false
    }
    if (checkMember && !(await this.removeEtcdMember(gone, name, facts.nodeIp, consequence))) return false
    this.init.ledger.publish(removedEntryName(gone), new TextEncoder().encode(name))
    this.init.reports.notice(`deleted node ${name} (${short(gone)}, gone from the control plane) from Kubernetes${checkMember && this.init.apply.etcdctl !== false ? ', and etcd\'s member list no longer holds it' : ': k3s drops its etcd member'}`)
    return true
  }

  /**
   * True once etcd's member list holds no member of the gone server: one still there (no Node
   * named it, or k3s has not dropped it yet) is removed by its id, then the list is read again.
   */
  private async removeEtcdMember (gone: NodeId, nodeName: string, nodeIp: string | undefined, consequence: string): Promise<boolean> {
    const etcdctl = this.init.apply.etcdctl ?? ['etcdctl']
    if (etcdctl === false) return true
    const node = { nodeName, ...optional('nodeIp', nodeIp) }
    const listed = await this.etcdMembers(etcdctl, consequence)
    if (listed === undefined) return false
    for (const member of membersOfNode(listed, node)) {
      const argv = etcdctlArgv(etcdctl, this.init.root, this.dataDir(), ['member', 'remove', member.id])
      const result = await this.runEtcdctl(argv)
      // A member k3s dropped meanwhile is "not found": the list read next is what counts.
      if (result.code !== 0 && !/member not found/i.test(result.stderr)) {
        this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `${describeFailure(argv, result, this.commandTimeoutMs())} (etcd member ${member.id} ${member.name} of ${nodeName}): ${consequence}`))
        return false
      }
      this.init.reports.notice(`removed etcd member ${member.id} (${member.name === '' ? 'never started' : member.name}) of ${nodeName} (${short(gone)}) by its id`)
    }
    const after = await this.etcdMembers(etcdctl, consequence)
    if (after === undefined) return false
    const left = membersOfNode(after, node)
    if (left.length === 0) return true
    this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `etcd still lists member ${left.map(member => `${member.id} (${member.name})`).join(', ')} of ${nodeName}: ${consequence}`))
    return false
  }

  private async etcdMembers (etcdctl: CommandLine, consequence: string): Promise<EtcdMember[] | undefined> {
    const argv = etcdctlArgv(etcdctl, this.init.root, this.dataDir(), ['member', 'list', '-w', 'json'])
    const result = await this.runEtcdctl(argv)
    if (result.code !== 0) {
      const missing = result.spawnError?.startsWith('ENOENT') === true ? ': is etcdctl installed? k3s ships none (Debian: apt-get install etcd-client), or set apply.etcdctl' : ''
      this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `${describeFailure(argv, result, this.commandTimeoutMs())}${missing}: ${consequence}`))
      return undefined
    }
    try {
      return parseMemberList(result.stdout)
    } catch (err) {
      this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `${(err as Error).message}: ${consequence}`, { cause: err }))
      return undefined
    }
  }

  private async runEtcdctl (argv: readonly string[]): Promise<CommandResult> {
    return await runCommand(argv, { timeoutMs: this.commandTimeoutMs(), signal: this.abort.signal, env: this.baseEnv() })
  }

  // ---- a server replaced while it was down comes back as a worker ----

  /**
   * True when this node, replaced as a control plane, may go on as a worker: it holds no server
   * state (never ran one, or it was cleaned), or the opt-in let it stop k3s and remove that state
   * now. Otherwise it reports the problem and the fix, and nothing is written or started.
   */
  private async leaveStaleServer (plan: Plan): Promise<boolean> {
    if (this.init.dryRun) return true
    const { root, apply } = this.init
    // Whatever happens next, this node's server never starts again (S1: a replaced init node would
    // run cluster-init): systemd skips k3s.service from now on, also after a reboot.
    if (this.startsK3s()) await revokeConsent(root, 'k3s')
    const record = this.ownRecord()
    const ranServer = record?.ranService === 'k3s'
    if (!ranServer && !(await holdsServerData(root, this.dataDir()))) return true
    if (apply.cleanReplacedServer !== true) {
      this.problem(staleServerError(this.dataDir()))
      return false
    }
    if (this.startsK3s() && !(await this.stopService('k3s', 'this node was replaced as a control plane and comes back as a worker', this.baseEnv()))) return false
    const removed = await removeServerState(root, this.dataDir())
    if (record !== null) await this.save({ ...record, started: false, ranService: null, cleanedEpoch: plan.epoch })
    this.startRetry.reset()
    this.init.reports.notice(`this node was replaced as a control plane while it was down: k3s is stopped and its stale server state removed (${removed.join(', ')}); it joins as a worker (option apply.cleanReplacedServer)`)
    return true
  }

  // ---- a node the plan retired (it left) ----

  /**
   * Carries out this node's retirement once: a server first hands over (handOverServer), then the
   * node's k3s service is stopped and disabled, and it publishes that it stopped (a server then
   * deletes a worker that left from Kubernetes). Nothing else is removed.
   */
  private async retire (plan: Plan): Promise<void> {
    this.stopProbes(Infinity)
    let record = this.ownRecord()
    if (record?.retiredEpoch === undefined) {
      const running = record?.ranService ?? null
      if (running !== null && this.startsK3s()) {
        if (running === 'k3s' && !(await this.handOverServer(plan))) return
        if (!(await this.stopService(running, 'this node left the cluster', this.baseEnv()))) return
      }
      if (record !== null) {
        record = { ...record, started: false, ranService: null, retiredEpoch: plan.epoch }
        await this.save(record)
      }
      this.startRetry.reset()
    }
    const { ledger, nodeId } = this.init
    if (ledger.lookup(`node/${nodeId}/${STOPPED_ENTRY_NAME}`) === undefined) {
      ledger.publish(STOPPED_ENTRY_NAME, new TextEncoder().encode(String(plan.epoch)))
    }
    if (this.retiredPlan !== null) return
    this.retiredPlan = plan
    this.lastProblem = ''
    this.phase('applied', `nothing: this node left the cluster (plan epoch ${plan.epoch} retired it) and its k3s service is stopped`, plan)
    this.init.reports.retired?.(plan)
    for (const waiter of this.retiredWaiters) waiter.resolve(plan)
    this.retiredWaiters.clear()
  }

  /**
   * A leaving server stays an etcd member, and a server to join through, until every live control
   * plane of the plan that retired it is Ready (its successor may have nobody else to join: a single
   * server that leaves). Then it drains itself while its API answers (a failure is reported, not
   * fatal) and deletes its own Node, so k3s drops its etcd member while every other member is up:
   * stopped first, a member that still counts could cost a two-member etcd its quorum. A failed
   * deletion is reported; a Ready server deletes it once it said it stopped. False while it waits.
   */
  private async handOverServer (plan: Plan): Promise<boolean> {
    const { ledger, nodeId } = this.init
    const view = this.removalView()
    const waiting = plan.controlPlanes.filter(id => view.alive(id) && !hasReached(ledger.statusOf(id), 'ready', plan.epoch))
    if (waiting.length > 0) {
      this.phase('committed', `the control planes of epoch ${plan.epoch} (${waiting.map(short).join(', ')}) to be Ready: this server left, and stays until they run`, plan)
      return false
    }
    await this.drainSelf(plan)
    if (ledger.lookup(`node/${nodeId}/${removedEntryName(nodeId)}`) === undefined) {
      await this.deleteNode(nodeId, 'this server stops anyway, as it left the cluster; a Ready server deletes it once it stopped')
    }
    return true
  }

  private async drainSelf (plan: Plan): Promise<void> {
    const name = nodeNameFor(this.init.nodeId, this.init.ledger.factsOf(this.init.nodeId)?.hostname)
    const argv = [...KUBECTL, 'drain', name, '--ignore-daemonsets', '--delete-emptydir-data']
    const timeoutMs = this.commandTimeoutMs()
    this.phase('committed', `\`${argv.join(' ')}\` to move this server's pods away before it stops (plan epoch ${plan.epoch} retired it)`, plan)
    const result = await runCommand(argv, { timeoutMs, signal: this.abort.signal, env: this.baseEnv() })
    if (result.code === 0) return
    this.init.reports.error(new BootstrapperError('BOOTSTRAP_APPLY_FAILED',
      `${describeFailure(argv, result, timeoutMs)}: this server's pods were not all moved away; it stops anyway, as it left the cluster`))
  }

  // ---- plumbing ----

  /** Reports a phase about `plan` (default: the latest plan). */
  private phase (phase: AgentPhase, waitingFor: string, plan: Plan | null = this.plan): void {
    this.init.reports.phase(phase, waitingFor, plan?.epoch ?? 0)
  }

  private baseEnv (): Record<string, string> {
    return { P2PB_ROOT: this.init.root, P2PB_NODE_ID: this.init.nodeId }
  }

  private commandEnv (output: RenderedOutput): Record<string, string> {
    return {
      ...this.baseEnv(),
      P2PB_ROLE: output.role,
      P2PB_SERVICE: output.service,
      P2PB_NODE_NAME: output.nodeName
    }
  }

  private commandTimeoutMs (): number {
    return this.init.apply.commandTimeoutMs ?? COMMAND_TIMEOUT_MS_DEFAULT
  }

  private dataDir (): string {
    const value = this.init.blocks.nodeK3s['data-dir']
    return typeof value === 'string' ? value : DATA_DIR_DEFAULT
  }

  private async save (record: ApplyRecord): Promise<void> {
    this.record = record
    await saveApplyRecord(this.init.state, record)
  }

  /**
   * Reports a problem once (the same problem on every poke would flood the log). Before this
   * node's output is out, the problem is also what it waits for: a fix.
   */
  private problem (error: BootstrapperError): void {
    if (this.record?.started !== true || this.record.epoch !== this.plan?.epoch) {
      this.phase('committed', `a fix: ${error.message}`)
    }
    if (error.message === this.lastProblem) return
    this.lastProblem = error.message
    this.init.reports.error(error)
  }
}

function hashEntry (bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined || bytes.byteLength !== 64) return undefined
  const text = new TextDecoder().decode(bytes)
  return HASH_PATTERN.test(text) ? text : undefined
}

function optional<K extends string> (key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>)
}

async function delay (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms)
    function done (): void {
      clearTimeout(timer)
      signal.removeEventListener('abort', done)
      resolve()
    }
    signal.addEventListener('abort', done, { once: true })
  })
}

function short (nodeId: string): string {
  return nodeId.length <= 12 ? nodeId : `…${nodeId.slice(-8)}`
}
