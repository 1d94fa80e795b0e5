// Failure detection and fail-over on real networks: a formed fleet of N netns hosts running the
// real binary (lan profile), then `kill -9` of one node — a worker, a control plane, or the
// current proposer — and the time until every other node has declared it dead (its own
// `peer:leave … dead` event), and, with a short fail-over delay, until a replacement epoch (a
// `plan` event of a later epoch than the one in force at the kill) is committed on every
// survivor. Each repetition is a fresh lab and fresh state, so no run inherits a death, a
// restart or an epoch from the one before.
import { cpus, loadavg } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TopLevelSpec } from 'vega-lite'
import { lanProfile, suspicionTimeoutMs } from '@p2p-bootstrap/core'
import type { PlanView } from '@p2p-bootstrap/bootstrapper'
import type { AgentEvent, Host, Lab } from '../test/netns-harness/index.js'
import { isQuick, writeReport } from './lib/report.js'
import type { Cell, TargetCheck } from './lib/report.js'
import { formatSeconds, summarize } from './lib/stats.js'
import type { Summary } from './lib/stats.js'
import {
  LAN_FLAGS, byNodeId, eventTimeMs, fleetToken, isDeath, runAcceptsFlag, shortNodeId, waitForEveryHost, waitForSteadyFleet, withLab
} from './lib/netns-fleet.js'

const quick = isQuick()
const SIZES = [5, 10]
const REPETITIONS = quick ? 2 : 5
const KINDS = ['worker', 'control-plane', 'proposer'] as const
type VictimKind = typeof KINDS[number]
const CONTROL_PLANES = 3
/**
 * The promise of issue 16: a dead node is known dead everywhere in about 5 s at 10 nodes on lan
 * (memberlist's LAN order); the core harness measures a median of 5.8 s and at most 9.1 s, so
 * the p90 of real runs is held to 8 s.
 */
const DETECTION_TARGET_MS = 8_000
const TARGET_SIZE = 10
/** The shortest fail-over delay the bootstrapper accepts (1 s): fail-over is then detection, this, and the vote. */
const FAILOVER_DELAY_SECONDS = 1
const FAILOVER_FLAG = '--failover-delay'
/** No replacement epoch on every survivor within this after the kill: fail-over not measured. */
const FAILOVER_TIMEOUT_MS = 30_000
/** A survivor that has not declared the victim dead by then never will in this run. */
const DETECTION_TIMEOUT_MS = 30_000
const FORMATION_TIMEOUT_MS = 120_000
/** Formed, but a host still lists a live node as dead or missing, or holds another epoch, after this: the repetition fails. */
const FULL_VIEW_TIMEOUT_MS = 30_000
/**
 * Between the formed fleet and the kill: the formation's CPU burst (every agent writing its
 * output, our `status` query) is over, so the kill meets a fleet in its steady state. A settling
 * pause, not synchronisation: everything we depend on was awaited on events before it.
 */
const QUIET_MS = 2_000

interface Victim {
  readonly kind: VictimKind
  readonly nodeId: string
  readonly role: 'control-plane' | 'worker'
  readonly init: boolean
  readonly proposer: boolean
}

interface Repetition {
  readonly n: number
  readonly kind: VictimKind
  readonly repetition: number
  readonly ok: boolean
  readonly error: string | null
  readonly victim: Victim | null
  /** The plan epoch every host held at the kill (above 1: a replacement happened in the formation). */
  readonly epochAtKill: number | null
  /** What a survivor's `status` called the proposer, and whether that was the lowest live node id. */
  readonly proposer: string | null
  readonly proposerIsLowestId: boolean | null
  /** How many different proposers the hosts' statuses named (1: they agree). */
  readonly proposersNamed: number | null
  /** 1-minute load average of the machine when the kill was sent. */
  readonly loadAtKill: number | null
  /** Per survivor: kill to its `peer:leave … dead` event for the victim; null if it never came. */
  readonly detectionMs: ReadonlyArray<number | null>
  /** Kill until every survivor had declared it dead (null if one never did). */
  readonly allDetectedMs: number | null
  readonly firstDetectedMs: number | null
  /**
   * Running hosts declared dead by another (false deaths): before the fleet was steady (the
   * formation's CPU burst), and from then until the end of the measurement (the victim's own
   * death after the kill excepted), where they would overlap what is measured.
   */
  readonly falseDeathsFormation: number
  readonly falseDeathsMeasured: number
  readonly failover: FailoverResult
}

interface FailoverResult {
  /** Why fail-over was not measured in this repetition, or null if it was. */
  readonly notMeasured: string | null
  /** Kill until every survivor printed a `plan` of epoch ≥ 2. */
  readonly allCommittedMs: number | null
  readonly firstCommittedMs: number | null
}

function firstLine (err: unknown): string {
  const text = err instanceof Error ? err.message : String(err)
  return text.split('\n')[0] ?? text
}

/** One of `candidates` at random (not the first by id, which would always be the same kind of node). */
function pick (candidates: readonly string[]): string {
  const chosen = candidates[Math.floor(Math.random() * candidates.length)]
  if (chosen === undefined) throw new Error('no candidate victim of this kind in the plan')
  return chosen
}

function chooseVictim (kind: VictimKind, plan: PlanView, proposer: string): Victim {
  const nodeId = kind === 'proposer'
    ? proposer
    : pick((kind === 'worker' ? plan.workers : plan.controlPlanes).filter(id => id !== proposer))
  return { kind, nodeId, role: plan.controlPlanes.includes(nodeId) ? 'control-plane' : 'worker', init: plan.init === nodeId, proposer: nodeId === proposer }
}

/** `peer:leave … dead` events of `hosts` that `match`. */
async function deathsOf (hosts: readonly Host[], match: (event: AgentEvent) => boolean): Promise<number> {
  const counts = await Promise.all(hosts.map(async host => (await host.events()).filter(event => isDeath(event) && match(event)).length))
  return counts.reduce((sum, count) => sum + count, 0)
}

/** Kill to the event of every survivor that matches (null for those that never print one within `timeoutMs`). */
async function sinceKill (survivors: readonly Host[], killMs: number, match: (event: AgentEvent) => boolean, timeoutMs: number, what: string): Promise<Array<number | null>> {
  const settled = await Promise.allSettled(survivors.map(async host => await host.waitForEvent(match, { timeoutMs, what, intervalMs: 100 })))
  return settled.map(outcome => (outcome.status === 'fulfilled' ? eventTimeMs(outcome.value) - killMs : null))
}

function spanOf (times: ReadonlyArray<number | null>): { all: number | null, first: number | null } {
  const known = times.filter((time): time is number => time !== null)
  return { all: known.length === times.length && known.length > 0 ? Math.max(...known) : null, first: known.length > 0 ? Math.min(...known) : null }
}

async function failoverAfter (survivors: readonly Host[], victim: Victim, epochAtKill: number, killMs: number, failoverFlag: boolean): Promise<FailoverResult> {
  if (!failoverFlag) return { notMeasured: `\`run --help\` lists no ${FAILOVER_FLAG} flag`, allCommittedMs: null, firstCommittedMs: null }
  if (victim.role !== 'control-plane') return { notMeasured: 'the victim is a worker: no replacement epoch is due', allCommittedMs: null, firstCommittedMs: null }
  const remainingMs = Math.max(0, killMs + FAILOVER_TIMEOUT_MS - Date.now())
  const times = await sinceKill(survivors, killMs, event => event.event === 'plan' && typeof event.epoch === 'number' && event.epoch > epochAtKill && eventTimeMs(event) >= killMs, remainingMs, `a plan of epoch ${epochAtKill + 1} or later`)
  const { all, first } = spanOf(times)
  return { notMeasured: all === null ? `no epoch after ${epochAtKill} committed on every survivor within ${FAILOVER_TIMEOUT_MS / 1000} s of the kill` : null, allCommittedMs: all, firstCommittedMs: first }
}

/** Forms a fleet, kills one node of `kind`, measures; everything in one lab, disposed after. */
async function repeatOnce (lab: Lab, n: number, kind: VictimKind, repetition: number, failoverFlag: boolean): Promise<Repetition> {
  const hosts = await lab.addHosts(n)
  const flags = [...LAN_FLAGS, ...(failoverFlag ? [FAILOVER_FLAG, String(FAILOVER_DELAY_SECONDS)] : [])]
  const token = fleetToken({ expect: n, controlPlanes: CONTROL_PLANES })
  for (const host of hosts) host.start({ token, flags })
  await waitForEveryHost(hosts, event => event.event === 'applied', { timeoutMs: FORMATION_TIMEOUT_MS, what: 'its output for the committed plan' })
  const statuses = await waitForSteadyFleet(hosts, n, { timeoutMs: FULL_VIEW_TIMEOUT_MS })
  const steadyMs = Date.now()
  // The plan in force now: a false death in the formation may already have replaced a control plane.
  const observer = byNodeId(hosts).at(-1)
  const observed = observer === undefined ? undefined : statuses[hosts.indexOf(observer)]
  const plan = observed?.plan ?? null
  if (observed === undefined || plan === null) throw new Error('the highest-id host shows no plan in its status')
  // The proposer as a node that is never it (the highest id) names it in its status.
  const proposer = observed.proposer
  if (proposer === null) throw new Error('the highest-id host names no proposer in its status')
  const proposersNamed = new Set(statuses.map(status => status.proposer))
  const lowestId = byNodeId(hosts)[0]?.nodeId ?? ''
  const victim = chooseVictim(kind, plan, proposer)
  const victimHost = hosts.find(host => host.nodeId === victim.nodeId)
  if (victimHost === undefined) throw new Error(`the victim ${victim.nodeId} is none of the hosts`)
  const survivors = hosts.filter(host => host !== victimHost)
  await sleep(QUIET_MS)
  const loadAtKill = Math.round((loadavg()[0] ?? 0) * 100) / 100
  const killMs = Date.now()
  await victimHost.kill('SIGKILL')
  const detectionMs = await sinceKill(survivors, killMs, event => isDeath(event, victim.nodeId) && eventTimeMs(event) >= killMs, DETECTION_TIMEOUT_MS, `a "peer:leave dead" of ${shortNodeId(victim.nodeId)}`)
  const failover = await failoverAfter(survivors, victim, plan.epoch, killMs, failoverFlag)
  const { all, first } = spanOf(detectionMs)
  return {
    n,
    kind,
    repetition,
    ok: all !== null,
    error: all === null ? `${detectionMs.filter(time => time === null).length} survivor(s) never declared the victim dead within ${DETECTION_TIMEOUT_MS / 1000} s` : null,
    victim,
    epochAtKill: plan.epoch,
    proposer,
    proposerIsLowestId: proposer === lowestId,
    loadAtKill,
    detectionMs,
    allDetectedMs: all,
    firstDetectedMs: first,
    proposersNamed: proposersNamed.size,
    falseDeathsFormation: await deathsOf(hosts, event => eventTimeMs(event) < steadyMs),
    falseDeathsMeasured: await deathsOf(hosts, event => eventTimeMs(event) >= steadyMs && !(event.nodeId === victim.nodeId && eventTimeMs(event) >= killMs)),
    failover
  }
}

async function measure (n: number, kind: VictimKind, repetition: number, failoverFlag: boolean): Promise<Repetition> {
  try {
    // A fail-over that never came is kept for a look at the agents' logs.
    return await withLab(async lab => await repeatOnce(lab, n, kind, repetition, failoverFlag), {
      keepLogsIf: result => result.victim?.role === 'control-plane' && failoverFlag && result.failover.allCommittedMs === null
    })
  } catch (err) {
    return {
      n, kind, repetition, ok: false, error: firstLine(err), victim: null, epochAtKill: null, proposer: null, proposerIsLowestId: null, proposersNamed: null, loadAtKill: null,
      detectionMs: [], allDetectedMs: null, firstDetectedMs: null, falseDeathsFormation: 0, falseDeathsMeasured: 0,
      failover: { notMeasured: 'the repetition failed before the kill', allCommittedMs: null, firstCommittedMs: null }
    }
  }
}

const failoverFlag = await runAcceptsFlag(FAILOVER_FLAG)
const repetitions: Repetition[] = []
for (const n of SIZES) {
  for (const kind of KINDS) {
    for (let repetition = 1; repetition <= REPETITIONS; repetition++) {
      const result = await measure(n, kind, repetition, failoverFlag)
      repetitions.push(result)
      const detected = result.allDetectedMs === null ? `failed (${result.error ?? '?'})` : `every survivor in ${(result.allDetectedMs / 1000).toFixed(2)} s (first ${((result.firstDetectedMs ?? 0) / 1000).toFixed(2)} s)`
      const victim = result.victim === null ? '' : ` [${result.victim.role}${result.victim.init ? ', init' : ''}${result.victim.proposer ? ', proposer' : ''}]`
      const failover = result.failover.allCommittedMs === null ? '' : `, replacement epoch everywhere in ${(result.failover.allCommittedMs / 1000).toFixed(2)} s`
      process.stdout.write(`${n} nodes, kill ${kind}${victim}, repetition ${repetition}: ${detected}${failover}\n`)
    }
  }
}

// ---- report ----

const summaryOf = (values: ReadonlyArray<number | null>): Summary => summarize(values.filter((value): value is number => value !== null))
const groupOf = (n: number, kind: VictimKind): Repetition[] => repetitions.filter(result => result.n === n && result.kind === kind)

/** The median of the known values, or null (shown as –) when there is none. */
function medianOrNull (values: ReadonlyArray<number | null>): number | null {
  const known = values.filter((value): value is number => value !== null && Number.isFinite(value))
  return known.length === 0 ? null : summarize(known).median
}

function failoverCell (group: readonly Repetition[]): string {
  const measured = group.filter(result => result.failover.allCommittedMs !== null)
  if (measured.length > 0) return `${formatSeconds(summaryOf(measured.map(result => result.failover.allCommittedMs)))} (${measured.length}/${group.length})`
  const reasons = new Set(group.map(result => result.failover.notMeasured).filter((reason): reason is string => reason !== null))
  return `not measured: ${[...reasons].join('; ')}`
}

function victimsCell (group: readonly Repetition[]): string {
  const words = group.map(result => result.victim === null ? 'failed' : `${result.victim.role}${result.victim.init ? ' (init)' : ''}`)
  const counts = new Map<string, number>()
  for (const word of words) counts.set(word, (counts.get(word) ?? 0) + 1)
  return [...counts].map(([word, count]) => `${count}× ${word}`).join(', ')
}

const columns = ['nodes', 'killed', 'was', 'runs', 'every other node marks it dead', 'first node', 'worst', 'false deaths (formation / measurement)', 'machine load', 'replacement epoch on every survivor']
const rows: Array<Record<string, Cell>> = []
for (const n of SIZES) {
  for (const kind of KINDS) {
    const group = groupOf(n, kind)
    const all = summaryOf(group.map(result => result.allDetectedMs))
    rows.push({
      nodes: n,
      killed: kind,
      was: victimsCell(group),
      runs: `${group.filter(result => result.ok).length}/${group.length}`,
      'every other node marks it dead': formatSeconds(all),
      'first node': formatSeconds(summaryOf(group.map(result => result.firstDetectedMs))),
      worst: all.n === 0 ? null : `${(all.max / 1000).toFixed(2)} s`,
      'false deaths (formation / measurement)': `${group.reduce((sum, result) => sum + result.falseDeathsFormation, 0)} / ${group.reduce((sum, result) => sum + result.falseDeathsMeasured, 0)}`,
      'machine load': medianOrNull(group.map(result => result.loadAtKill)),
      'replacement epoch on every survivor': failoverCell(group)
    })
  }
}

const targets: TargetCheck[] = KINDS.map((kind) => {
  const group = groupOf(TARGET_SIZE, kind)
  const all = summaryOf(group.map(result => result.allDetectedMs))
  const failed = group.filter(result => !result.ok).length
  const what = `dead ${kind} known dead by every other node, ${TARGET_SIZE} nodes, lan profile`
  const target = `≤ ${DETECTION_TARGET_MS / 1000} s (p90 of the runs)`
  if (all.n === 0) return { what, target, measured: 'no run completed', met: null, note: group.map(result => result.error ?? '').join('; ') }
  const met = failed === 0 && all.p90 <= DETECTION_TARGET_MS
  const over = all.p90 > DETECTION_TARGET_MS ? `p90 ${((all.p90 - DETECTION_TARGET_MS) / 1000).toFixed(2)} s over; see notes for the SWIM timings that bound it` : failed > 0 ? `${failed} run(s) without detection everywhere` : undefined
  return { what, target, measured: `${formatSeconds(all)}, worst ${(all.max / 1000).toFixed(2)} s`, met, ...(over === undefined ? {} : { note: over }) }
})
const failoverMeasured = repetitions.filter(result => result.failover.allCommittedMs !== null)
const failoverReasons = [...new Set(repetitions.filter(result => result.victim?.role === 'control-plane').map(result => result.failover.notMeasured).filter((reason): reason is string => reason !== null))]
targets.push(failoverMeasured.length > 0
  ? {
      what: `dead control plane replaced by a committed epoch (L3), fail-over delay ${FAILOVER_DELAY_SECONDS} s`,
      target: 'a replacement epoch on every survivor, after the delay',
      measured: `${formatSeconds(summaryOf(failoverMeasured.map(result => result.failover.allCommittedMs)))} after the kill, in ${failoverMeasured.length} of ${repetitions.filter(result => result.victim?.role === 'control-plane').length} control-plane kills`,
      met: failoverReasons.length === 0,
      ...(failoverReasons.length === 0 ? {} : { note: failoverReasons.join('; ') })
    }
  : {
      what: `dead control plane replaced by a committed epoch (L3), fail-over delay ${FAILOVER_DELAY_SECONDS} s`,
      target: 'a replacement epoch on every survivor, after the delay',
      measured: 'not measured',
      met: null,
      note: failoverReasons.join('; ') || 'no control plane was killed'
    })

// What bounds detection, from the profile the agents ran (so the note follows the code).
const lan = lanProfile()
const notes: string[] = [
  `Detection in the lan profile (packages/core/src/profiles.ts): a survivor probes one member per ${lan.probeIntervalMs} ms period (probeIntervalMs), round-robin, so the victim's first probe comes on average about one period after the kill; a probe unanswered after ${lan.probeTimeoutMs} ms (probeTimeoutMs) goes indirect through ${lan.indirectProbes} others, and the prober marks the victim suspect at the end of that period; the suspicion lasts suspicionTimeoutMs scaled by max(1, log10 N) (membership/suspicion.ts: ${suspicionTimeoutMs(lan.suspicionTimeoutMs, 5)} ms at 5 nodes, ${suspicionTimeoutMs(lan.suspicionTimeoutMs, 10)} ms at 10), shrunk towards a third of that by independent confirmations (other survivors' failed probes, Lifeguard); suspicions, confirmations and "dead" travel in gossip rounds (every ${lan.gossipIntervalMs} ms to ${lan.gossipFanout} members while there is news, memberlist's GossipInterval and GossipNodes) besides the probes and acks. Expected: ≈ ${((2 * lan.probeIntervalMs + suspicionTimeoutMs(lan.suspicionTimeoutMs, 10) / 3) / 1000).toFixed(2)}–${((2 * lan.probeIntervalMs + suspicionTimeoutMs(lan.suspicionTimeoutMs, 10) + 3 * lan.gossipIntervalMs) / 1000).toFixed(2)} s until every node knows at 10 nodes (first probe + probe period + suspicion + up to 3 gossip rounds).`,
  `"first node" is the first survivor to declare the victim dead (its own suspicion ran out); "every other node" adds the spread of the news; the gap between the two columns is dissemination.`,
  `Each repetition: a fresh lab of N netns hosts (lan profile, dry run, token expect = N, 3 control planes); after every host applied its plan and its status showed all N alive and one plan epoch, a ${QUIET_MS / 1000} s pause, then SIGKILL of the victim; the kill time is our clock just before the signal, each death time the survivor's own event (same machine clock).`,
  'The agents share this machine\'s cores with each other and with whatever else runs on it (the load average at each kill is in the raw data): a probe answered late by a starved event loop looks like a dead node, which is where false deaths come from. They cluster in the formation, when every agent boots Node and libp2p and handshakes at once ("formation": before the status of every host showed all nodes alive and one epoch); "measurement" counts those from then on (the pause, the kill and the detection), where they would overlap what is measured.',
  'The kill closes the victim\'s TCP connections at once (the kernel resets them), and every survivor\'s libp2p sees the disconnect within milliseconds; the bootstrapper does not feed that to the membership layer (not even as a reason to probe the node next), so detection waits for SWIM\'s own probe, period and suspicion.',
  'A member declared dead that comes back (it refutes with a higher incarnation) makes the core emit member:alive, which the bootstrapper turns into no event (only member:join becomes peer:join), so the "found N" count of the `peers` events stays low after a false death; this benchmark checks the view with `status` instead.'
]
const loads = repetitions.map(result => result.loadAtKill).filter((load): load is number => load !== null)
if (loads.length > 0) notes.push(`"machine load" is the median 1-minute load average at the kills (median ${summarize(loads).median.toFixed(2)}, max ${summarize(loads).max.toFixed(2)} over all runs) on ${cpus().length} cores: above the core count, other work on this machine competed with the agents.`)
const proposerChecks = repetitions.filter(result => result.proposerIsLowestId !== null)
if (proposerChecks.some(result => result.proposerIsLowestId === false)) notes.push(`The status's proposer was not the lowest node id in ${proposerChecks.filter(result => result.proposerIsLowestId === false).length} of ${proposerChecks.length} runs.`)
else if (proposerChecks.length > 0) notes.push('The proposer named by `status` was the lowest node id in every run; it was also the init node in ' + `${repetitions.filter(result => result.kind === 'proposer' && result.victim?.init === true).length} of ${repetitions.filter(result => result.kind === 'proposer' && result.victim !== null).length} proposer kills.`)

const failedOver = repetitions.flatMap(result => result.failover.allCommittedMs === null || result.firstDetectedMs === null ? [] : [result.failover.allCommittedMs - result.firstDetectedMs - FAILOVER_DELAY_SECONDS * 1000])
if (failedOver.length > 0) {
  notes.push(`Fail-over is detection, then the ${FAILOVER_DELAY_SECONDS} s fail-over delay, then the vote on the replacement epoch and its spread to every survivor: the last part (kill to the epoch everywhere, minus the first detection and the delay) took a median ${(summarize(failedOver).median / 1000).toFixed(2)} s (p90 ${(summarize(failedOver).p90 / 1000).toFixed(2)} s).`)
}
const replacedEarly = repetitions.filter(result => result.epochAtKill !== null && result.epochAtKill > 1)
if (replacedEarly.length > 0) {
  notes.push(`In ${replacedEarly.length} of ${repetitions.filter(result => result.epochAtKill !== null).length} runs the fleet already held a later epoch than 1 (up to ${Math.max(...replacedEarly.map(result => result.epochAtKill ?? 0))}) at the kill: a running control plane falsely declared dead in the formation was replaced once the ${FAILOVER_DELAY_SECONDS} s fail-over delay ran out. That is the trade-off the delay exists for (the lan default is ${lanProfile().failoverDelayMs / 60_000} min); victims were chosen from the plan in force at the kill, and only a later epoch counts as the replacement.`)
}
const FLEET_LABELS = SIZES.map(n => `${n} nodes`)
const plotValues = repetitions.flatMap(result => result.allDetectedMs === null ? [] : [{ killed: result.kind, nodes: `${result.n} nodes`, seconds: result.allDetectedMs / 1000 }])
const plotMedians = SIZES.flatMap(n => KINDS.map(kind => ({ killed: kind, nodes: `${n} nodes`, median: summaryOf(groupOf(n, kind).map(result => result.allDetectedMs)).median / 1000 }))).filter(entry => Number.isFinite(entry.median))
const plot: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'kill -9 until every other node marks it dead (lan profile)',
  width: 420,
  height: 260,
  layer: [
    {
      data: { values: plotValues },
      mark: { type: 'point', opacity: 0.5 },
      encoding: {
        x: { field: 'killed', type: 'nominal', title: 'killed node', sort: [...KINDS], axis: { labelAngle: 0 } },
        xOffset: { field: 'nodes', type: 'nominal', sort: FLEET_LABELS },
        y: { field: 'seconds', type: 'quantitative', title: 'seconds (points: runs, ticks: medians)' },
        color: { field: 'nodes', type: 'nominal', title: 'fleet', scale: { domain: FLEET_LABELS } }
      }
    },
    {
      data: { values: plotMedians },
      mark: { type: 'tick', thickness: 2, size: 18 },
      encoding: {
        x: { field: 'killed', type: 'nominal', sort: [...KINDS] },
        xOffset: { field: 'nodes', type: 'nominal', sort: FLEET_LABELS },
        y: { field: 'median', type: 'quantitative' },
        color: { field: 'nodes', type: 'nominal', scale: { domain: FLEET_LABELS } }
      }
    },
    {
      data: { values: [{ target: DETECTION_TARGET_MS / 1000 }] },
      mark: { type: 'rule', strokeDash: [4, 4], color: 'firebrick' },
      encoding: { y: { field: 'target', type: 'quantitative' } }
    }
  ]
}

await writeReport({
  name: 'failure',
  title: 'Failure detection and fail-over (netns hosts, kill -9)',
  method: `Fleets of ${SIZES.join(' and ')} netns hosts running the real binary (--profile lan --dry-run, 3 control planes), formed fresh for each of ${REPETITIONS} repetitions per victim kind; SIGKILL of a worker, a control plane (not the proposer) or the proposer named by \`status\`; time from the kill until each survivor printed "peer:leave" with reason dead for it, and (with ${FAILOVER_FLAG} ${FAILOVER_DELAY_SECONDS} where the binary accepts it) until every survivor printed a plan of epoch ≥ 2.`,
  columns,
  rows,
  targets,
  notes,
  raw: { failoverFlag, failoverDelaySeconds: FAILOVER_DELAY_SECONDS, quietMs: QUIET_MS, repetitions },
  quick
}, plot)
