import type { RenderedOutput } from '@p2p-bootstrap/k3s'
import { BootstrapperError } from '../errors.js'
import { commandEnv, commandTimeoutMs } from './apply-context.js'
import type { ApplyContext } from './apply-context.js'
import type { CommandLine } from './apply-options.js'
import type { K3sService } from './apply-record.js'
import type { RetryTimer } from './retry-timer.js'
import { describeFailure, expandCommand, runCommand } from './run-command.js'
import { grantConsent, installGate, revokeConsent } from './start-gate.js'

/**
 * The steps that start and stop k3s' units: start (never enable) or restart, behind the start
 * gate and with this agent's consent for this boot; stop and disable, the consent withdrawn first
 * (start-gate.ts). A failed step is reported and retried with back-off through `retry`.
 */

// Started, never enabled: k3s starts at boot only when the agent consents again (start-gate.ts).
const DEFAULT_START: CommandLine = ['systemctl', 'start', '{service}']
const DEFAULT_RESTART: CommandLine = ['systemctl', 'restart', '{service}']
const DEFAULT_STOP: CommandLine = ['systemctl', 'disable', '--now', '{service}']
const DAEMON_RELOAD: CommandLine = ['systemctl', 'daemon-reload']

export class ServiceSteps {
  private readonly ctx: ApplyContext
  private readonly retry: RetryTimer

  constructor (ctx: ApplyContext, retry: RetryTimer) {
    this.ctx = ctx
    this.retry = retry
  }

  /**
   * Runs the start step (or the restart step when k3s already ran with other files), after the
   * boot gate is in place and this agent consented to the unit for this boot. True on success.
   */
  async start (output: RenderedOutput, restart: boolean, epoch: number): Promise<boolean> {
    const { init } = this.ctx
    await this.installBootGate(output)
    await grantConsent(init.root, output.service, epoch)
    const template = restart ? (init.apply.restartCommand ?? DEFAULT_RESTART) : (init.apply.startCommand ?? DEFAULT_START)
    const argv = expandCommand(template, output.service)
    const timeoutMs = commandTimeoutMs(init)
    this.ctx.phase('committed', `\`${argv.join(' ')}\` to start ${output.service}`)
    const result = await runCommand(argv, { timeoutMs, signal: this.ctx.signal, env: commandEnv(init, output) })
    if (result.code === 0) return true
    this.ctx.problem(new BootstrapperError('BOOTSTRAP_START_FAILED',
      `${describeFailure(argv, result, timeoutMs)}; retrying in ${Math.round(this.retry.waitMs / 1000)} s (check \`journalctl -u ${output.service}\`)`))
    this.retry.schedule()
    return false
  }

  /**
   * Runs the stop step for `service`; a failure is reported and retried with back-off. The consent
   * goes first, so that nothing starts the unit again behind the agent's back.
   */
  async stop (service: K3sService, why: string, env: Record<string, string>): Promise<boolean> {
    const { init } = this.ctx
    await revokeConsent(init.root, service)
    const argv = expandCommand(init.apply.stopCommand ?? DEFAULT_STOP, service)
    const timeoutMs = commandTimeoutMs(init)
    this.ctx.phase('committed', `\`${argv.join(' ')}\` to stop ${service}: ${why}`)
    const result = await runCommand(argv, { timeoutMs, signal: this.ctx.signal, env })
    if (result.code === 0) return true
    this.ctx.problem(new BootstrapperError('BOOTSTRAP_START_FAILED',
      `${describeFailure(argv, result, timeoutMs)} (${why}); retrying in ${Math.round(this.retry.waitMs / 1000)} s (check \`journalctl -u ${service}\`)`))
    this.retry.schedule()
    return false
  }

  /**
   * Writes the systemd drop-ins that make k3s' units wait for the agent's consent (option
   * apply.bootGate, default on); a daemon-reload makes a new one count in this boot already.
   */
  private async installBootGate (output: RenderedOutput): Promise<void> {
    const { init } = this.ctx
    if (init.apply.bootGate === false) return
    if (!(await installGate(init.root, this.ctx.signal))) return
    const timeoutMs = commandTimeoutMs(init)
    const result = await runCommand([...DAEMON_RELOAD], { timeoutMs, signal: this.ctx.signal, env: commandEnv(init, output) })
    if (result.code !== 0) {
      init.reports.notice(`${describeFailure([...DAEMON_RELOAD], result, timeoutMs)}: the start gate of k3s' units counts from the next boot or daemon-reload on`)
    }
  }
}
