// Formation time on real networks: N test hosts, each in its own network namespace on one
// bridge, each running the real `p2p-bootstrap run` binary (mDNS and TCP over veth pairs), time
// from the start of the last node until every node holds the committed plan. Link latency of
// 1 ms and 50 ms is added with tc netem where the kernel has it (detected at run time); the
// veth-only rows (0 ms added) are measured always. Every run is a fresh lab and fresh state.
import { cpus, loadavg } from 'node:os'
import type { TopLevelSpec } from 'vega-lite'
import { lanProfile } from '@p2p-bootstrap/core'
import type { AgentEvent, Host } from '../test/netns-harness/index.js'
import { isQuick, writeReport } from './lib/report.js'
import type { Cell, TargetCheck } from './lib/report.js'
import { formatSeconds, summarize } from './lib/stats.js'
import type { Summary } from './lib/stats.js'
import { LAN_FLAGS, eventTimeMs, fleetToken, isDeath, latencySkipReason, waitForEveryHost, withLab } from './lib/netns-fleet.js'

const quick = isQuick()
const SIZES = quick ? [3, 5] : [3, 5, 10]
const RUNS = quick ? 2 : 5
/** Added one-way delay on every host's link (each packet meets it once: RTT is twice this). */
const EMULATED_LATENCIES_MS = [1, 50]
/** A formation that takes longer than this failed (it is counted, not timed). */
const FORMATION_TIMEOUT_MS = 120_000
/** Control planes in the token (3 is the HA shape; with 3 hosts every host is one). */
const CONTROL_PLANES = 3

interface RunResult {
  readonly latencyMs: number
  readonly n: number
  readonly run: number
  readonly ok: boolean
  readonly error: string | null
  /** Our clock when the last agent was spawned: the start of the measurement. */
  readonly lastSpawnMs: number
  /** Each host's `start` event (libp2p listening) and `plan` event (plan committed and held), agent clocks. */
  readonly startMs: ReadonlyArray<number | null>
  readonly planMs: ReadonlyArray<number | null>
  /** Last spawn to the last host's `plan` event. */
  readonly formationMs: number | null
  /** The last host's `start` event to the last `plan`: formation without the process boot. */
  readonly fromLastStartEventMs: number | null
  /** Spawn to `start` event of the slowest-booting host. */
  readonly bootMs: number | null
  /** `peer:leave … dead` events during the formation: no host died, so every one is a false death. */
  readonly falseDeaths: number
  /** The machine's 1-minute load average when the agents were started: other work skews the run. */
  readonly loadAtStart: number
}

function latencyLabel (latencyMs: number): string {
  return latencyMs === 0 ? '0 ms added' : `${latencyMs} ms`
}

interface HostTimes { readonly start: number | null, readonly plan: number | null, readonly deaths: number }

async function hostTimes (host: Host): Promise<HostTimes> {
  const events = await host.events()
  const at = (match: (event: AgentEvent) => boolean): number | null => {
    const event = events.find(match)
    return event === undefined ? null : eventTimeMs(event)
  }
  return { start: at(event => event.event === 'start'), plan: at(event => event.event === 'plan'), deaths: events.filter(event => isDeath(event)).length }
}

/** One formation in a fresh lab; a run that fails is recorded with its reason, never retried. */
async function formOnce (n: number, latencyMs: number, run: number): Promise<RunResult> {
  const spawned = { lastMs: Number.NaN, load: Number.NaN }
  let perHost: readonly HostTimes[] = []
  let error: string | null = null
  try {
    perHost = await withLab(async (lab) => {
      const hosts = await lab.addHosts(n)
      if (latencyMs > 0) await lab.impair({ delayMs: latencyMs })
      const token = fleetToken({ expect: n, controlPlanes: CONTROL_PLANES })
      for (const host of hosts) host.start({ token, flags: LAN_FLAGS })
      spawned.lastMs = Date.now()
      spawned.load = Math.round((loadavg()[0] ?? 0) * 100) / 100
      await waitForEveryHost(hosts, event => event.event === 'plan', { timeoutMs: FORMATION_TIMEOUT_MS, what: 'a committed plan' })
      // Read inside the lab: its logs go with it.
      return await Promise.all(hosts.map(hostTimes))
    })
  } catch (err) {
    error = err instanceof Error ? (err.message.split('\n')[0] ?? err.message) : String(err)
  }
  const startMs = perHost.map(entry => entry.start)
  const planMs = perHost.map(entry => entry.plan)
  const ok = error === null && perHost.length === n && planMs.every(time => time !== null)
  const latest = (times: ReadonlyArray<number | null>): number | null =>
    times.length > 0 && times.every(time => time !== null) ? Math.max(...times.map(time => time ?? Number.NaN)) : null
  const lastPlan = ok ? latest(planMs) : null
  const lastStart = latest(startMs)
  return {
    latencyMs,
    n,
    run,
    ok,
    error,
    lastSpawnMs: spawned.lastMs,
    startMs,
    planMs,
    formationMs: lastPlan === null ? null : lastPlan - spawned.lastMs,
    fromLastStartEventMs: lastPlan === null || lastStart === null ? null : lastPlan - lastStart,
    bootMs: lastStart === null ? null : lastStart - spawned.lastMs,
    falseDeaths: perHost.reduce((sum, entry) => sum + entry.deaths, 0),
    loadAtStart: spawned.load
  }
}

/** Pearson's correlation coefficient of two equally long series (NaN if either is constant). */
function correlation (xs: readonly number[], ys: readonly number[]): number {
  const mean = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length
  const mx = mean(xs)
  const my = mean(ys)
  let sxy = 0
  let sxx = 0
  let syy = 0
  for (const [index, x] of xs.entries()) {
    const y = ys[index] ?? my
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
    syy += (y - my) ** 2
  }
  return sxy / Math.sqrt(sxx * syy)
}

function summaryOf (runs: readonly RunResult[], pick: (run: RunResult) => number | null): Summary {
  return summarize(runs.map(pick).filter((value): value is number => value !== null))
}

const latencyReason = latencySkipReason()
const latencies = [0, ...(latencyReason === undefined ? EMULATED_LATENCIES_MS : [])]
const runs: RunResult[] = []
for (const latencyMs of latencies) {
  for (const n of SIZES) {
    for (let run = 1; run <= RUNS; run++) {
      const result = await formOnce(n, latencyMs, run)
      runs.push(result)
      process.stdout.write(`${latencyLabel(latencyMs)}, ${n} hosts, run ${run}: ${result.formationMs === null ? `failed (${result.error ?? 'no plan'})` : `${(result.formationMs / 1000).toFixed(2)} s`}\n`)
    }
  }
}

interface Group { readonly latencyMs: number, readonly n: number, readonly runs: readonly RunResult[], readonly formation: Summary }

const groups: Group[] = []
for (const latencyMs of [0, ...EMULATED_LATENCIES_MS]) {
  for (const n of SIZES) {
    const mine = runs.filter(run => run.latencyMs === latencyMs && run.n === n)
    groups.push({ latencyMs, n, runs: mine, formation: summaryOf(mine, run => run.formationMs) })
  }
}

const columns = ['link latency', 'hosts', 'runs', 'failed', 'formation (median, p10–p90)', 'after last start event', 'boot of last host', 'false deaths', 'machine load']
const rows: Array<Record<string, Cell>> = groups.map((group) => {
  const measured = group.runs.length > 0
  return {
    'link latency': latencyLabel(group.latencyMs),
    hosts: group.n,
    runs: group.runs.length,
    failed: measured ? group.runs.filter(run => !run.ok).length : null,
    'formation (median, p10–p90)': measured ? formatSeconds(group.formation) : 'not measured (netem unavailable)',
    'after last start event': measured ? formatSeconds(summaryOf(group.runs, run => run.fromLastStartEventMs)) : null,
    'boot of last host': measured ? formatSeconds(summaryOf(group.runs, run => run.bootMs)) : null,
    'false deaths': measured ? group.runs.reduce((sum, run) => sum + run.falseDeaths, 0) : null,
    'machine load': measured && group.runs.some(run => Number.isFinite(run.loadAtStart)) ? summarize(group.runs.map(run => run.loadAtStart).filter(Number.isFinite)).median : null
  }
})

const largest = Math.max(...SIZES)
const targets: TargetCheck[] = [0, ...EMULATED_LATENCIES_MS].map((latencyMs) => {
  const group = groups.find(candidate => candidate.latencyMs === latencyMs && candidate.n === largest)
  const what = `formation of ${largest} netns hosts, ${latencyLabel(latencyMs)} link latency (L1)`
  const target = 'a plan committed on every host in every run, within a measured bound'
  if (group === undefined || group.runs.length === 0) {
    return { what, target, measured: 'not measured', met: null, note: latencyReason ?? 'no runs' }
  }
  const failed = group.runs.filter(run => !run.ok).length
  return {
    what,
    target,
    measured: `${formatSeconds(group.formation)}; ${failed} of ${group.runs.length} runs failed`,
    met: failed === 0,
    ...(failed === 0 ? {} : { note: `failed runs: ${group.runs.filter(run => !run.ok).map(run => run.error ?? 'no plan').join('; ')}` })
  }
})

const notes: string[] = [
  'Headline numbers use the lan timing profile (gather 3 s, ballot 1 s): what a LAN user gets.',
  `"machine load" is the median 1-minute load average when a run's agents started, on ${cpus().length} cores; it lags, so it includes the agents of this benchmark's previous run as well as other work on the machine. All ${largest} agents of a run share this machine's ${cpus().length} cores, so process boot and the libp2p handshakes compete for CPU; on real hosts each boots on its own CPU, so the larger fleets here are an upper bound. "boot of last host" is the spawn-to-\`start\`-event time of the slowest host; "after last start event" is the formation without it.`
]
if (latencyReason !== undefined) {
  notes.push(`Link latency not emulated (0 ms added, netem unavailable): ${latencyReason}. The 1 ms and 50 ms rows run automatically on a kernel with sch_netem.`)
} else {
  notes.push(`With 50 ms one-way (100 ms RTT) the lan profile's probeTimeoutMs (${lanProfile().probeTimeoutMs} ms) covers a round trip with room to spare; false deaths, if any, are counted in the table.`)
}
const falseDeaths = runs.reduce((sum, run) => sum + run.falseDeaths, 0)
if (falseDeaths > 0) {
  const lan = lanProfile()
  notes.push(`${falseDeaths} false deaths in ${runs.filter(run => run.falseDeaths > 0).length} of ${runs.length} runs: a running host declared dead by another during the formation. A probe is failed when no ack (direct or through ${lan.indirectProbes} helpers) arrives within the ${lan.probeIntervalMs} ms probe period, and the suspicion expires after ${lan.suspicionTimeoutMs} ms unless the suspect refutes it; with every agent booting libp2p on shared cores at once, event loops stall for longer than that.`)
}
const largestRuns = runs.filter(run => run.n === largest && run.fromLastStartEventMs !== null)
if (largestRuns.length >= 3 && largestRuns.some(run => run.falseDeaths > 0)) {
  const r = correlation(largestRuns.map(run => run.falseDeaths), largestRuns.map(run => run.fromLastStartEventMs ?? 0))
  notes.push(`At ${largest} hosts, false deaths per run (median ${summarize(largestRuns.map(run => run.falseDeaths)).median}) and the time after the last start event go together (Pearson r = ${r.toFixed(2)} over ${largestRuns.length} runs): each death and refutation changes the live set that the preferred proposer and the quorum are computed from. SWIM's timings in the lan profile assume each node answers within its probe period; Lifeguard's local health awareness (stretching a node's own timeouts while it is slow) is the usual remedy and is not implemented.`)
}
const slowest = runs.filter(run => run.ok).sort((a, b) => (b.formationMs ?? 0) - (a.formationMs ?? 0))[0]
if (slowest !== undefined && slowest.formationMs !== null) {
  notes.push(`Slowest run: ${latencyLabel(slowest.latencyMs)}, ${slowest.n} hosts, ${(slowest.formationMs / 1000).toFixed(2)} s.`)
}

const measuredGroups = groups.filter(group => group.runs.some(run => run.ok))
const plot: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: 'Formation on netns hosts (lan profile)',
  width: 420,
  height: 260,
  layer: [
    {
      data: { values: runs.filter(run => run.formationMs !== null).map(run => ({ hosts: run.n, seconds: (run.formationMs ?? 0) / 1000, latency: latencyLabel(run.latencyMs) })) },
      mark: { type: 'point', opacity: 0.45 },
      encoding: {
        x: { field: 'hosts', type: 'quantitative', title: 'hosts', axis: { values: SIZES, format: 'd' }, scale: { domain: [0, largest + 1] } },
        y: { field: 'seconds', type: 'quantitative', title: 'last start to plan on every host, s' },
        color: { field: 'latency', type: 'nominal', title: 'link latency' }
      }
    },
    {
      data: { values: measuredGroups.map(group => ({ hosts: group.n, latency: latencyLabel(group.latencyMs), median: group.formation.median / 1000, p10: group.formation.p10 / 1000, p90: group.formation.p90 / 1000 })) },
      layer: [
        { mark: { type: 'line', point: true }, encoding: { x: { field: 'hosts', type: 'quantitative' }, y: { field: 'median', type: 'quantitative' }, color: { field: 'latency', type: 'nominal' } } },
        { mark: { type: 'rule', strokeWidth: 2 }, encoding: { x: { field: 'hosts', type: 'quantitative' }, y: { field: 'p10', type: 'quantitative' }, y2: { field: 'p90' }, color: { field: 'latency', type: 'nominal' } } }
      ]
    }
  ]
}

await writeReport({
  name: 'formation-netns',
  title: 'Formation on real networks (netns hosts)',
  method: `${SIZES.join(', ')} test hosts, each a network namespace on one bridge running the real p2p-bootstrap binary (--profile lan --dry-run, mDNS and DHT on, token with expect = N and 3 control planes), all started at once; time from spawning the last agent until every host printed its "plan" event (agent clocks, same machine). ${RUNS} runs per size and latency, each a fresh lab and fresh state. Latency: tc netem delay on every host's eth0 (one-way; RTT is twice it). Plot: each run a point, the median a line, p10–p90 a bar${latencyReason === undefined ? '' : ', unavailable on this kernel, so only 0 ms added was measured'}.`,
  columns,
  rows,
  targets,
  notes,
  raw: { latencyReason: latencyReason ?? null, runs },
  quick
}, plot)
