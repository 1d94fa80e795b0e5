// Idle cost of a formed cluster, per node: CPU (share of one core) and bytes sent per second, over
// a 60-s window (quick: 15 s) that starts once anti-entropy has backed off to its steady rhythm
// after the last node applied the plan. N = 5, 10, 25 real
// node processes on loopback (lan profile, three static peers each), four ways in the same run:
// ours as users run it (`p2p-bootstrap run`, no mDNS), the same with mDNS on at lan's intervals
// (the default on a LAN), ours through the one-bootstrapper script, and the naive baseline through
// that script (lib/baseline.ts). Everything is read from the kernel: CPU from /proc/<pid>/stat,
// TCP bytes per process from `ss` socket counters, and every byte on the loopback interface of the
// benchmark's own network namespace (TCP with headers, ACKs and mDNS multicast) from /proc/net/dev;
// the nodes' own sync-protocol byte counters come from their metrics listeners. mDNS fleets (ours
// with mDNS, the naive baseline) run only inside the namespace `npm run bench` makes.
import { cpus } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TopLevelSpec } from 'vega-lite'
import { lanProfile } from '@p2p-bootstrap/core'
import type { TimingProfile } from '@p2p-bootstrap/core'
import { isolatedNetns } from '../test/helpers/netns.js'
import { NAIVE_METHOD, naiveFleet, oursCliFleet, oursScriptFleet } from './lib/baseline.js'
import { readProfile } from './lib/cpu-profile.js'
import type { ProfileSummary } from './lib/cpu-profile.js'
import { LoopbackFleet, checkBuilt, makeTempDir, removeTempDir } from './lib/loopback-fleet.js'
import type { FleetOptions } from './lib/loopback-fleet.js'
import { cpuSeconds, loopbackSent, scrapeMetrics, tcpSentBetween, tcpSockets } from './lib/node-cost.js'
import { isQuick, writeReport } from './lib/report.js'
import type { Cell, TargetCheck } from './lib/report.js'
import { summarize } from './lib/stats.js'

const quick = isQuick()
const SIZES = quick ? [5, 10] : [5, 10, 25]
const WINDOW_MS = quick ? 15_000 : 60_000
const PROFILE = 'lan'

/**
 * From a node's last ledger change until its anti-entropy waits the steady maximum: the next round
 * (within one base interval), one more base interval, then doubling waits (see the core's
 * anti-entropy rhythm). Measured from before that, the window would see the back-off, not the steady state.
 */
function steadyRampMs (profile: TimingProfile): number {
  let total = profile.antiEntropyIntervalMs
  let wait = profile.antiEntropyIntervalMs
  while (wait > 0 && wait < profile.antiEntropySteadyMaxMs) {
    total += wait
    wait = Math.min(profile.antiEntropySteadyMaxMs, wait * 2)
  }
  return total
}
/** After every node applied the plan (its last entries are its status): the back-off, then 10 s more. */
const SETTLE_MS = steadyRampMs(lanProfile()) + 10_000
/** The naive baseline and ours with mDNS multicast: only inside the benchmark's own namespace. */
const NETNS = isolatedNetns()
/** Nodes started at once: the steady state is measured, not a start-up storm on 2 cores (see the fleet). */
const START_BATCH = 5
const START_TIMEOUT_MS = 60_000
/** Link (14), IPv4 (20) and TCP with timestamps (32) header bytes of one loopback packet. */
const HEADER_BYTES_PER_PACKET = 66
const CPU_TARGET_PERCENT = 0.5
const BYTES_TARGET_PER_SECOND = 2_000
const SYNC_SENT_METRIC = 'p2pb_sync_sent_bytes_total'
const RECEIVED_METRIC = 'p2pb_received_messages_total'
/** One extra run profiles one idle node (node --cpu-prof) to say where its CPU goes. */
const PROFILED_SIZE = quick ? 5 : 10
const PROFILE_WINDOW_MS = quick ? 10_000 : 30_000

type VariantKey = 'ours-cli' | 'ours-cli-mdns' | 'ours-script' | 'naive'
interface Variant {
  readonly key: VariantKey
  readonly label: string
  readonly fleet: (size: number) => FleetOptions
}

const ALL_VARIANTS: readonly Variant[] = [
  { key: 'ours-cli', label: 'ours (run)', fleet: size => ({ ...oursCliFleet(size, PROFILE), metrics: true }) },
  { key: 'ours-cli-mdns', label: 'ours (run, mDNS on)', fleet: size => ({ ...oursCliFleet(size, PROFILE), mdns: true, metrics: true }) },
  { key: 'ours-script', label: 'ours (script)', fleet: size => ({ ...oursScriptFleet(size, PROFILE), metrics: true }) },
  { key: 'naive', label: 'naive baseline', fleet: size => ({ ...naiveFleet(size, PROFILE), metrics: true }) }
]
const VARIANTS = ALL_VARIANTS.filter(variant => NETNS !== undefined || variant.fleet(1).mdns !== true)

interface NodeIdle {
  readonly cpuPercent: number
  readonly tcpBytesPerSecond: number
  readonly tcpSegmentsPerSecond: number
  readonly syncBytesPerSecond: number | null
  /** Core messages received per second (the node's own counter), in all and by kind (swim/ping, …). */
  readonly receivedPerSecond: number | null
  readonly receivedByKind: Readonly<Record<string, number>>
  readonly connections: number
}

interface IdleRun {
  readonly variant: VariantKey
  readonly size: number
  readonly formed: boolean
  readonly error?: string
  readonly windowMs: number
  /** Every byte sent on loopback in the window, divided by N: a node's mean share, all traffic. */
  readonly wireBytesPerSecondPerNode: number | null
  readonly wirePacketsPerSecondPerNode: number | null
  /** TCP sockets that closed inside the window (their last bytes are not in the per-process TCP figure). */
  readonly socketsClosed: number
  readonly socketsOpened: number
  readonly nodes: readonly NodeIdle[]
}

async function scrapeAll (fleet: LoopbackFleet): Promise<Array<Map<string, number> | null>> {
  return await Promise.all(fleet.nodes.map(async (node) => {
    if (node.metricsAddress === null) return null
    try {
      return await scrapeMetrics(node.metricsAddress)
    } catch {
      return null
    }
  }))
}

/** Per-second growth of one series between two scrapes, or null when either lacks it. */
function ratePerSecond (before: ReadonlyMap<string, number> | null | undefined, after: ReadonlyMap<string, number> | null | undefined, series: string, seconds: number): number | null {
  const first = before?.get(series)
  const last = after?.get(series)
  return first === undefined || last === undefined ? null : (last - first) / seconds
}

/** Messages received per second by kind (`swim/ping`, `ledger/digest`, …). */
function byKind (before: ReadonlyMap<string, number> | null | undefined, after: ReadonlyMap<string, number> | null | undefined, seconds: number): Record<string, number> {
  const rates: Record<string, number> = {}
  for (const [series, value] of after ?? []) {
    const kind = new RegExp(`^${RECEIVED_METRIC}\\{kind="([^"]+)"\\}$`).exec(series)?.[1]
    if (kind !== undefined) rates[kind] = (value - (before?.get(series) ?? 0)) / seconds
  }
  return rates
}

async function cpuOf (pids: ReadonlyArray<number | undefined>): Promise<Array<number | null>> {
  return await Promise.all(pids.map(async pid => pid === undefined ? null : await cpuSeconds(pid)))
}

async function idleOnce (variant: Variant, size: number): Promise<IdleRun> {
  const fleet = await LoopbackFleet.create(variant.fleet(size))
  try {
    try {
      await fleet.startInBatches(START_BATCH, { timeoutMs: START_TIMEOUT_MS })
      await fleet.waitFor('output applied on every node', current => current.everyHas('applied'), { timeoutMs: 60_000 + 3_000 * size })
    } catch (err) {
      return { variant: variant.key, size, formed: false, error: err instanceof Error ? err.message.slice(0, 400) : String(err), windowMs: 0, wireBytesPerSecondPerNode: null, wirePacketsPerSecondPerNode: null, socketsClosed: 0, socketsOpened: 0, nodes: [] }
    }
    await sleep(SETTLE_MS)
    const pids = fleet.nodes.map(node => fleet.pid(node.index))
    // Scrapes sit outside the window, so their own HTTP traffic and CPU are not counted.
    const scrapeBefore = await scrapeAll(fleet)
    const cpuBefore = await cpuOf(pids)
    const socketsBefore = await tcpSockets()
    const wireBefore = await loopbackSent()
    const startMs = performance.now()
    await sleep(WINDOW_MS)
    const wireAfter = await loopbackSent()
    const socketsAfter = await tcpSockets()
    const cpuAfter = await cpuOf(pids)
    const windowMs = performance.now() - startMs
    const scrapeAfter = await scrapeAll(fleet)
    const seconds = windowMs / 1000
    const tcp = tcpSentBetween(socketsBefore, socketsAfter)
    const connectionsByPid = new Map<number, number>()
    for (const socket of socketsAfter.values()) connectionsByPid.set(socket.pid, (connectionsByPid.get(socket.pid) ?? 0) + 1)
    const nodes = fleet.nodes.map((node, index): NodeIdle => {
      const pid = pids[index] ?? -1
      const before = scrapeBefore[index]
      const after = scrapeAfter[index]
      return {
        cpuPercent: 100 * ((cpuAfter[index] ?? 0) - (cpuBefore[index] ?? 0)) / seconds,
        tcpBytesPerSecond: (tcp.byPid.get(pid)?.bytes ?? 0) / seconds,
        tcpSegmentsPerSecond: (tcp.byPid.get(pid)?.segments ?? 0) / seconds,
        syncBytesPerSecond: ratePerSecond(before, after, SYNC_SENT_METRIC, seconds),
        receivedPerSecond: ratePerSecond(before, after, RECEIVED_METRIC, seconds),
        receivedByKind: byKind(before, after, seconds),
        // The metrics listener's keep-alive sockets are the harness's; count only overlay connections.
        connections: [...socketsAfter.entries()].filter(([key, socket]) => socket.pid === pid && !key.includes(`${node.metricsAddress ?? '-'}>`)).length
      }
    })
    return {
      variant: variant.key,
      size,
      formed: true,
      windowMs,
      wireBytesPerSecondPerNode: (wireAfter.bytes - wireBefore.bytes) / seconds / size,
      wirePacketsPerSecondPerNode: (wireAfter.packets - wireBefore.packets) / seconds / size,
      socketsClosed: tcp.closed,
      socketsOpened: tcp.opened,
      nodes
    }
  } finally {
    await fleet.stop()
  }
}

/** Where an idle node's CPU goes: node 0 of a formed fleet, profiled over a window that ends when it is told to stop. */
async function profiledIdle (): Promise<ProfileSummary | null> {
  const dir = await makeTempDir('p2pb-cpuprof-')
  try {
    const fleet = await LoopbackFleet.create({ ...oursCliFleet(PROFILED_SIZE, PROFILE), cpuProfile: { node: 0, dir } })
    let stopMs = 0
    try {
      await fleet.startInBatches(START_BATCH, { timeoutMs: START_TIMEOUT_MS })
      await fleet.waitFor('output applied on every node', current => current.everyHas('applied'), { timeoutMs: 60_000 + 3_000 * PROFILED_SIZE })
      await sleep(SETTLE_MS + PROFILE_WINDOW_MS)
      const stopAt = performance.now()
      fleet.kill(0, 'SIGTERM')
      await fleet.exited(0)
      stopMs = performance.now() - stopAt
    } finally {
      await fleet.stop()
    }
    // The window ends where the stop began; the profile ends when the process exits.
    return await readProfile(dir, { fromEndMs: stopMs + PROFILE_WINDOW_MS, toEndMs: stopMs })
  } catch (err) {
    process.stderr.write(`profiled idle run failed: ${err instanceof Error ? err.message : String(err)}\n`)
    return null
  } finally {
    await removeTempDir(dir)
  }
}

const buildWarning = checkBuilt()
if (buildWarning !== null) process.stderr.write(`warning: ${buildWarning}\n`)
const startedMs = Date.now()
const runs: IdleRun[] = []
for (const size of SIZES) {
  for (const variant of VARIANTS) {
    const run = await idleOnce(variant, size)
    runs.push(run)
    const cpu = summarize(run.nodes.map(node => node.cpuPercent))
    process.stderr.write(`N=${size} ${variant.key}: ${run.formed ? `cpu ${cpu.median.toFixed(2)} % (max ${cpu.max.toFixed(2)}), wire ${(run.wireBytesPerSecondPerNode ?? 0).toFixed(0)} B/s per node` : `not formed: ${run.error ?? ''}`}\n`)
  }
}

const profiled = await profiledIdle()

/** The median of the values present, rounded to a tenth; null when none is. */
function medianOf (values: ReadonlyArray<number | null>): number | null {
  const present = values.filter((value): value is number => value !== null)
  return present.length === 0 ? null : Math.round(10 * summarize(present).median) / 10
}

/** "swim/ping 4.0, ledger/digest 0.5, …": messages received per second per node by kind, mean over nodes. */
function kindsOf (run: IdleRun | undefined): string {
  if (run === undefined || !run.formed || run.nodes.length === 0) return 'n/a'
  const sums = new Map<string, number>()
  for (const node of run.nodes) for (const [kind, rate] of Object.entries(node.receivedByKind)) sums.set(kind, (sums.get(kind) ?? 0) + rate)
  const rates = [...sums.entries()].map(([kind, sum]) => [kind, sum / run.nodes.length] as const).filter(([, rate]) => rate >= 0.05).sort((a, b) => b[1] - a[1])
  return rates.length === 0 ? 'none' : rates.map(([kind, rate]) => `${kind} ${rate.toFixed(1)}`).join(', ')
}

const round = (value: number, digits = 2): number => Math.round(value * 10 ** digits) / 10 ** digits
const runOf = (key: VariantKey, size: number): IdleRun | undefined => runs.find(run => run.variant === key && run.size === size)
const cpuMedian = (run: IdleRun | undefined): number | null => run === undefined || !run.formed ? null : summarize(run.nodes.map(node => node.cpuPercent)).median
const ratio = (ours: number | null | undefined, naive: number | null | undefined): number | null =>
  ours === null || ours === undefined || naive === null || naive === undefined || naive === 0 ? null : round(ours / naive, 3)

const columns = ['N', 'variant', 'CPU % of a core (median, max)', 'sent B/s per node, all traffic', 'TCP payload B/s (median, max)', 'sync payload B/s (median)', 'messages in/s (median)', 'connections (median)', 'ours / naive CPU', 'ours / naive bytes']
const rows: Array<Record<string, Cell>> = []
for (const size of SIZES) {
  const naive = runOf('naive', size)
  for (const variant of VARIANTS) {
    const run = runOf(variant.key, size)
    if (run === undefined) continue
    if (!run.formed) {
      rows.push({ N: size, variant: variant.label, 'CPU % of a core (median, max)': 'did not form', 'ours / naive CPU': null })
      continue
    }
    const cpu = summarize(run.nodes.map(node => node.cpuPercent))
    const tcp = summarize(run.nodes.map(node => node.tcpBytesPerSecond))
    const sync = summarize(run.nodes.map(node => node.syncBytesPerSecond).filter((value): value is number => value !== null))
    const isOurs = variant.key !== 'naive'
    rows.push({
      N: size,
      variant: variant.label,
      'CPU % of a core (median, max)': `${cpu.median.toFixed(2)} (${cpu.max.toFixed(2)})`,
      'sent B/s per node, all traffic': Math.round(run.wireBytesPerSecondPerNode ?? 0),
      'TCP payload B/s (median, max)': `${Math.round(tcp.median)} (${Math.round(tcp.max)})`,
      'sync payload B/s (median)': sync.n === 0 ? null : Math.round(sync.median),
      'messages in/s (median)': medianOf(run.nodes.map(node => node.receivedPerSecond)),
      'connections (median)': summarize(run.nodes.map(node => node.connections)).median,
      'ours / naive CPU': isOurs ? ratio(cpuMedian(run), cpuMedian(naive)) : null,
      'ours / naive bytes': isOurs ? ratio(run.wireBytesPerSecondPerNode, naive?.formed === true ? naive.wireBytesPerSecondPerNode : null) : null
    })
  }
}

/**
 * The issue's two targets for one variant, at its worst N (the median node of each run). Ours as
 * users run it, and ours with mDNS on: what a LAN user gets (only inside the namespace).
 */
function idleTargets (key: VariantKey, label: string): TargetCheck[] {
  const cpuWhat = `idle CPU per node (${label}; median node, worst N)`
  const bytesWhat = `idle bytes sent per node (${label}; all loopback traffic ÷ N, worst N)`
  const cpuTarget = `≤ ${CPU_TARGET_PERCENT} % of a core`
  const bytesTarget = `≤ ${BYTES_TARGET_PER_SECOND / 1000} KB/s`
  if (!VARIANTS.some(variant => variant.key === key)) {
    const note = 'needs the isolated network namespace of `npm run bench` (run as root): mDNS must not leave the machine'
    return [{ what: cpuWhat, target: cpuTarget, measured: 'not run', met: null, note }, { what: bytesWhat, target: bytesTarget, measured: 'not run', met: null, note }]
  }
  const variantRuns = SIZES.map(size => runOf(key, size)).filter((run): run is IdleRun => run !== undefined)
  const formed = variantRuns.filter(run => run.formed)
  if (formed.length === 0 || formed.length !== variantRuns.length) {
    const note = 'a fleet did not form'
    return [{ what: cpuWhat, target: cpuTarget, measured: 'not measured', met: null, note }, { what: bytesWhat, target: bytesTarget, measured: 'not measured', met: null, note }]
  }
  const worstCpu = formed.reduce((worst, run) => (cpuMedian(run) ?? 0) > (cpuMedian(worst) ?? 0) ? run : worst)
  const worstBytes = formed.reduce((worst, run) => (run.wireBytesPerSecondPerNode ?? 0) > (worst.wireBytesPerSecondPerNode ?? 0) ? run : worst)
  return [
    { what: cpuWhat, target: cpuTarget, measured: `${(cpuMedian(worstCpu) ?? 0).toFixed(2)} % at N = ${worstCpu.size}`, met: (cpuMedian(worstCpu) ?? 0) <= CPU_TARGET_PERCENT },
    { what: bytesWhat, target: bytesTarget, measured: `${Math.round(worstBytes.wireBytesPerSecondPerNode ?? 0)} B/s at N = ${worstBytes.size}`, met: (worstBytes.wireBytesPerSecondPerNode ?? 0) <= BYTES_TARGET_PER_SECOND }
  ]
}
const targets: TargetCheck[] = [...idleTargets('ours-cli', 'ours, run'), ...idleTargets('ours-cli-mdns', 'ours, run, mDNS on')]

const closed = runs.reduce((sum, run) => sum + run.socketsClosed, 0)
const notes = [
  `CPU is user + system time from /proc/<pid>/stat over the window (${WINDOW_MS / 1000} s, from ${SETTLE_MS / 1000} s after every node applied the plan), as a share of one core. This machine has ${cpus().length} cores; idle nodes barely contend, so per-node CPU time is close to what a node would use on its own host (the 10-ms tick of /proc limits the resolution to about ${(100 * 0.01 / (WINDOW_MS / 1000)).toFixed(3)} % of a core).`,
  '"sent B/s per node, all traffic" is every byte the loopback interface of the benchmark\'s private network namespace sent in the window (TCP payload, TCP/IP and link headers, ACKs, mDNS multicast), divided by N: nothing else runs in that namespace, and the harness reads no socket during the window. It is each node\'s mean share; the TCP columns are per process (ss socket counters, attributed by pid) and show the spread. "sync payload" is the nodes\' own p2pb_sync_sent_bytes_total: the ledger/membership/consensus protocol only, without libp2p pings, identify, yamux and noise framing.',
  `The naive baseline's cost is its design: every node answers every 1-s mDNS query (traffic O(N²) per host), dials everyone, and re-sends the whole ledger to every live peer every 10 s; ours sends membership probes (lan: one every ${lanProfile().probeIntervalMs} ms to one random member), pushes only new entries, and runs anti-entropy digests that back off, once the plan is held and nothing changes, from one every ${lanProfile().antiEntropyIntervalMs / 1000} s to one every ${lanProfile().antiEntropySteadyMaxMs / 1000} s (the naive baseline keeps the ${lanProfile().antiEntropyIntervalMs / 1000}-s rhythm). The window starts ${SETTLE_MS / 1000} s after every node applied the plan: the ${steadyRampMs(lanProfile()) / 1000} s the back-off takes to reach its steady rhythm, and 10 s more.`,
  ...(NETNS === undefined ? ['No isolated network namespace (run through `npm run bench` as root to get one): ours with mDNS and the naive baseline were not run, so their rows, targets and ratios are missing.'] : []),
  `${closed === 0 ? 'No TCP socket closed during any window, so the per-process TCP figures are exact.' : `${closed} TCP socket(s) closed inside the windows (over all runs); their last bytes are missing from the per-process TCP figures, not from the all-traffic figure.`}`,
  ...[runOf('ours-cli', SIZES.at(-1) ?? 0)].flatMap((run) => {
    if (run === undefined || !run.formed || run.wirePacketsPerSecondPerNode === null || run.wireBytesPerSecondPerNode === null) return []
    const headerShare = HEADER_BYTES_PER_PACKET * run.wirePacketsPerSecondPerNode / run.wireBytesPerSecondPerNode
    return [`At N = ${run.size}, each node (ours, run) sent ${run.wirePacketsPerSecondPerNode.toFixed(1)} packets/s on average; at ${HEADER_BYTES_PER_PACKET} bytes of link, IP and TCP headers each, headers are about ${Math.round(100 * headerShare)} % of the all-traffic figure. Most messages are small and travel alone in a segment (SWIM probes ${lanProfile().probeIntervalMs} ms apart, each with its ack), so the rate of messages, not their size, sets the bytes.`]
  }),
  `Core messages each node received per second, by kind (mean over nodes, at N = ${SIZES.at(-1) ?? 0}): ours (run): ${kindsOf(runOf('ours-cli', SIZES.at(-1) ?? 0))}; naive: ${kindsOf(runOf('naive', SIZES.at(-1) ?? 0))}.`,
  ...(profiled === null
    ? ['The CPU profile of an idle node could not be read.']
    : [`Where an idle node's CPU goes: node 0 of a formed ${PROFILED_SIZE}-node fleet (p2p-bootstrap run) under node --cpu-prof, over ${PROFILE_WINDOW_MS / 1000} s of idle: busy ${profiled.busyMs} ms (${(100 * profiled.busyMs / PROFILE_WINDOW_MS).toFixed(2)} % of a core, profiler included); self time by package: ${profiled.top.map(share => `${share.where} ${Math.round(100 * share.share)} %`).join(', ')}.`]),
  `The whole benchmark took ${((Date.now() - startedMs) / 60_000).toFixed(1)} minutes.`,
  ...(buildWarning === null ? [] : [`Warning: ${buildWarning}.`])
]

const points = runs.filter(run => run.formed).flatMap((run) => {
  const label = VARIANTS.find(variant => variant.key === run.variant)?.label ?? run.variant
  return [
    { variant: label, N: run.size, metric: 'CPU % of one core per node (median)', value: Math.max(cpuMedian(run) ?? 0, 0.001) },
    { variant: label, N: run.size, metric: 'bytes/s sent per node (all traffic)', value: Math.max(run.wireBytesPerSecondPerNode ?? 0, 1) }
  ]
})
const targetLines = [
  { metric: 'CPU % of one core per node (median)', value: CPU_TARGET_PERCENT },
  { metric: 'bytes/s sent per node (all traffic)', value: BYTES_TARGET_PER_SECOND }
]
const plot: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: 'Idle cost per node after formation (loopback, lan)', subtitle: `${WINDOW_MS / 1000}-s window; dashed: target; log scale` },
  hconcat: ['CPU % of one core per node (median)', 'bytes/s sent per node (all traffic)'].map(metric => ({
    width: 300,
    height: 260,
    title: metric,
    layer: [
      {
        data: { values: points.filter(point => point.metric === metric) },
        mark: { type: 'line', point: true },
        encoding: {
          x: { field: 'N', type: 'quantitative', title: 'node processes (N)' },
          y: { field: 'value', type: 'quantitative', scale: { type: 'log' }, title: metric },
          color: { field: 'variant', type: 'nominal', title: null, legend: { labelLimit: 320 } }
        }
      },
      {
        data: { values: targetLines.filter(line => line.metric === metric) },
        mark: { type: 'rule', strokeDash: [6, 4], color: 'black' },
        encoding: { y: { field: 'value', type: 'quantitative' } }
      }
    ]
  }))
}

await writeReport({
  name: 'idle',
  title: 'Idle CPU and bandwidth per node (loopback processes)',
  method: `N real node processes on one host (own loopback address each, 3 static peers, lan profile, expect = N, metrics listener on), started ${START_BATCH} at a time (each batch once the previous one is up), formed, then left idle; CPU from /proc, bytes from the loopback interface of a private network namespace and from ss per process, over ${WINDOW_MS / 1000} s. ${NAIVE_METHOD}. One run per point.`,
  columns,
  rows,
  targets,
  notes,
  raw: { sizes: SIZES, windowMs: WINDOW_MS, settleMs: SETTLE_MS, profile: PROFILE, runs, profiledIdle: profiled },
  quick
}, plot)
