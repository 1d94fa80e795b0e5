// Goal: `run`'s log is structured and honest about waiting. Every bootstrapper event becomes one
// pino record with the right level, the words a person reads and the fields a script reads
// (`event` first among them); the human form is one `HH:MM:SS.mmm LEVEL message key=value…` line;
// `--log-level` / P2PB_LOG_LEVEL filter; a wait is logged with what it waits for and since when,
// then repeated at 10 s, 30 s, 1 min and every 5 min until it changes; nothing secret is logged.
// Method: a fake Bootstrapper (an EventTarget with the same typed events and a settable status), a
// fake clock and a fake scheduler, so no test waits on real time.
import { BootstrapperError, planView } from '@p2p-bootstrap/bootstrapper'
import type { BootstrapperEvents, MemberReport, StatusReport } from '@p2p-bootstrap/bootstrapper'
import type { Plan } from '@p2p-bootstrap/core'
import { describe, expect, it } from 'vitest'
import { chooseLogFormat, createRunLogger, resolveLogLevel } from '../src/run/log.js'
import type { LogFormat, LogLevel } from '../src/run/log.js'
import { LASTING_DEATH_MS, ProgressReporter } from '../src/run/progress.js'
import type { ProgressSource } from '../src/run/progress.js'
import { REMINDER_EVERY_MS, reminderDelayMs } from '../src/run/wait-reminder.js'
import type { Scheduler } from '../src/run/wait-reminder.js'

const SELF = '12D3KooWSelfSelfSelfSelfSelfSelfSelfSelfSelfSelfa3F9'
const OTHER = '12D3KooWOtherOtherOtherOtherOtherOtherOtherOther7Q2b'
const THIRD = '12D3KooWThirdThirdThirdThirdThirdThirdThirdThirdX8kD'
/** A token-shaped secret the fake carries in its options: it must never reach the log. */
const TOKEN = 'p2pb1.c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ.abcd'
const SEALED = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01, 0x02])
/** 2025-01-02 at some local time; the clock moves only when a test moves it. */
const START_MS = 1_735_812_184_123

const plan: Plan = {
  clusterId: 'cabc123',
  epoch: 1,
  name: 'mill',
  init: SELF,
  decidedUnder: { expect: 3, controlPlanes: 1 },
  controlPlanes: [SELF],
  workers: [OTHER, THIRD],
  notes: [],
  secrets: { serverTokenHash: 'aa'.repeat(32), agentTokenHash: 'bb'.repeat(32), serverTokenSealed: { [SELF]: SEALED }, agentTokenSealed: SEALED }
}
const selfPart = { nodeId: SELF, role: 'control-plane' as const, init: true, controlPlaneIndex: 1, joinsAfter: null }

function member (nodeId: string, state: MemberReport['state']): MemberReport {
  return { nodeId, address: null, state, role: null, phase: null, lastSeenAgoMs: null, connected: state === 'alive' }
}

/** The part of a Bootstrapper the reporter sees: typed events and a status the test sets. */
class FakeBootstrapper implements ProgressSource {
  readonly options = { dryRun: true, apply: {}, token: TOKEN }
  current: Pick<StatusReport, 'members' | 'expect' | 'ballot' | 'part'> = { members: [member(SELF, 'self')], expect: 3, ballot: null, part: null }
  private readonly target = new EventTarget()

  addEventListener<K extends keyof BootstrapperEvents> (type: K, listener: (event: BootstrapperEvents[K]) => void, options?: { signal?: AbortSignal }): void {
    this.target.addEventListener(type, listener as unknown as (event: Event) => void, options)
  }

  status (): Pick<StatusReport, 'members' | 'expect' | 'ballot' | 'part'> {
    return this.current
  }

  fire<K extends keyof BootstrapperEvents> (type: K, detail: BootstrapperEvents[K]['detail']): void {
    this.target.dispatchEvent(new CustomEvent(type, { detail }))
  }
}

/** Timers that run only when the test advances the clock, in due order. */
class FakeScheduler implements Scheduler {
  nowMs = START_MS
  private tasks: Array<{ dueMs: number, run: () => void }> = []

  schedule (delayMs: number, run: () => void): () => void {
    const task = { dueMs: this.nowMs + delayMs, run }
    this.tasks.push(task)
    return () => { this.tasks = this.tasks.filter(other => other !== task) }
  }

  get pending (): number {
    return this.tasks.length
  }

  advance (byMs: number): void {
    const untilMs = this.nowMs + byMs
    for (;;) {
      const next = [...this.tasks].sort((a, b) => a.dueMs - b.dueMs)[0]
      if (next === undefined || next.dueMs > untilMs) break
      this.tasks = this.tasks.filter(task => task !== next)
      this.nowMs = next.dueMs
      next.run()
    }
    this.nowMs = untilMs
  }
}

interface Harness {
  readonly source: FakeBootstrapper
  readonly scheduler: FakeScheduler
  readonly reporter: ProgressReporter
  readonly out: string[]
  readonly err: string[]
  /** The records written to stdout, parsed (JSON form). */
  readonly records: () => Array<Record<string, unknown>>
}

function harness (options: { level?: LogLevel, format?: LogFormat, colour?: boolean } = {}): Harness {
  const source = new FakeBootstrapper()
  const scheduler = new FakeScheduler()
  const out: string[] = []
  const err: string[] = []
  const log = createRunLogger({
    format: options.format ?? 'json',
    level: options.level ?? 'info',
    colour: options.colour ?? false,
    nowMs: () => scheduler.nowMs,
    writeOut: (text) => { out.push(text) },
    writeErr: (text) => { err.push(text) }
  })
  const reporter = new ProgressReporter(source, log, { nowMs: () => scheduler.nowMs, scheduler })
  reporter.attach()
  return { source, scheduler, reporter, out, err, records: () => out.map(line => JSON.parse(line) as Record<string, unknown>) }
}

/** pino's level numbers. */
const LEVEL = { trace: 10, debug: 20, info: 30, warn: 40, error: 50 } as const

/** Local "HH:MM:SS" of a time, computed here independently of the code under test. */
function localTime (ms: number): string {
  const date = new Date(ms)
  return [date.getHours(), date.getMinutes(), date.getSeconds()].map(part => String(part).padStart(2, '0')).join(':')
}

/** Fires one of every event the reporter logs, as a formation would. */
function fireEverything (h: Harness): void {
  const { source } = h
  source.fire('phase', { phase: 'discovering', waitingFor: '3 nodes (1/3 so far)' })
  source.current = { ...source.current, members: [member(SELF, 'self'), member(OTHER, 'alive')] }
  source.fire('peer:join', { nodeId: OTHER })
  source.current = { ...source.current, members: [member(SELF, 'self'), member(OTHER, 'alive'), member(THIRD, 'alive')], ballot: '1.…a3F9' }
  source.fire('peer:join', { nodeId: THIRD })
  source.fire('phase', { phase: 'voting', waitingFor: 'a quorum of promises (2 of 3) for ballot 1.…a3F9' })
  source.fire('phase', { phase: 'voting', waitingFor: 'a quorum of accepts (2 of 3) for ballot 1.…a3F9' })
  source.current = { ...source.current, part: selfPart }
  source.fire('plan', { plan, view: planView(plan) })
  source.fire('role', { role: 'control-plane', epoch: 1, part: selfPart })
  source.fire('applied', { plan, part: selfPart, files: ['/etc/rancher/k3s/config.yaml'], service: 'k3s' })
  source.fire('ready', { plan })
  source.fire('notice', { message: 'ledger.log: cut after a torn write at byte 4096' })
  source.fire('error', new BootstrapperError('BOOTSTRAP_FRAME_REJECTED', 'a peer sent an oversized frame; it was dropped'))
  source.current = { ...source.current, members: [member(SELF, 'self'), member(OTHER, 'alive'), member(THIRD, 'dead')] }
  source.fire('peer:leave', { nodeId: THIRD, reason: 'dead' })
  source.fire('error', new BootstrapperError('BOOTSTRAP_STORAGE_FAILED', 'stopping: the state dir refused a write (ENOSPC); free space, then start again', { fatal: true }))
}

describe('run log: JSON lines', () => {
  it('gives every event one record with pino\'s level, time and msg plus `event` and its fields', () => {
    const h = harness({ level: 'debug' })
    fireEverything(h)
    const records = h.records()
    expect(h.err).toEqual([])
    for (const record of records) {
      expect(record.time).toBe(START_MS)
      expect(typeof record.msg).toBe('string')
      expect(typeof record.event).toBe('string')
      expect(record).not.toHaveProperty('pid')
      expect(record).not.toHaveProperty('hostname')
    }
    expect(records.map(record => [record.event, record.level])).toEqual([
      ['phase', LEVEL.info],
      ['peers', LEVEL.info],
      ['peers', LEVEL.info],
      ['phase', LEVEL.info],
      ['phase', LEVEL.debug], // the same phase, a new reason
      ['plan', LEVEL.info],
      ['role', LEVEL.debug],
      ['applied', LEVEL.info],
      ['ready', LEVEL.info],
      ['notice', LEVEL.warn],
      ['error', LEVEL.warn], // survived
      ['peer:leave', LEVEL.info], // a member died: a warning only if it lasts
      ['peers', LEVEL.info],
      ['error', LEVEL.error] // fatal
    ])
    const [discovering, , found3, voting, , planned, , applied, ready, notice, survived, lost, , fatal] = records
    expect(discovering).toMatchObject({ phase: 'discovering', waitingFor: '3 nodes (1/3 so far)', ballot: null, waitingSinceMs: START_MS, msg: 'discovering: 3 nodes (1/3 so far)' })
    expect(found3).toMatchObject({ found: 3, expect: 3, msg: 'found 3/3 nodes (this one included)' })
    expect(voting).toMatchObject({ phase: 'voting', ballot: '1.…a3F9', msg: 'voting (ballot 1.…a3F9): a quorum of promises (2 of 3) for ballot 1.…a3F9' })
    expect(planned).toMatchObject({ epoch: 1, clusterId: 'cabc123', controlPlanes: [SELF], workers: [OTHER, THIRD], part: selfPart })
    expect(planned?.msg).toBe('plan committed (epoch 1): this node is control plane 1 of 1, initialises the cluster')
    expect(applied).toMatchObject({ role: 'control-plane', init: true, service: 'k3s', files: ['/etc/rancher/k3s/config.yaml'] })
    expect(applied?.msg).toBe('output written (dry run: nothing started): /etc/rancher/k3s/config.yaml')
    expect(ready).toMatchObject({ epoch: 1, controlPlanes: 1, workers: 2 })
    expect(notice).toMatchObject({ message: 'ledger.log: cut after a torn write at byte 4096' })
    expect(survived).toMatchObject({ code: 'BOOTSTRAP_FRAME_REJECTED', fatal: false })
    expect(lost).toMatchObject({ nodeId: THIRD, reason: 'dead', msg: `…${THIRD.slice(-8)} is dead (no answer to probes)` })
    expect(fatal).toMatchObject({ code: 'BOOTSTRAP_STORAGE_FAILED', fatal: true })
  })

  it('keeps the `done` line\'s fields for scripts (nodeId, clusterId, epoch, role, init, files)', () => {
    const h = harness()
    const done = { event: 'done', nodeId: SELF, clusterId: 'cabc123', epoch: 1, role: 'worker', init: false, files: ['/a', '/b'] }
    h.reporter.finish(done, 'done: worker in plan epoch 1')
    expect(h.records()).toEqual([{ level: LEVEL.info, time: START_MS, ...done, msg: 'done: worker in plan epoch 1' }])
  })

  it('says found N/expect only when the count changes, and without expect when there is none', () => {
    const h = harness()
    h.source.current = { ...h.source.current, expect: null, members: [member(SELF, 'self'), member(OTHER, 'alive')] }
    h.source.fire('peer:join', { nodeId: OTHER })
    h.source.fire('peer:join', { nodeId: OTHER })
    expect(h.records().map(record => record.msg)).toEqual(['found 2 nodes (this one included)'])
  })

  it('says the count and the first boot\'s expect apart once more nodes than expected are found (not "found 4/3")', () => {
    const h = harness()
    const FOURTH = '12D3KooWFourthFourthFourthFourthFourthFourthFou9Zq1'
    h.source.current = { ...h.source.current, expect: 3, members: [member(SELF, 'self'), member(OTHER, 'alive'), member(THIRD, 'alive'), member(FOURTH, 'alive')] }
    h.source.fire('peer:join', { nodeId: FOURTH })
    expect(h.records().map(record => record.msg)).toEqual(['found 4 nodes (this one included; 3 expected at first boot)'])
  })

  it('says what a phase that waits for nothing has done, without "nothing:" after the phase', () => {
    const h = harness()
    h.source.fire('phase', { phase: 'applied', waitingFor: 'nothing: this node\'s output for plan epoch 1 is written and started' })
    h.source.fire('phase', { phase: 'ready', waitingFor: 'nothing: k3s is Ready on this node (worker, plan epoch 1)' })
    const records = h.records()
    expect(records.map(record => record.msg)).toEqual([
      'applied: this node\'s output for plan epoch 1 is written and started',
      'ready: k3s is Ready on this node (worker, plan epoch 1)'
    ])
    // The JSON field keeps the agent's words, for scripts that match on them.
    expect(records[0]?.waitingFor).toBe('nothing: this node\'s output for plan epoch 1 is written and started')
  })

  it('a member that left is info; a death is info, and a warning only once it has lasted', () => {
    const h = harness()
    h.source.fire('peer:leave', { nodeId: OTHER, reason: 'left' })
    h.source.fire('peer:leave', { nodeId: THIRD, reason: 'dead' })
    h.scheduler.advance(LASTING_DEATH_MS - 1)
    const memberRecords = (): Array<Record<string, unknown>> => h.records().filter(record => String(record.event).startsWith('peer:'))
    expect(memberRecords().map(record => [record.event, record.level, record.msg])).toEqual([
      ['peer:leave', LEVEL.info, `…${OTHER.slice(-8)} left (it stopped or left cleanly)`],
      ['peer:leave', LEVEL.info, `…${THIRD.slice(-8)} is dead (no answer to probes)`]
    ])
    h.scheduler.advance(1)
    expect(memberRecords().at(-1)).toMatchObject({ event: 'peer:dead', nodeId: THIRD, level: LEVEL.warn, msg: `…${THIRD.slice(-8)} is still dead after 30 s` })
  })

  it('a member that comes back is said to be back, and its death is no longer warned about', () => {
    const h = harness()
    h.source.fire('peer:leave', { nodeId: THIRD, reason: 'dead' })
    h.scheduler.advance(5_000)
    h.source.fire('peer:back', { nodeId: THIRD })
    h.scheduler.advance(LASTING_DEATH_MS)
    expect(h.records().filter(record => String(record.event).startsWith('peer:')).map(record => [record.event, record.level, record.msg])).toEqual([
      ['peer:leave', LEVEL.info, `…${THIRD.slice(-8)} is dead (no answer to probes)`],
      ['peer:back', LEVEL.info, `…${THIRD.slice(-8)} is back (alive)`]
    ])
  })
})

describe('run log: human form', () => {
  it('is `HH:MM:SS.mmm LEVEL message key=value…`, with warnings and errors on stderr', () => {
    const h = harness({ format: 'human' })
    h.source.current = { ...h.source.current, members: [member(SELF, 'self'), member(OTHER, 'alive')] }
    h.source.fire('peer:join', { nodeId: OTHER })
    h.source.fire('phase', { phase: 'committed', waitingFor: 'control plane 1 (…a3F9) to be Ready' })
    h.source.fire('error', new BootstrapperError('BOOTSTRAP_START_FAILED', 'k3s exited 1; retrying in 2 s'))
    const ms = String(START_MS % 1000).padStart(3, '0')
    const time = `${localTime(START_MS)}.${ms}`
    expect(h.out).toEqual([
      `${time} INFO  found 2/3 nodes (this one included) event=peers found=2 expect=3\n`,
      // waitingFor is the message; ballot is null; the time is in the words' own clock: not repeated.
      `${time} INFO  committed: control plane 1 (…a3F9) to be Ready event=phase\n`
    ])
    expect(h.err).toEqual([`${time} WARN  k3s exited 1; retrying in 2 s event=error code=BOOTSTRAP_START_FAILED fatal=false\n`])
  })

  it('quotes values with spaces, and colours only when asked (a terminal)', () => {
    const plain = harness({ format: 'human' })
    plain.reporter.emit({ event: 'start', nodeId: SELF, listen: 'two words' }, 'started')
    expect(plain.out[0]).toMatch(/ INFO {2}started event=start nodeId=12D3KooW\S+ listen="two words"\n$/)
    expect(plain.out[0]).not.toContain('\u001b[')
    const coloured = harness({ format: 'human', colour: true })
    coloured.reporter.emit({ event: 'start' }, 'started')
    expect(coloured.out[0]).toContain('\u001b[32mINFO \u001b[0m')
  })

  it.each([
    [{ json: false }, true, {}, 'human', true],
    [{ json: false }, true, { NO_COLOR: '1' }, 'human', false],
    [{ json: true }, true, {}, 'json', false],
    // Not a terminal (a pipe, journald): still text, without colour; JSON only when asked for.
    [{ json: false }, false, {}, 'human', false],
    [{ json: false, logFormat: 'text' }, false, {}, 'human', false],
    [{ json: false, logFormat: 'json' }, true, {}, 'json', false],
    [{ json: true, logFormat: 'json' }, false, {}, 'json', false]
  ])('flags %j on a terminal=%s (env %j) give the %s form, colour %s', (flags, tty, env, format, colour) => {
    expect(chooseLogFormat(flags, tty, env)).toEqual({ format, colour })
  })

  it('refuses --json with --log-format text', () => {
    expect(() => chooseLogFormat({ json: true, logFormat: 'text' }, false, {})).toThrow(/--json and --log-format text contradict each other/)
  })
})

describe('run log: levels', () => {
  it.each([
    ['trace', ['phase', 'phase', 'role', 'error', 'error']],
    ['debug', ['phase', 'phase', 'role', 'error', 'error']],
    ['info', ['phase', 'error', 'error']],
    ['warn', ['error', 'error']],
    ['error', ['error']]
  ] as const)('at %s, logs only records at or above it', (level, events) => {
    const h = harness({ level })
    h.source.fire('phase', { phase: 'voting', waitingFor: 'promises' })
    h.source.fire('phase', { phase: 'voting', waitingFor: 'accepts' })
    h.source.fire('role', { role: 'control-plane', epoch: 1, part: selfPart })
    h.source.fire('error', new BootstrapperError('BOOTSTRAP_FRAME_REJECTED', 'a bad frame'))
    h.source.fire('error', new BootstrapperError('BOOTSTRAP_STORAGE_FAILED', 'disk full', { fatal: true }))
    expect(h.records().map(record => record.event)).toEqual(events)
  })

  it('takes --log-level, else P2PB_LOG_LEVEL, else info; a bad variable is a usage error naming it', () => {
    expect(resolveLogLevel(undefined, {})).toBe('info')
    expect(resolveLogLevel(undefined, { P2PB_LOG_LEVEL: 'debug' })).toBe('debug')
    expect(resolveLogLevel('warn', { P2PB_LOG_LEVEL: 'debug' })).toBe('warn')
    expect(() => resolveLogLevel(undefined, { P2PB_LOG_LEVEL: 'verbose' })).toThrow(expect.objectContaining({
      code: 'CLI_USAGE',
      message: expect.stringMatching(/P2PB_LOG_LEVEL=verbose .*trace, debug, info, warn, error/) as unknown
    }))
  })
})

describe('run log: every wait says what it waits for and since when', () => {
  it.each([
    [0, 10_000], [9_999, 1], [10_000, 20_000], [30_000, 30_000], [60_000, REMINDER_EVERY_MS - 60_000],
    [REMINDER_EVERY_MS, REMINDER_EVERY_MS], [REMINDER_EVERY_MS + 1, REMINDER_EVERY_MS - 1]
  ])('after %i ms of waiting, the next reminder is due in %i ms', (waitedMs, delayMs) => {
    expect(reminderDelayMs(waitedMs)).toBe(delayMs)
  })

  it('repeats the wait at 10 s, 30 s, 1 min, then every 5 min, with the elapsed time', () => {
    const h = harness()
    h.source.fire('phase', { phase: 'committed', waitingFor: 'control plane 1 (…a3F9) to be Ready' })
    h.scheduler.advance(9_999)
    expect(h.records().filter(record => record.event === 'waiting')).toEqual([])
    h.scheduler.advance(15 * 60_000)
    const reminders = h.records().filter(record => record.event === 'waiting')
    expect(reminders.map(record => record.waitedMs)).toEqual([10_000, 30_000, 60_000, 300_000, 600_000, 900_000])
    for (const record of reminders) {
      expect(record).toMatchObject({ level: LEVEL.info, phase: 'committed', waitingFor: 'control plane 1 (…a3F9) to be Ready', waitingSinceMs: START_MS })
      expect(record.time).toBe(START_MS + Number(record.waitedMs))
    }
    expect(reminders.map(record => record.msg)).toEqual(['10 s', '30 s', '1 min', '5 min', '10 min', '15 min'].map(elapsed =>
      `committed: waiting since ${localTime(START_MS)} (${elapsed}): control plane 1 (…a3F9) to be Ready`))
  })

  it('a new wait cancels the old one\'s reminders and starts its own clock', () => {
    const h = harness()
    h.source.fire('phase', { phase: 'discovering', waitingFor: '3 nodes (1/3 so far)' })
    h.scheduler.advance(25_000)
    h.source.fire('phase', { phase: 'discovering', waitingFor: '3 nodes (2/3 so far)' })
    expect(h.scheduler.pending).toBe(1)
    h.scheduler.advance(10_000)
    const reminders = h.records().filter(record => record.event === 'waiting')
    expect(reminders.map(record => [record.waitingFor, record.waitedMs, record.waitingSinceMs])).toEqual([
      ['3 nodes (1/3 so far)', 10_000, START_MS],
      ['3 nodes (2/3 so far)', 10_000, START_MS + 25_000]
    ])
  })

  it('no reminders for a phase that waits for nothing, after finish(), or after stop()', () => {
    const h = harness()
    h.source.fire('phase', { phase: 'applied', waitingFor: 'nothing: this node\'s output for plan epoch 1 is written' })
    expect(h.scheduler.pending).toBe(0)
    h.source.fire('phase', { phase: 'ready', waitingFor: 'nothing: k3s is Ready on this node (worker, plan epoch 1)' })
    expect(h.scheduler.pending).toBe(0)

    h.source.fire('phase', { phase: 'applied', waitingFor: 'k3s on this node to answer `kubectl get --raw /readyz`' })
    const endLinger = h.reporter.waitFor('the plan\'s other nodes to apply it')
    expect(h.scheduler.pending).toBe(2)
    endLinger()
    expect(h.scheduler.pending).toBe(1)
    h.reporter.finish({ event: 'done' }, 'done')
    expect(h.scheduler.pending).toBe(0)
    h.source.fire('phase', { phase: 'applied', waitingFor: 'k3s on this node to answer again' })
    expect(h.scheduler.pending).toBe(0)
    h.scheduler.advance(3_600_000)
    expect(h.records().filter(record => record.event === 'waiting' && record.waitedMs !== 0)).toEqual([])

    const stopped = harness()
    stopped.source.fire('phase', { phase: 'voting', waitingFor: 'promises' })
    stopped.reporter.stop()
    expect(stopped.scheduler.pending).toBe(0)
    stopped.source.fire('phase', { phase: 'voting', waitingFor: 'accepts' })
    expect(stopped.records()).toHaveLength(1) // listeners are gone too
  })

  it('the command\'s own wait is logged when it begins and reminded while it lasts', () => {
    const h = harness()
    h.reporter.waitFor('the plan\'s other nodes to apply it (up to 30 s)', { timeoutMs: 30_000 })
    h.scheduler.advance(30_000)
    expect(h.records().map(record => [record.msg, record.waitedMs])).toEqual([
      ['waiting for the plan\'s other nodes to apply it (up to 30 s)', 0],
      [`waiting since ${localTime(START_MS)} (10 s): the plan's other nodes to apply it (up to 30 s)`, 10_000],
      [`waiting since ${localTime(START_MS)} (30 s): the plan's other nodes to apply it (up to 30 s)`, 30_000]
    ])
    expect(h.records()[0]).toMatchObject({ event: 'waiting', timeoutMs: 30_000, waitingSinceMs: START_MS })
  })

  it('a wait that began on another day shows its date', () => {
    const h = harness()
    h.source.fire('phase', { phase: 'discovering', waitingFor: '3 nodes (1/3 so far)' })
    h.scheduler.advance(2 * 24 * 3_600_000)
    const last = h.records().at(-1)
    const since = new Date(START_MS)
    const date = `${since.getFullYear()}-${String(since.getMonth() + 1).padStart(2, '0')}-${String(since.getDate()).padStart(2, '0')}`
    expect(last?.msg).toBe(`discovering: waiting since ${date} ${localTime(START_MS)} (48 h): 3 nodes (1/3 so far)`)
  })
})

describe('run log: secrets', () => {
  it('never logs the token or sealed secrets, and logs an error message exactly as given', () => {
    const h = harness({ level: 'trace' })
    fireEverything(h)
    h.reporter.error(new BootstrapperError('BOOTSTRAP_HOOK_FAILED', 'on-ready exited 3'))
    const text = h.out.join('')
    expect(text).not.toContain(TOKEN)
    expect(text).not.toContain('c2VjcmV0')
    expect(text).not.toMatch(/deadbeef|"222,173|Sealed/i)
    for (const record of h.records()) {
      expect(Object.keys(record).filter(key => /^(token|agentToken|serverToken|secrets?)$/i.test(key))).toEqual([])
    }
    const last = h.records().at(-1)
    expect(last).toMatchObject({ event: 'error', message: 'on-ready exited 3', msg: 'on-ready exited 3' })
  })
})
