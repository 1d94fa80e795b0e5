import { openAgentToken, openServerToken, roleOf } from '@p2p-bootstrap/core'
import type { NodeFacts, NodeId, NodeKey, Plan, Role } from '@p2p-bootstrap/core'
import { DATA_DIR_DEFAULT, RenderError, renderNode } from '@p2p-bootstrap/k3s'
import type { NodeSecrets, RenderedOutput } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { hasReached } from '../published-status.js'
import type { AgentPhase, PublishedStatus } from '../published-status.js'
import type { StateDir } from '../state/state-dir.js'
import type { ApplyOptions, CommandLine, NodeOutput } from './apply-options.js'
import { loadApplyRecord, saveApplyRecord } from './apply-record.js'
import type { ApplyRecord } from './apply-record.js'
import { hostNetwork } from './host-network.js'
import { nextJoinStep } from './join-sequence.js'
import type { JoinStep } from './join-sequence.js'
import type { K3sBlocks } from './k3s-blocks.js'
import { answersTcp, readCaHash } from './k3s-facts.js'
import { filesHash, pathUnder, writeOutputFiles } from './output-files.js'
import { describeFailure, expandCommand, runCommand } from './run-command.js'

/** Ledger names this agent publishes under `node/<id>/`. */
export const CA_HASH_ENTRY_NAME = 'ca-hash'
export const CLUSTER_HASH_ENTRY_NAME = 'k3s-hash'

const HASH_PATTERN = /^[0-9a-f]{64}$/
const API_PORT = 6443
const VIP_PROBE_TIMEOUT_MS = 1_000
const PROBE_ATTEMPT_TIMEOUT_MS = 10_000
const COMMAND_TIMEOUT_MS_DEFAULT = 120_000

const DEFAULT_START: CommandLine = ['systemctl', 'enable', '--now', '{service}']
const DEFAULT_RESTART: CommandLine = ['systemctl', 'restart', '{service}']
const DEFAULT_SERVER_PROBE: CommandLine = ['k3s', 'kubectl', 'get', '--raw', '/readyz']
const DEFAULT_WORKER_PROBE: CommandLine = ['systemctl', 'is-active', '--quiet', 'k3s-agent']

/** Back-off of retries (a failed start, a probe that says "not yet"), in milliseconds. */
export interface Backoff {
  readonly initialMs: number
  readonly maxMs: number
}

/** What the applier reads from and writes to the ledger (through the driver, in S6 order). */
export interface ApplierLedger {
  lookup: (key: string) => Uint8Array | undefined
  factsOf: (nodeId: NodeId) => NodeFacts | undefined
  statusOf: (nodeId: NodeId) => PublishedStatus | null
  publish: (name: string, value: Uint8Array) => void
}

/** Where the applier tells the agent what happened. */
export interface ApplierReports {
  phase: (phase: AgentPhase, waitingFor: string) => void
  applied: (plan: Plan, files: readonly string[], output: RenderedOutput) => void
  clusterReady: (plan: Plan) => void
  /** This node is Ready: what a Ready server publishes besides its phase (the admin kubeconfig). */
  nodeReady: (plan: Plan, output: RenderedOutput) => Promise<void>
  error: (error: BootstrapperError) => void
  notice: (message: string) => void
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

/**
 * Brings this node's k3s up for the committed plan, in the order DESIGN §7 requires: decide how to
 * join (the one initialiser at once; servers one at a time; workers after the first server), open
 * the tokens, render, check the cluster-wide settings against the init node's, write the files
 * (or hand them to an installer's callback), run the start step once, probe `/readyz` with
 * back-off and publish Ready; the init server then publishes the CA hash that joiners pin.
 *
 * Every change in the ledger pokes it; it re-decides from what is published, never from timing.
 * A record in the state dir makes restarts repeat nothing: same join decision, same bytes, no
 * second start.
 */
export class K3sApplier {
  private readonly init: ApplierInit
  private readonly abort = new AbortController()
  private plan: Plan | null = null
  private record: ApplyRecord | null = null
  private running: Promise<void> | undefined
  private dirty = false
  private probing: { epoch: number, done: Promise<void> } | undefined
  private retryTimer: ReturnType<typeof setTimeout> | undefined
  private startBackoffMs: number
  private lastProblem = ''
  private announcedEpoch = 0
  private clusterReadyEpoch = 0

  constructor (init: ApplierInit) {
    this.init = init
    this.startBackoffMs = init.backoff.initialMs
  }

  /** Reads what earlier runs applied; call once before the first plan. */
  async load (): Promise<void> {
    this.record = await loadApplyRecord(this.init.state, this.init.reports.notice)
  }

  /** The committed plan changed. */
  setPlan (plan: Plan): void {
    if (this.plan !== null && this.plan.epoch >= plan.epoch) return
    this.plan = plan
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
    this.abort.abort(new BootstrapperError('BOOTSTRAP_STOPPED', 'the bootstrapper stopped'))
    clearTimeout(this.retryTimer)
    await this.running
    await this.probing?.done
  }

  /** Resolves once the current decision round has finished (tests, stop). */
  async settled (): Promise<void> {
    while (this.running !== undefined) await this.running
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
    const role = roleOf(plan, nodeId) ?? 'worker'
    const kept = this.keptRecord(plan, role)
    const decision = kept === undefined ? await this.decideJoin(plan, role) : { join: kept.join, caHash: kept.caHash }
    if ('waitingFor' in decision) {
      this.init.reports.phase('committed', decision.waitingFor)
      return
    }
    if (!this.clusterSettingsAgree(plan)) return
    // This node's bytes depend on its own facts and its join target only; another node's facts
    // serve cross-checks (the VIP is nobody's node-ip). A node whose facts have not reached this one
    // (it died right after writing them, or they are still on their way) is rendered around; a
    // join target without a known node-ip was already waited for above.
    const factless = [...plan.controlPlanes, ...plan.workers].filter(id => id !== nodeId && this.init.ledger.factsOf(id) === undefined)
    const secrets = this.openSecrets(plan, role)
    const output = this.render(plan, decision.join, decision.caHash, secrets, new Set(factless))
    if (output === undefined) return
    const hash = filesHash(output.files)
    const unchanged = kept !== undefined && kept.filesHash === hash
    if (unchanged && kept.started) {
      this.afterStart(plan, output, kept, this.pathsOf(output))
      return
    }
    const files = await this.deliver(plan, output, secrets, decision.join)
    if (files === undefined) return
    // k3s that ran with other files (another epoch's, or before a config change) is restarted, not started.
    const wasStarted = this.record !== null && this.record.nodeId === nodeId && (this.record.started || this.record.ranBefore === true)
    let record: ApplyRecord = {
      epoch: plan.epoch,
      nodeId,
      role,
      join: decision.join,
      ...(decision.caHash === undefined ? {} : { caHash: decision.caHash }),
      filesHash: hash,
      started: false,
      ...(wasStarted ? { ranBefore: true } : {}),
      onReadyRan: kept?.onReadyRan ?? false
    }
    await this.save(record)
    if (this.startsK3s()) {
      const started = await this.startK3s(output, wasStarted)
      if (!started) return
    }
    record = { ...record, started: true }
    await this.save(record)
    this.startBackoffMs = this.init.backoff.initialMs
    this.afterStart(plan, output, record, files)
  }

  /** The record of an earlier run for this plan epoch and role, if it is this node's. */
  private keptRecord (plan: Plan, role: Role): ApplyRecord | undefined {
    const record = this.record
    if (record === null || record.epoch !== plan.epoch || record.nodeId !== this.init.nodeId || record.role !== role) return undefined
    return record
  }

  /**
   * A dry run, or an installer callback with no way to tell readiness: each earlier step is assumed
   * to have succeeded (joiners join the init node with the short token), so a fleet renders at once.
   */
  private assumesEarlierSteps (): boolean {
    return this.init.dryRun || (this.init.apply.onOutput !== undefined && this.init.apply.readyCommand === undefined)
  }

  private startsK3s (): boolean {
    return !this.init.dryRun && this.init.apply.onOutput === undefined
  }

  /** How this node joins now, or what it waits for. A dry run assumes every earlier step succeeded. */
  private async decideJoin (plan: Plan, role: Role): Promise<{ join: JoinDecision, caHash?: string } | { waitingFor: string }> {
    const { nodeId, ledger } = this.init
    const nodeIpOf = (id: NodeId): string | undefined => ledger.factsOf(id)?.nodeIp
    if (this.assumesEarlierSteps()) {
      if (plan.init === nodeId) return { join: { kind: 'init' } }
      const server = nodeIpOf(plan.init)
      if (server === undefined) return { waitingFor: `the init node ${short(plan.init)} to publish its node-ip` }
      return { join: { kind: 'join', server, viaVip: false } }
    }
    const readyServers = new Set(plan.controlPlanes.filter(id => hasReached(ledger.statusOf(id), 'ready', plan.epoch)))
    const caHash = this.publishedCaHash(plan)
    const input = { plan, nodeId, readyServers, nodeIpOf, caHashKnown: caHash !== undefined, vipAnswers: false }
    let step = nextJoinStep(input)
    if (step.kind === 'join' && role === 'worker' && plan.vip !== undefined &&
        await answersTcp(plan.vip, API_PORT, VIP_PROBE_TIMEOUT_MS, this.abort.signal)) {
      step = nextJoinStep({ ...input, vipAnswers: true })
    }
    if (step.kind === 'wait') return { waitingFor: step.waitingFor }
    return step.kind === 'init' || caHash === undefined ? { join: step } : { join: step, caHash }
  }

  private publishedCaHash (plan: Plan): string | undefined {
    return hashEntry(this.init.ledger.lookup(`node/${plan.init}/${CA_HASH_ENTRY_NAME}`))
  }

  /**
   * The init node's cluster-wide settings are the cluster's: a node whose critical keys, VIP or
   * kube-vip settings differ writes nothing (k3s would refuse the join much later, and less clearly).
   */
  private clusterSettingsAgree (plan: Plan): boolean {
    if (plan.init === this.init.nodeId) return true
    const theirs = hashEntry(this.init.ledger.lookup(`node/${plan.init}/${CLUSTER_HASH_ENTRY_NAME}`))
    if (theirs === undefined) {
      this.init.reports.phase('committed', `the init node ${short(plan.init)} to publish its cluster-wide k3s settings`)
      return false
    }
    if (theirs === this.init.blocks.clusterHash) return true
    this.problem(new BootstrapperError('BOOTSTRAP_CONFIG_MISMATCH',
      `this node's cluster-wide k3s settings (the VIP, kube-vip image or interface, or a critical k3s key such as cluster-cidr, disable or flannel-backend) differ from the init node ${short(plan.init)}'s: ` +
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

  private render (plan: Plan, join: JoinDecision, caHash: string | undefined, secrets: NodeSecrets, goneNodes: ReadonlySet<NodeId>): RenderedOutput | undefined {
    const { nodeId, ledger, blocks, node } = this.init
    const facts = new Map<NodeId, NodeFacts>()
    for (const id of new Set([...plan.controlPlanes, ...plan.workers, nodeId])) {
      const known = ledger.factsOf(id)
      if (known !== undefined) facts.set(id, known)
    }
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
        network: hostNetwork({ nodeIp, ...optional('interface', node.interface), ...optional('subnet', node.subnet) }),
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
      this.retryLater()
      return undefined
    }
    return output.files.map(file => file.path)
  }

  /** Runs the start step (or the restart step when k3s already ran with other files). */
  private async startK3s (output: RenderedOutput, restart: boolean): Promise<boolean> {
    const { apply } = this.init
    const template = restart ? (apply.restartCommand ?? DEFAULT_RESTART) : (apply.startCommand ?? DEFAULT_START)
    const argv = expandCommand(template, output.service)
    const timeoutMs = apply.commandTimeoutMs ?? COMMAND_TIMEOUT_MS_DEFAULT
    this.init.reports.phase('committed', `\`${argv.join(' ')}\` to start ${output.service}`)
    const result = await runCommand(argv, { timeoutMs, signal: this.abort.signal, env: this.commandEnv(output) })
    if (result.code === 0) return true
    this.problem(new BootstrapperError('BOOTSTRAP_START_FAILED',
      `${describeFailure(argv, result, timeoutMs)}; retrying in ${Math.round(this.startBackoffMs / 1000)} s (check \`journalctl -u ${output.service}\`)`))
    this.retryLater()
    return false
  }

  /** Written and started: say so once per epoch, then probe until Ready. */
  private afterStart (plan: Plan, output: RenderedOutput, record: ApplyRecord, files: readonly string[]): void {
    this.record = record
    this.lastProblem = ''
    if (this.announcedEpoch < plan.epoch) {
      this.announcedEpoch = plan.epoch
      const probe = this.probeCommand(output)
      this.init.reports.phase('applied', probe === undefined
        ? `nothing: this node's output for plan epoch ${plan.epoch} is ${this.startsK3s() ? 'written and started' : 'written'}`
        : `k3s on this node to answer \`${probe.join(' ')}\``)
      this.init.reports.applied(plan, files, output)
      if (probe !== undefined) this.probing = { epoch: plan.epoch, done: this.probeUntilReady(plan, output, probe) }
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

  /** Probes with back-off until the local k3s is Ready, then publishes it (and the CA hash on the init server). */
  private async probeUntilReady (plan: Plan, output: RenderedOutput, argv: string[]): Promise<void> {
    const signal = this.abort.signal
    const since = new Date().toISOString()
    const expectOk = this.init.apply.readyCommand === undefined && output.role === 'control-plane'
    let backoffMs = this.init.backoff.initialMs
    let caHash: string | undefined
    while (!signal.aborted) {
      const result = await runCommand(argv, { timeoutMs: PROBE_ATTEMPT_TIMEOUT_MS, signal, env: this.commandEnv(output) }).catch(() => undefined)
      if (result === undefined) return
      const ready = result.code === 0 && (!expectOk || result.stdout.trim() === 'ok')
      if (ready && output.init) {
        caHash = await readCaHash(this.init.root, this.dataDir()).catch(() => undefined)
      }
      if (ready && (!output.init || caHash !== undefined)) break
      const why = !ready ? describeFailure(argv, result, PROBE_ATTEMPT_TIMEOUT_MS) : 'k3s answers but its server CA is not written yet'
      this.init.reports.phase('applied', `k3s on this node to be Ready (since ${since}; last probe: ${why})`)
      await delay(backoffMs, signal)
      backoffMs = Math.min(backoffMs * 2, this.init.backoff.maxMs)
    }
    if (signal.aborted) return
    // Joiners pin the CA in their token: it is published before Ready, so both are there together.
    if (caHash !== undefined) this.init.ledger.publish(CA_HASH_ENTRY_NAME, new TextEncoder().encode(caHash))
    await this.init.reports.nodeReady(plan, output).catch((err: unknown) => {
      this.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `after Ready: ${(err as Error).message}`, { cause: err }))
    })
    this.init.reports.phase('ready', `nothing: k3s is Ready on this node (${output.role}, plan epoch ${plan.epoch})`)
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
    const timeoutMs = this.init.apply.commandTimeoutMs ?? COMMAND_TIMEOUT_MS_DEFAULT
    const env = { P2PB_ROOT: this.init.root, P2PB_NODE_ID: this.init.nodeId, P2PB_EPOCH: String(plan.epoch), P2PB_CLUSTER_ID: plan.clusterId }
    const result = await runCommand(command, { timeoutMs, signal: this.abort.signal, env })
    if (result.code !== 0) {
      this.problem(new BootstrapperError('BOOTSTRAP_HOOK_FAILED', `the on-ready command ${describeFailure(command, result, timeoutMs)}; it is not run again for this epoch`))
    }
    this.record = { ...record, onReadyRan: true }
    await this.save(this.record)
  }

  private commandEnv (output: RenderedOutput): Record<string, string> {
    return {
      P2PB_ROOT: this.init.root,
      P2PB_NODE_ID: this.init.nodeId,
      P2PB_ROLE: output.role,
      P2PB_SERVICE: output.service,
      P2PB_NODE_NAME: output.nodeName
    }
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
      this.init.reports.phase('committed', `a fix: ${error.message}`)
    }
    if (error.message === this.lastProblem) return
    this.lastProblem = error.message
    this.init.reports.error(error)
  }

  private retryLater (): void {
    clearTimeout(this.retryTimer)
    const waitMs = this.startBackoffMs
    this.startBackoffMs = Math.min(this.startBackoffMs * 2, Math.max(this.init.backoff.maxMs * 4, this.init.backoff.initialMs))
    this.retryTimer = setTimeout(() => { this.poke() }, waitMs)
    this.retryTimer.unref?.()
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
