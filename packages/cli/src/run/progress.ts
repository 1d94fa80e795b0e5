import type { BootstrapperError, BootstrapperEvents, EpochRecord, StatusReport } from '@p2p-bootstrap/bootstrapper'
import { describePart, shortId } from '@p2p-bootstrap/bootstrapper'
import { clockTime, formatDuration } from './human-log.js'
import type { LogLevel, RunLogger } from './log.js'
import { WaitReminders } from './wait-reminder.js'
import type { Scheduler, Wait } from './wait-reminder.js'

/** The structured fields of one log record: `event` names what happened ("start", "phase", …). */
export interface ProgressLine {
  readonly event: string
  readonly [field: string]: unknown
}

/** What the reporter needs of a Bootstrapper: its events, a few status fields and two options. */
export interface ProgressSource {
  addEventListener: <K extends keyof BootstrapperEvents>(type: K, listener: (event: BootstrapperEvents[K]) => void, options?: { signal?: AbortSignal }) => void
  status: () => Pick<StatusReport, 'members' | 'expect' | 'ballot' | 'part'>
  readonly options: { readonly dryRun: boolean, readonly apply: { readonly onOutput?: unknown } }
}

/** Time and timers, injected so the reminders are tested without the wall clock. */
export interface ProgressClock {
  readonly nowMs: () => number
  readonly scheduler: Scheduler
}

/**
 * How long a member must stay dead before its death is a warning. A death on a busy machine can
 * be a false one that ends in "is back" moments later; a lasting one is what an operator must see
 * (the fail-over delay starts at the death).
 */
export const LASTING_DEATH_MS = 30_000

/**
 * The agent's waitingFor texts that start with "nothing" ("nothing: k3s is Ready on this node")
 * say that it waits for nothing: no reminders for those.
 */
function isWaiting (waitingFor: string): boolean {
  return !waitingFor.startsWith('nothing')
}

/** "12:03:04", with the date in front when the wait began on another day. */
function sinceText (sinceMs: number, nowMs: number): string {
  const since = new Date(sinceMs)
  const sameDay = since.toDateString() === new Date(nowMs).toDateString()
  return sameDay ? clockTime(sinceMs, false) : `${since.getFullYear()}-${String(since.getMonth() + 1).padStart(2, '0')}-${String(since.getDate()).padStart(2, '0')} ${clockTime(sinceMs, false)}`
}

/**
 * Turns a bootstrapper's events into log records: each has a level (info for progress, warn for
 * survived errors, error for fatal ones, debug for a phase's changing reason), a message in words
 * ("found 3/5 nodes", "voting (ballot 2.…)", "plan committed: …") and the same facts as fields,
 * `event` first. Every wait is logged with what it waits for and since when, and repeated at a
 * growing interval while it lasts (wait-reminder.ts).
 */
export class ProgressReporter {
  private lastFound = -1
  private lastPhase: string | null = null
  private readonly listening = new AbortController()
  /** The agent's own wait (its phase's waitingFor). */
  private readonly phaseWait: WaitReminders
  /** A wait of the command itself (`--once` lingering for the fleet). */
  private readonly commandWait: WaitReminders
  /** Members declared dead, each with the cancel of its lasting-death warning. */
  private readonly deaths = new Map<string, () => void>()
  /** After the command's last record, member news (peers leaving as they exit too) is not logged. */
  private finished = false

  constructor (
    private readonly source: ProgressSource,
    private readonly log: RunLogger,
    private readonly clock: ProgressClock
  ) {
    const remind = (wait: Wait, waitedMs: number): void => { this.remind(wait, waitedMs) }
    this.phaseWait = new WaitReminders(clock.scheduler, clock.nowMs, remind)
    this.commandWait = new WaitReminders(clock.scheduler, clock.nowMs, remind)
  }

  attach (): void {
    const source = this.source
    const options = { signal: this.listening.signal }
    source.addEventListener('peer:join', () => { this.found() }, options)
    source.addEventListener('peer:leave', (event) => {
      if (this.finished) return
      const { nodeId, reason } = event.detail
      // The words are the member states `status` shows: dead, left, alive.
      if (reason === 'left') {
        this.emit({ event: 'peer:leave', nodeId, reason }, `${shortId(nodeId)} left (it stopped or left cleanly)`)
      } else {
        // Info now; a warning only if it lasts (a busy machine's false death ends in "is back").
        this.emit({ event: 'peer:leave', nodeId, reason }, `${shortId(nodeId)} is dead (no answer to probes)`)
        this.deaths.get(nodeId)?.()
        this.deaths.set(nodeId, this.clock.scheduler.schedule(LASTING_DEATH_MS, () => {
          this.deaths.delete(nodeId)
          this.emit({ event: 'peer:dead', nodeId, deadForMs: LASTING_DEATH_MS },
            `${shortId(nodeId)} is still dead after ${formatDuration(LASTING_DEATH_MS)}`, 'warn')
        }))
      }
      this.found()
    }, options)
    source.addEventListener('peer:back', (event) => {
      if (this.finished) return
      const { nodeId } = event.detail
      this.deaths.get(nodeId)?.()
      this.deaths.delete(nodeId)
      this.emit({ event: 'peer:back', nodeId }, `${shortId(nodeId)} is back (alive)`)
      this.found()
    }, options)
    source.addEventListener('phase', (event) => { this.phase(event.detail.phase, event.detail.waitingFor) }, options)
    source.addEventListener('plan', (event) => {
      const { view, plan } = event.detail
      const part = source.status().part
      const words = `plan committed (epoch ${view.epoch}): this node is ${part === null ? 'not listed' : describePart(plan, part)}`
      this.emit({ event: 'plan', ...view, part }, words)
    }, options)
    source.addEventListener('epoch', (event) => { this.epoch(event.detail.record) }, options)
    source.addEventListener('role', (event) => {
      const { role, epoch, part } = event.detail
      this.emit({ event: 'role', role, epoch, init: part.init }, `role in plan epoch ${epoch}: ${role}`, 'debug')
    }, options)
    source.addEventListener('applied', (event) => {
      const { part, files, service } = event.detail
      const started = source.options.dryRun ? 'dry run: nothing started' : source.options.apply.onOutput !== undefined ? `${service} handed to the installer` : `${service} started`
      this.emit({ event: 'applied', role: part.role, init: part.init, service, files },
        `output written (${started}): ${files.join(', ')}`)
    }, options)
    source.addEventListener('ready', (event) => {
      const { plan } = event.detail
      this.emit({ event: 'ready', epoch: plan.epoch, controlPlanes: plan.controlPlanes.length, workers: plan.workers.length },
        `cluster Ready: every node of plan epoch ${plan.epoch} reports k3s Ready`)
    }, options)
    source.addEventListener('notice', (event) => {
      // Notices report damage that was repaired (a cut ledger, a loose mode): worth an operator's look.
      this.emit({ event: 'notice', message: event.detail.message }, event.detail.message, 'warn')
    }, options)
    source.addEventListener('error', (event) => { this.error(event.detail) }, options)
  }

  /**
   * A committed epoch: what changed and why (the planner's notes), who proposed it and how many
   * control planes voted; the JSON form carries the whole record. On a restart the epochs on disk
   * are announced again, oldest first, so the log always shows the history it works from.
   */
  private epoch (record: EpochRecord): void {
    // The notes say whom this epoch replaced or retired; the record's lists hold every epoch's.
    // A note may open with its own "epoch N:"; the line already says which epoch it is.
    const notes = record.notes.map(note => note.replace(new RegExp(`^epoch ${record.epoch}: `), ''))
    const why = notes.length > 0 ? notes.join('; ') : record.epoch === 1 ? 'the bootstrap plan' : 'no notes'
    const words = `epoch ${record.epoch} committed: ${why} (proposed by ${shortId(record.proposer)}, ${record.voters.length} vote${record.voters.length === 1 ? '' : 's'}; ` +
      `control planes ${record.controlPlanes.map(shortId).join(', ')})`
    this.emit({ event: 'epoch', ...record }, words)
  }

  /** A record for something the command itself did (start, done); info unless said otherwise. */
  emit (line: ProgressLine, words: string, level: LogLevel = 'info'): void {
    this.log[level](line, words)
  }

  /** An error's message is logged as given: the bootstrapper's messages name the fix and hold no secret. */
  error (error: BootstrapperError): void {
    this.emit({ event: 'error', code: error.code, message: error.message, fatal: error.fatal }, error.message, error.fatal ? 'error' : 'warn')
  }

  /** The command begins a wait of its own: logged now, reminded while it lasts; call the result when it ends. */
  waitFor (waitingFor: string, fields: Readonly<Record<string, unknown>> = {}): () => void {
    const sinceMs = this.clock.nowMs()
    this.emit({ event: 'waiting', ...fields, phase: null, waitingFor, waitingSinceMs: sinceMs, waitedMs: 0 }, `waiting for ${waitingFor}`)
    this.commandWait.begin({ phase: null, waitingFor, sinceMs })
    return () => { this.commandWait.end() }
  }

  /** The command's last record: no reminder may follow it (listeners stay, so errors while stopping are logged). */
  finish (line: ProgressLine, words: string): void {
    this.phaseWait.stop()
    this.commandWait.stop()
    for (const cancel of this.deaths.values()) cancel()
    this.deaths.clear()
    this.emit(line, words)
    this.finished = true
  }

  /** No more records: listeners removed, reminders cancelled. */
  stop (): void {
    this.listening.abort()
    this.phaseWait.stop()
    this.commandWait.stop()
    for (const cancel of this.deaths.values()) cancel()
    this.deaths.clear()
  }

  /**
   * A new phase is info; a new reason within the same phase (a probe that says "not yet") is
   * debug. Either way a new wait begins now, and its reminders replace the previous wait's.
   */
  private phase (phase: string, waitingFor: string): void {
    const ballot = this.source.status().ballot
    const sinceMs = this.clock.nowMs()
    const level: LogLevel = phase === this.lastPhase ? 'debug' : 'info'
    this.lastPhase = phase
    // "nothing: k3s is Ready here" reads as a wait for nothing after the phase: say only the news.
    const news = waitingFor.replace(/^nothing: /, '')
    const words = phase === 'voting' ? `voting${ballot === null ? '' : ` (ballot ${ballot})`}: ${news}` : `${phase}: ${news}`
    this.emit({ event: 'phase', phase, waitingFor, ballot, waitingSinceMs: sinceMs }, words, level)
    if (phase !== 'ready' && isWaiting(waitingFor)) this.phaseWait.begin({ phase, waitingFor, sinceMs })
    else this.phaseWait.end()
  }

  /** "voting: waiting since 12:03:04 (42 s): a quorum of promises …" */
  private remind (wait: Wait, waitedMs: number): void {
    const since = `waiting since ${sinceText(wait.sinceMs, this.clock.nowMs())} (${formatDuration(waitedMs)}): ${wait.waitingFor}`
    this.emit({ event: 'waiting', phase: wait.phase, waitingFor: wait.waitingFor, waitingSinceMs: wait.sinceMs, waitedMs },
      wait.phase === null ? since : `${wait.phase}: ${since}`)
  }

  /** "found 3/5 nodes": this node and the alive members, against `expect` when it is known. */
  private found (): void {
    if (this.finished) return
    const status = this.source.status()
    const alive = status.members.filter(member => member.state === 'alive' || member.state === 'self').length
    if (alive === this.lastFound) return
    this.lastFound = alive
    // "found 4/3" reads as an error: past the first boot's count, say the two numbers apart.
    const words = status.expect === null
      ? `found ${alive} nodes (this one included)`
      : alive <= status.expect
        ? `found ${alive}/${status.expect} nodes (this one included)`
        : `found ${alive} nodes (this one included; ${status.expect} expected at first boot)`
    this.emit({ event: 'peers', found: alive, expect: status.expect }, words)
  }
}
