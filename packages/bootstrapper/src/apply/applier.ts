import { roleOf, wasReplaced } from '@p2p-bootstrap/core'
import type { NodeId, Plan, Role } from '@p2p-bootstrap/core'
import type { RenderedOutput } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { hasReached } from '../published-status.js'
import type { AgentPhase } from '../published-status.js'
import { baseEnv, commandEnv, commandTimeoutMs, startsK3s } from './apply-context.js'
import type { ApplierInit, ApplyContext } from './apply-context.js'
import { loadApplyRecord, saveApplyRecord, serviceOf } from './apply-record.js'
import type { ApplyRecord } from './apply-record.js'
import { GoneNodes } from './gone-nodes.js'
import { handOverServer } from './hand-over.js'
import { clusterSettingsAgree, currentJoin, decideJoin } from './join-decision.js'
import { deliverOutput, openSecrets, pathsOf, renderOutput } from './node-output.js'
import { STOPPED_ENTRY_NAME } from './node-removal.js'
import { filesHash } from './output-files.js'
import { ReadinessProbes } from './readiness-probe.js'
import { RetryTimer } from './retry-timer.js'
import { describeFailure, runCommand } from './run-command.js'
import { ServiceSteps } from './service-steps.js'
import { StaleServers } from './stale-server.js'
import { bootStartHold, hasConsent } from './start-gate.js'

/*
 * The k3s lifecycle of this node, one concern per module:
 *   apply-context.ts    what every step shares (inputs, reports, command environment)
 *   join-decision.ts    how this node joins (join-sequence.ts on the core's join graph)
 *   node-output.ts      tokens opened, files rendered, written or handed to an installer
 *   start-gate.ts       k3s starts only with this agent's consent (systemd drop-in, boot hold)
 *   service-steps.ts    start, restart and stop of k3s' units
 *   readiness-probe.ts  probes until Ready, then Ready (and the CA hash) published
 *   gone-nodes.ts       replaced and retired nodes leave Kubernetes and etcd (etcd-members.ts)
 *   hand-over.ts        a server that left stays until its successors run, then drains
 *   stale-server.ts     a server with stale k3s state (replaced, or of an abandoned cluster) is held
 *   apply-record.ts     what was done, so a restart repeats nothing
 * This file holds the state and the order of the steps.
 */

export type { Backoff } from './retry-timer.js'
export { CA_HASH_ENTRY_NAME, CLUSTER_HASH_ENTRY_NAME } from './apply-context.js'
export type { ApplierInit, ApplierLedger, ApplierReports } from './apply-context.js'

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
  private readonly startRetry: RetryTimer
  private readonly removalRetry: RetryTimer
  private readonly ctx: ApplyContext
  private readonly service: ServiceSteps
  private readonly probes: ReadinessProbes
  private readonly goneNodes: GoneNodes
  private readonly staleServers: StaleServers
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
    const removalRetry = new RetryTimer(init.backoff, () => { this.poke() })
    this.removalRetry = removalRetry
    this.ctx = {
      init,
      signal: this.abort.signal,
      plan: () => this.plan,
      phase: (phase, waitingFor, plan) => { this.phase(phase, waitingFor, plan) },
      problem: (error) => { this.problem(error) }
    }
    this.service = new ServiceSteps(this.ctx, this.startRetry)
    this.probes = new ReadinessProbes(this.ctx, async (plan, output) => { await this.nodeIsReady(plan, output) })
    this.goneNodes = new GoneNodes(this.ctx, removalRetry)
    this.staleServers = new StaleServers(this.ctx, this.service, {
      get: () => this.ownRecord(),
      save: async (record) => { await this.save(record) },
      cleaned: () => { this.startRetry.reset() }
    })
  }

  /** Reads what earlier runs applied; call once before the first plan. */
  async load (): Promise<void> {
    this.record = await loadApplyRecord(this.init.state, this.init.reports.notice)
    const ran = this.ownRecord()?.ranService ?? null
    this.bootStartPending = startsK3s(this.init) && ran !== null && !(await hasConsent(this.init.root, ran))
  }

  /** The committed plan changed. */
  setPlan (plan: Plan): void {
    if (this.plan !== null && this.plan.epoch >= plan.epoch) return
    this.plan = plan
    // A probe of an older epoch must not report Ready for this one (a promoted worker's agent is not a server).
    this.probes.stopBefore(plan.epoch)
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
    await this.probes.settled()
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
    if (wasReplaced(plan, nodeId) && !(await this.staleServers.leaveReplaced(plan))) return
    if (role === 'control-plane' && this.staleServers.joinedAbandoned(plan) && !(await this.staleServers.leaveAbandoned(plan))) return
    if (this.heldAtBoot(plan, role)) return
    const running = this.runningRecord(role)
    const applied = running === undefined ? await this.applyRole(plan, role) : await this.keepRunning(plan, role, running)
    if (applied) await this.goneNodes.removeGone(plan, this.readyEpoch)
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
    const decision = kept === undefined ? await decideJoin(this.ctx, plan, role) : { join: kept.join, caHash: kept.caHash }
    if ('waitingFor' in decision) {
      this.phase('committed', decision.waitingFor, plan)
      return false
    }
    if (!clusterSettingsAgree(this.ctx, plan)) return false
    const secrets = openSecrets(this.init, plan, role)
    const output = renderOutput(this.ctx, plan, decision.join, decision.caHash, secrets)
    if (output === undefined) return false
    const files = await deliverOutput(this.ctx, plan, output, secrets, decision.join, () => { this.startRetry.schedule() })
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
    const join = await currentJoin(this.ctx, plan, role, record.join)
    if (!clusterSettingsAgree(this.ctx, plan)) return false
    const secrets = openSecrets(this.init, plan, role)
    const output = renderOutput(this.ctx, plan, join, record.caHash, secrets)
    if (output === undefined) return false
    const hash = filesHash(output.files)
    const sameEpoch = record.epoch === plan.epoch
    const carried: ApplyRecord = { ...record, epoch: plan.epoch, join, onReadyRan: sameEpoch && record.onReadyRan }
    if (hash === record.filesHash && !this.bootStartPending) {
      if (!sameEpoch) await this.save(carried)
      this.afterStart(plan, output, carried, pathsOf(this.init, output))
      return true
    }
    const files = await deliverOutput(this.ctx, plan, output, secrets, join, () => { this.startRetry.schedule() })
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

  /** The record of an earlier run for this plan epoch and role, if it is this node's. */
  private keptRecord (plan: Plan, role: Role): ApplyRecord | undefined {
    const record = this.ownRecord()
    if (record === null || record.epoch !== plan.epoch || record.role !== role || record.retiredEpoch !== undefined) return undefined
    return record
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
    if (startsK3s(this.init)) {
      if (current.ranService !== null && current.ranService !== output.service) {
        const stopped = await this.service.stop(current.ranService, `this node is a ${output.role} now and runs ${output.service}`, commandEnv(this.init, output))
        if (!stopped) return undefined
        current = { ...current, ranService: null }
        await this.save(current)
      }
      // After a reboot the unit is stopped: a start, not a restart, whatever changed.
      if (!(await this.startK3s(output, current.ranService === output.service && !this.bootStartPending))) return undefined
    }
    current = { ...current, started: true, ranService: startsK3s(this.init) ? output.service : current.ranService }
    await this.save(current)
    this.startRetry.reset()
    return current
  }

  /** The start step (service-steps.ts); once it succeeds, k3s runs with this agent's consent in this boot. */
  private async startK3s (output: RenderedOutput, restart: boolean): Promise<boolean> {
    if (!(await this.service.start(output, restart, this.plan?.epoch ?? 0))) return false
    this.bootStartPending = false
    this.lastHold = ''
    return true
  }

  /** This node's k3s answered Ready for `plan` (readiness-probe.ts published it): report it, decide again. */
  private async nodeIsReady (plan: Plan, output: RenderedOutput): Promise<void> {
    this.readyEpoch = Math.max(this.readyEpoch, plan.epoch)
    await this.init.reports.nodeReady(plan, output).catch((err: unknown) => {
      this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `after Ready: ${(err as Error).message}`, { cause: err }))
    })
    this.phase('ready', `nothing: k3s is Ready on this node (${output.role}, plan epoch ${plan.epoch})`, plan)
    this.poke()
  }

  /** Written and started: say so once per epoch, then probe until Ready. */
  private afterStart (plan: Plan, output: RenderedOutput, record: ApplyRecord, files: readonly string[]): void {
    this.record = record
    this.lastProblem = ''
    if (this.announcedEpoch < plan.epoch) {
      this.announcedEpoch = plan.epoch
      const probe = this.probes.command(output)
      this.phase('applied', probe === undefined
        ? `nothing: this node's output for plan epoch ${plan.epoch} is ${startsK3s(this.init) ? 'written and started' : 'written'}`
        : `k3s on this node to answer \`${probe.join(' ')}\``, plan)
      this.init.reports.applied(plan, files, output)
      if (probe !== undefined) this.probes.start(plan, output, probe)
    }
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
    const timeoutMs = commandTimeoutMs(this.init)
    const env = { P2PB_ROOT: this.init.root, P2PB_NODE_ID: this.init.nodeId, P2PB_EPOCH: String(plan.epoch), P2PB_CLUSTER_ID: plan.clusterId }
    const result = await runCommand(command, { timeoutMs, signal: this.abort.signal, env })
    if (result.code !== 0) {
      this.problem(new BootstrapperError('BOOTSTRAP_HOOK_FAILED', `the on-ready command ${describeFailure(command, result, timeoutMs)}; it is not run again for this epoch`))
    }
    this.record = { ...record, onReadyRan: true }
    await this.save(this.record)
  }

  // ---- a node the plan retired (it left) ----

  /**
   * Carries out this node's retirement once: a server first hands over (handOverServer), then the
   * node's k3s service is stopped and disabled, and it publishes that it stopped (a server then
   * deletes a worker that left from Kubernetes). Nothing else is removed.
   */
  private async retire (plan: Plan): Promise<void> {
    this.probes.stopBefore(Infinity)
    let record = this.ownRecord()
    if (record?.retiredEpoch === undefined) {
      const running = record?.ranService ?? null
      if (running !== null && startsK3s(this.init)) {
        if (running === 'k3s' && !(await handOverServer(this.ctx, this.goneNodes, plan))) return
        if (!(await this.service.stop(running, 'this node left the cluster', baseEnv(this.init)))) return
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

  // ---- plumbing ----

  /** Reports a phase about `plan` (default: the latest plan). */
  private phase (phase: AgentPhase, waitingFor: string, plan: Plan | null = this.plan): void {
    this.init.reports.phase(phase, waitingFor, plan?.epoch ?? 0)
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

