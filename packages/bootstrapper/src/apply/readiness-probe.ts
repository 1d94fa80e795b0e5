import type { Plan } from '@p2p-bootstrap/core'
import type { RenderedOutput } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { CA_HASH_ENTRY_NAME, commandEnv, dataDirOf } from './apply-context.js'
import type { ApplyContext } from './apply-context.js'
import type { CommandLine } from './apply-options.js'
import { readCaHash } from './k3s-facts.js'
import { SERVER_READY_ENTRY_NAME } from './node-removal.js'
import { describeFailure, expandCommand, runCommand } from './run-command.js'

/**
 * Readiness probes: once this node's k3s is started, its readiness command is run with back-off
 * until it answers; then the node publishes that it is Ready (and, on the initialiser, the CA hash
 * that joiners pin, first). One probe per plan epoch: a newer plan stops the older ones, so a probe
 * never speaks for a plan it was not started for.
 */

const PROBE_ATTEMPT_TIMEOUT_MS = 10_000
const DEFAULT_SERVER_PROBE: CommandLine = ['k3s', 'kubectl', 'get', '--raw', '/readyz']
const DEFAULT_WORKER_PROBE: CommandLine = ['systemctl', 'is-active', '--quiet', 'k3s-agent']

interface Probe {
  readonly epoch: number
  readonly controller: AbortController
  readonly done: Promise<void>
}

export class ReadinessProbes {
  private readonly ctx: ApplyContext
  /** After this node published Ready for `plan`: the applier's own bookkeeping and reports. */
  private readonly onReady: (plan: Plan, output: RenderedOutput) => Promise<void>
  private probes: Probe[] = []

  constructor (ctx: ApplyContext, onReady: (plan: Plan, output: RenderedOutput) => Promise<void>) {
    this.ctx = ctx
    this.onReady = onReady
  }

  /** The readiness command for this output, or undefined when there is none to run. */
  command (output: RenderedOutput): string[] | undefined {
    const { init } = this.ctx
    const { apply } = init
    if (init.dryRun || apply.readyCommand === false) return undefined
    if (apply.readyCommand !== undefined) return expandCommand(apply.readyCommand, output.service)
    if (apply.onOutput !== undefined) return undefined
    return [...(output.role === 'control-plane' ? DEFAULT_SERVER_PROBE : DEFAULT_WORKER_PROBE)]
  }

  start (plan: Plan, output: RenderedOutput, argv: string[]): void {
    this.stopBefore(plan.epoch)
    const controller = new AbortController()
    const signal = AbortSignal.any([this.ctx.signal, controller.signal])
    const done = this.probeUntilReady(plan, output, argv, signal).catch((err: unknown) => {
      if (!signal.aborted) this.ctx.problem(new BootstrapperError('BOOTSTRAP_APPLY_FAILED', `readiness probe: ${(err as Error).message}`, { cause: err }))
    })
    const probe: Probe = { epoch: plan.epoch, controller, done }
    this.probes.push(probe)
    void probe.done.finally(() => { this.probes = this.probes.filter(other => other !== probe) })
  }

  /** Stops the probes of epochs before `epoch` (all of them with Infinity). */
  stopBefore (epoch: number): void {
    for (const probe of this.probes) if (probe.epoch < epoch) probe.controller.abort()
  }

  /** Resolves once every probe has ended. */
  async settled (): Promise<void> {
    await Promise.all(this.probes.map(async probe => { await probe.done }))
  }

  /** Probes with back-off until the local k3s is Ready, then publishes it (and the CA hash on the initialiser). */
  private async probeUntilReady (plan: Plan, output: RenderedOutput, argv: string[], signal: AbortSignal): Promise<void> {
    const { init } = this.ctx
    const since = new Date().toISOString()
    const expectOk = init.apply.readyCommand === undefined && output.role === 'control-plane'
    let backoffMs = init.backoff.initialMs
    let caHash: string | undefined
    while (!signal.aborted) {
      const result = await runCommand(argv, { timeoutMs: PROBE_ATTEMPT_TIMEOUT_MS, signal, env: commandEnv(init, output) }).catch(() => undefined)
      if (result === undefined) return
      const ready = result.code === 0 && (!expectOk || result.stdout.trim() === 'ok')
      let caProblem = 'k3s answers but has not written server/token (with the CA hash) yet'
      if (ready && output.init) {
        caHash = await readCaHash(init.root, dataDirOf(init)).catch((err: unknown) => { caProblem = (err as Error).message; return undefined })
      }
      if (ready && (!output.init || caHash !== undefined)) break
      const why = !ready ? describeFailure(argv, result, PROBE_ATTEMPT_TIMEOUT_MS) : caProblem
      this.ctx.phase('applied', `k3s on this node to be Ready (since ${since}; last probe: ${why})`, plan)
      await delay(backoffMs, signal)
      backoffMs = Math.min(backoffMs * 2, init.backoff.maxMs)
    }
    if (signal.aborted || this.ctx.plan()?.epoch !== plan.epoch) return
    const { ledger, nodeId } = init
    // Joiners pin the CA in their token: it is published before Ready, so both are there together.
    if (caHash !== undefined) ledger.publish(CA_HASH_ENTRY_NAME, new TextEncoder().encode(caHash))
    // Once, for good: this server runs, so it may delete gone nodes (node-removal.ts).
    if (output.role === 'control-plane' && ledger.lookup(`node/${nodeId}/${SERVER_READY_ENTRY_NAME}`) === undefined) {
      ledger.publish(SERVER_READY_ENTRY_NAME, new TextEncoder().encode(String(plan.epoch)))
    }
    await this.onReady(plan, output)
  }
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
