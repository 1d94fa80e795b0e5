import type { Bootstrapper, BootstrapperError } from '@p2p-bootstrap/bootstrapper'
import { describePart, shortId } from '@p2p-bootstrap/bootstrapper'

/** One line of `run` output: a JSON object with `event`, or the same thing in words. */
export interface ProgressLine {
  readonly event: string
  readonly [field: string]: unknown
}

/**
 * Turns a bootstrapper's events into progress lines: words for a person at a console ("found 3/5
 * peers", "voting (ballot 2.…)", "plan committed: …") or one JSON object per line for a script.
 */
export class ProgressReporter {
  private lastFound = -1

  constructor (
    private readonly bootstrapper: Bootstrapper,
    private readonly json: boolean,
    private readonly writeOut: (text: string) => void,
    private readonly writeErr: (text: string) => void,
    private readonly nowMs: () => number
  ) {}

  attach (): void {
    const b = this.bootstrapper
    b.addEventListener('peer:join', () => { this.found() })
    b.addEventListener('peer:leave', (event) => {
      this.emit({ event: 'peer:leave', nodeId: event.detail.nodeId, reason: event.detail.reason },
        `lost ${shortId(event.detail.nodeId)} (${event.detail.reason})`)
      this.found()
    })
    b.addEventListener('phase', (event) => {
      const { phase, waitingFor } = event.detail
      const ballot = b.status().ballot
      const words = phase === 'voting' ? `voting${ballot === null ? '' : ` (ballot ${ballot})`}: ${waitingFor}` : `${phase}: ${waitingFor}`
      this.emit({ event: 'phase', phase, waitingFor, ballot }, words)
    })
    b.addEventListener('plan', (event) => {
      const { view, plan } = event.detail
      const part = b.status().part
      const words = `plan committed (epoch ${view.epoch}): this node is ${part === null ? 'not listed' : describePart(plan, part)}`
      this.emit({ event: 'plan', ...view, part }, words)
    })
    b.addEventListener('applied', (event) => {
      const { part, files, service } = event.detail
      const started = b.options.dryRun ? 'dry run: nothing started' : b.options.apply.onOutput !== undefined ? `${service} handed to the installer` : `${service} started`
      this.emit({ event: 'applied', role: part.role, init: part.init, service, files },
        `output written (${started}): ${files.join(', ')}`)
    })
    b.addEventListener('ready', (event) => {
      const { plan } = event.detail
      this.emit({ event: 'ready', epoch: plan.epoch, controlPlanes: plan.controlPlanes.length, workers: plan.workers.length },
        `cluster Ready: every node of plan epoch ${plan.epoch} reports k3s Ready`)
    })
    b.addEventListener('notice', (event) => {
      this.emit({ event: 'notice', message: event.detail.message }, `notice: ${event.detail.message}`, true)
    })
    b.addEventListener('error', (event) => { this.error(event.detail) })
  }

  /** A line for something the command itself did (start, done). */
  emit (line: ProgressLine, words: string, toStderr = false): void {
    if (this.json) {
      this.writeOut(`${JSON.stringify({ ...line, timeMs: this.nowMs() })}\n`)
    } else if (toStderr) {
      this.writeErr(`${words}\n`)
    } else {
      this.writeOut(`${words}\n`)
    }
  }

  error (error: BootstrapperError): void {
    this.emit({ event: 'error', code: error.code, message: error.message, fatal: error.fatal },
      `${error.fatal ? 'error' : 'warning'}: ${error.message}`, true)
  }

  /** "found 3/5 peers": this node and the alive members, against `expect` when it is known. */
  private found (): void {
    const status = this.bootstrapper.status()
    const alive = status.members.filter(member => member.state === 'alive' || member.state === 'self').length
    if (alive === this.lastFound) return
    this.lastFound = alive
    const of = status.expect === null ? '' : `/${status.expect}`
    this.emit({ event: 'peers', found: alive, expect: status.expect }, `found ${alive}${of} nodes (this one included)`)
  }
}
