// Watches a real etcd cluster's quorum while servers join it: at a short interval it reads the
// member list (voters and learners) and asks every member's client URL for its status; a sample in
// which the voting members that answer are not a majority of the voting members is a loss of
// quorum. A member added as a voter counts toward the quorum before its etcd even runs (an
// unstarted member has no client URL, so it never answers), which is why k3s adds joining servers
// as learners and promotes them once caught up; the monitor is what shows the difference.
import { execFile } from 'node:child_process'
import { setTimeout as delay } from 'node:timers/promises'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** One row of `etcdctl member list` (the plain table: id, status, name, peer URLs, client URLs, is learner). */
export interface MemberRow {
  readonly id: string
  readonly started: boolean
  readonly name: string
  readonly clientUrls: readonly string[]
  readonly isLearner: boolean
}

export interface QuorumVerdict {
  readonly voters: number
  /** Voting members whose client URL answered a status request in this sample. */
  readonly reachableVoters: number
  readonly quorum: boolean
}

export interface QuorumSample extends QuorumVerdict {
  /** Milliseconds since the monitor started. */
  readonly atMs: number
  readonly members: readonly MemberRow[]
}

export interface QuorumReport {
  readonly samples: number
  /** Every sample that saw no quorum, in order. */
  readonly losses: readonly QuorumSample[]
  /** The last sample taken, if any member existed by then. */
  readonly last: QuorumSample | undefined
}

/** Parses etcdctl 3.4's plain `member list` output; throws on a line it cannot read. */
export function parseMemberTable (stdout: string): MemberRow[] {
  return stdout.split('\n').filter(line => line.trim() !== '').map(line => {
    const fields = line.split(', ')
    const [id, status, name, , clientUrls, isLearner] = fields
    if (fields.length !== 6 || id === undefined || !/^[0-9a-f]{1,16}$/.test(id) || (status !== 'started' && status !== 'unstarted')) {
      throw new Error(`etcdctl member list printed a line the monitor cannot read: ${JSON.stringify(line)}`)
    }
    return {
      id,
      started: status === 'started',
      name: name ?? '',
      clientUrls: clientUrls === undefined || clientUrls === '' ? [] : clientUrls.split(','),
      isLearner: isLearner === 'true'
    }
  })
}

/** Quorum holds while more than half of the voting members answer; learners never count. */
export function judgeQuorum (members: readonly MemberRow[], answered: ReadonlySet<string>): QuorumVerdict {
  const voters = members.filter(member => !member.isLearner)
  const reachableVoters = voters.filter(member => member.clientUrls.some(url => answered.has(url))).length
  return { voters: voters.length, reachableVoters, quorum: reachableVoters * 2 > voters.length }
}

/** Runs etcdctl with the given arguments (in a network namespace, for the netns tests); resolves with stdout, rejects on failure. */
export type EtcdctlRunner = (args: readonly string[]) => Promise<string>

export function localEtcdctl (etcdctl: string): EtcdctlRunner {
  return async (args) => (await execFileAsync(etcdctl, [...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 5_000 })).stdout
}

export function netnsEtcdctl (namespace: string, etcdctl: string): EtcdctlRunner {
  return async (args) => (await execFileAsync('ip', ['netns', 'exec', namespace, etcdctl, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 5_000 })).stdout
}

export interface QuorumMonitorOptions {
  readonly etcdctl: EtcdctlRunner
  /** Client URLs where members may answer (every host that could run one); members' own URLs are added as they appear. */
  readonly endpoints: readonly string[]
  /** Pause between samples; default 100 ms. */
  readonly intervalMs?: number
}

/** Short timeouts, so one dead member does not stretch a sample past the windows it must catch. */
const PROBE_FLAGS = ['--dial-timeout=300ms', '--command-timeout=500ms']
const CONFIRM_FLAGS = ['--dial-timeout=1s', '--command-timeout=2s']

export class QuorumMonitor {
  private readonly endpoints = new Set<string>()
  private readonly controller = new AbortController()
  private readonly samples: QuorumSample[] = []
  private readonly losses: QuorumSample[] = []
  private lastMembers: readonly MemberRow[] | undefined
  private loop: Promise<void> | undefined
  private startedAt = 0

  constructor (private readonly options: QuorumMonitorOptions) {
    for (const endpoint of options.endpoints) this.endpoints.add(endpoint)
  }

  start (): void {
    this.startedAt = performance.now()
    this.loop = this.run()
  }

  /** What was seen so far; sampling goes on. */
  report (): QuorumReport {
    return { samples: this.samples.length, losses: [...this.losses], last: this.samples.at(-1) }
  }

  /** Stops sampling (after the sample under way) and reports what was seen. */
  async stop (): Promise<QuorumReport> {
    this.controller.abort()
    await this.loop
    return this.report()
  }

  private async run (): Promise<void> {
    const signal = this.controller.signal
    while (!signal.aborted) {
      await this.sample()
      await delay(this.options.intervalMs ?? 100, undefined, { signal }).catch(() => {})
    }
  }

  /**
   * One sample: the member list first (so a voter it lists was added, or promoted, before the
   * probes), then every voter's status; a voter that did not answer is asked once more, with longer
   * timeouts, before the sample counts as a loss (a busy machine may be slow to answer, an
   * unstarted member has no URL to answer on).
   */
  private async sample (): Promise<void> {
    let members: readonly MemberRow[] | undefined
    for (const endpoint of this.endpoints) {
      members = await this.options.etcdctl([`--endpoints=${endpoint}`, ...PROBE_FLAGS, 'member', 'list'])
        .then(parseMemberTable, () => undefined)
      if (members !== undefined) break
    }
    // Nobody answered: the members last seen are all asked (before any member existed, no sample).
    members ??= this.lastMembers
    if (members === undefined) return
    this.lastMembers = members
    for (const member of members) for (const url of member.clientUrls) this.endpoints.add(url)
    const urls = members.filter(member => !member.isLearner).flatMap(member => member.clientUrls)
    const answered = new Set<string>()
    const probe = async (flags: readonly string[], pending: readonly string[]): Promise<void> => {
      await Promise.all(pending.map(async url => {
        if (await this.options.etcdctl([`--endpoints=${url}`, ...flags, 'endpoint', 'status']).then(() => true, () => false)) answered.add(url)
      }))
    }
    await probe(PROBE_FLAGS, urls)
    let verdict = judgeQuorum(members, answered)
    if (!verdict.quorum) {
      await probe(CONFIRM_FLAGS, urls.filter(url => !answered.has(url)))
      verdict = judgeQuorum(members, answered)
    }
    const sample: QuorumSample = { atMs: Math.round(performance.now() - this.startedAt), members, ...verdict }
    this.samples.push(sample)
    if (!sample.quorum) this.losses.push(sample)
  }
}

/** One line per lost-quorum sample, for an assertion message. */
export function describeLosses (report: QuorumReport): string {
  return report.losses.map(loss =>
    `${loss.atMs} ms: ${loss.reachableVoters} of ${loss.voters} voting members answered (${loss.members.map(member => `${member.name === '' ? member.id : member.name}${member.isLearner ? ' learner' : ''}`).join(', ')})`).join('\n')
}
