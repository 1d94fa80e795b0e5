// Memory per node: the resident set (VmRSS from /proc/<pid>/status) of every node process of a
// formed 5-node fleet (loopback, lan profile, three static peers each), sampled from 10 s after the
// plan was applied everywhere until 10 minutes later (`--minutes N`: N; quick: 1 minute). Three fleets run side by
// side (separate tokens and addresses, so they never talk): ours as users run it
// (`p2p-bootstrap run`), the same with V8's young generation capped (`node
// --max-semi-space-size=1`, a flag a unit file can set), and the naive baseline. RSS alone cannot
// tell a leak from garbage not yet collected, so node 0 of each fleet runs with the V8 inspector
// open and its live heap is read after a forced full GC every minute (lib/heap-probe.ts); the RSS
// figures are of the other, untouched nodes. Floors are measured first: an empty Node process, and
// one that has only loaded the CLI's modules.
import { spawn } from 'node:child_process'
import { cpus } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import type { TopLevelSpec } from 'vega-lite'
import { NAIVE_METHOD, naiveFleet, oursCliFleet } from './lib/baseline.js'
import { liveHeapAfterGc } from './lib/heap-probe.js'
import { LoopbackFleet, checkBuilt } from './lib/loopback-fleet.js'
import type { FleetOptions } from './lib/loopback-fleet.js'
import { rssBytes } from './lib/node-cost.js'
import { isQuick, writeReport } from './lib/report.js'
import type { Cell, TargetCheck } from './lib/report.js'
import { summarize } from './lib/stats.js'

const quick = isQuick()
const SIZE = 5
/** `--minutes N` sets the idle time (default 10; 60 for the "no growth over an hour"). */
const DURATION_MS = quick ? 60_000 : minutesFlag() * 60_000
const SAMPLE_MS = quick ? 5_000 : DURATION_MS > 1_800_000 ? 30_000 : 10_000
/** Live-heap probes of node 0: each forces two full GCs there, so not too often. */
const PROBE_EVERY_SAMPLES = quick ? 3 : 6
const SETTLE_MS = 10_000
const PROFILE = 'lan'
const RSS_TARGET_MB = 70
/** "No growth": the live heap after a full GC ends within this of where it started. */
const GROWTH_TOLERANCE_MB = 1
/** Samples averaged at each end of the RSS series, so one GC cycle does not decide its growth. */
const END_SAMPLES = 3
const PROBED_NODE = 0
const MB = 2 ** 20
const CLI_MAIN = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'cli', 'dist', 'main.js')

function minutesFlag (): number {
  const index = process.argv.indexOf('--minutes')
  if (index === -1) return 10
  const minutes = Number(process.argv[index + 1])
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 24 * 60) throw new Error('--minutes takes a whole number of minutes from 1 to 1440')
  return minutes
}

type VariantKey = 'ours-cli' | 'ours-cli-semi' | 'naive'
interface Variant {
  readonly key: VariantKey
  readonly label: string
  readonly fleet: FleetOptions
}

const probed = { inspect: [PROBED_NODE] }
const VARIANTS: readonly Variant[] = [
  { key: 'ours-cli', label: 'ours (run)', fleet: { ...oursCliFleet(SIZE, PROFILE), subnet: 10, ...probed } },
  { key: 'ours-cli-semi', label: 'ours (run, --max-semi-space-size=1)', fleet: { ...oursCliFleet(SIZE, PROFILE), subnet: 11, nodeArgs: ['--max-semi-space-size=1'], ...probed } },
  { key: 'naive', label: 'naive baseline', fleet: { ...naiveFleet(SIZE, PROFILE), subnet: 12, ...probed } }
]

interface Sample {
  readonly variant: VariantKey
  readonly node: number
  /** Seconds since the first sample. */
  readonly seconds: number
  readonly rssMB: number
}

interface HeapProbe {
  readonly variant: VariantKey
  readonly seconds: number
  readonly liveHeapMB: number
}

/** RSS of a Node process that runs `code` and idles: the floor every node pays before any work. */
async function floorMB (code: string, nodeArgs: readonly string[] = []): Promise<number> {
  const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', `${code}; process.stdout.write('ready\\n'); setInterval(() => {}, 60_000)`], { stdio: ['ignore', 'pipe', 'inherit'] })
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.setEncoding('utf8').on('data', (text: string) => { if (text.includes('ready')) resolve() })
      child.once('exit', (status) => { reject(new Error(`floor process exited (${String(status)}) before it was ready`)) })
    })
    // Let start-up garbage be collected or settle before reading.
    await sleep(2_000)
    return ((child.pid === undefined ? null : await rssBytes(child.pid)) ?? Number.NaN) / MB
  } finally {
    child.kill('SIGKILL')
  }
}

async function sampleRss (fleets: ReadonlyMap<VariantKey, LoopbackFleet>, seconds: number): Promise<Sample[]> {
  const samples: Sample[] = []
  for (const [variant, fleet] of fleets) {
    for (const node of fleet.nodes) {
      if (node.index === PROBED_NODE) continue
      const pid = fleet.pid(node.index)
      const rss = pid === undefined ? null : await rssBytes(pid)
      if (rss !== null) samples.push({ variant, node: node.index, seconds, rssMB: rss / MB })
    }
  }
  return samples
}

async function probeHeaps (fleets: ReadonlyMap<VariantKey, LoopbackFleet>, seconds: number): Promise<HeapProbe[]> {
  const probes: HeapProbe[] = []
  for (const [variant, fleet] of fleets) {
    const address = fleet.nodes[PROBED_NODE]?.inspectAddress ?? null
    if (address === null || fleet.pid(PROBED_NODE) === undefined) continue
    try {
      probes.push({ variant, seconds, liveHeapMB: (await liveHeapAfterGc(address)).usedBytes / MB })
    } catch (err) {
      process.stderr.write(`heap probe of ${variant} failed: ${err instanceof Error ? err.message : String(err)}\n`)
    }
  }
  return probes
}

const buildWarning = checkBuilt()
if (buildWarning !== null) process.stderr.write(`warning: ${buildWarning}\n`)
const floors = {
  emptyMB: await floorMB('void 0'),
  cliModulesMB: await floorMB(`await import(${JSON.stringify(CLI_MAIN)})`),
  cliModulesSemiMB: await floorMB(`await import(${JSON.stringify(CLI_MAIN)})`, ['--max-semi-space-size=1'])
}
const samples: Sample[] = []
const heaps: HeapProbe[] = []
const fleets = new Map<VariantKey, LoopbackFleet>()
const formed = new Map<VariantKey, boolean>()
try {
  for (const variant of VARIANTS) fleets.set(variant.key, await LoopbackFleet.create(variant.fleet))
  // One fleet at a time: 15 start-ups at once would only slow formation on this small machine.
  const started = new Map<VariantKey, Promise<void>>()
  for (const [key, fleet] of fleets) {
    const start = fleet.startInBatches(SIZE, { timeoutMs: 60_000 })
    started.set(key, start)
    await start.catch(() => {})
  }
  await Promise.all([...fleets.entries()].map(async ([key, fleet]) => {
    try {
      await started.get(key)
      await fleet.waitFor('output applied on every node', current => current.everyHas('applied'), { timeoutMs: 120_000 })
      formed.set(key, true)
    } catch (err) {
      formed.set(key, false)
      process.stderr.write(`${key} did not form: ${err instanceof Error ? err.message : String(err)}\n`)
    }
  }))
  await sleep(SETTLE_MS)
  const startMs = performance.now()
  for (let next = 0, count = 0; ; next += SAMPLE_MS, count++) {
    // Sampling keeps to a fixed schedule, so a slow read does not stretch the window.
    await sleep(Math.max(0, next - (performance.now() - startMs)))
    samples.push(...await sampleRss(fleets, next / 1000))
    if (count % PROBE_EVERY_SAMPLES === 0 || next >= DURATION_MS) heaps.push(...await probeHeaps(fleets, next / 1000))
    if (next >= DURATION_MS) break
    if (next % 60_000 === 0) process.stderr.write(`memory: ${next / 60_000} min of ${DURATION_MS / 60_000}\n`)
  }
} finally {
  await Promise.all([...fleets.values()].map(async fleet => { await fleet.stop() }))
}

interface NodeMemory {
  readonly variant: VariantKey
  readonly node: number
  readonly afterFormationMB: number
  readonly afterIdleMB: number
  /** Mean of the last samples minus mean of the first ones. */
  readonly growthMB: number
  readonly peakMB: number
  /** Least-squares slope over the second half of the window, MB per hour. */
  readonly lateSlopeMBPerHour: number
}

const meanOf = (values: readonly number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length

/** Least-squares slope of y over x. */
function slope (points: ReadonlyArray<readonly [number, number]>): number {
  const meanX = meanOf(points.map(([x]) => x))
  const meanY = meanOf(points.map(([, y]) => y))
  const covariance = points.reduce((sum, [x, y]) => sum + (x - meanX) * (y - meanY), 0)
  const variance = points.reduce((sum, [x]) => sum + (x - meanX) ** 2, 0)
  return variance === 0 ? 0 : covariance / variance
}

const perNode: NodeMemory[] = VARIANTS.flatMap(variant => [...Array(SIZE).keys()].flatMap((node) => {
  const own = samples.filter(sample => sample.variant === variant.key && sample.node === node).sort((a, b) => a.seconds - b.seconds)
  if (own.length < 2 * END_SAMPLES) return []
  const late = own.filter(sample => sample.seconds >= DURATION_MS / 2000)
  return [{
    variant: variant.key,
    node,
    afterFormationMB: own[0]?.rssMB ?? Number.NaN,
    afterIdleMB: own.at(-1)?.rssMB ?? Number.NaN,
    growthMB: meanOf(own.slice(-END_SAMPLES).map(sample => sample.rssMB)) - meanOf(own.slice(0, END_SAMPLES).map(sample => sample.rssMB)),
    peakMB: Math.max(...own.map(sample => sample.rssMB)),
    lateSlopeMBPerHour: 3600 * slope(late.map(sample => [sample.seconds, sample.rssMB] as const))
  }]
}))

/** The probed node's live heap after a full GC: first and last probe. */
function heapEnds (variant: VariantKey): { first: number, last: number } | null {
  const own = heaps.filter(probe => probe.variant === variant).sort((a, b) => a.seconds - b.seconds)
  const first = own[0]
  const last = own.at(-1)
  return first === undefined || last === undefined || own.length < 2 ? null : { first: first.liveHeapMB, last: last.liveHeapMB }
}

const minutes = DURATION_MS / 60_000
const mb = (value: number): string => value.toFixed(1)
const signed = (value: number): string => `${value >= 0 ? '+' : ''}${mb(value)}`
const columns = ['process', 'nodes', 'RSS after formation, MB (median, max)', `RSS after ${minutes} min idle, MB (median, max)`, 'RSS growth, MB (median, max)', 'RSS trend, last half, MB/h (median)', `live heap after full GC, MB (start → end, node ${PROBED_NODE})`]
const rows: Array<Record<string, Cell>> = [
  { process: 'floor: empty Node process', nodes: 1, 'RSS after formation, MB (median, max)': mb(floors.emptyMB) },
  { process: 'floor: Node + the CLI\'s modules loaded, nothing started', nodes: 1, 'RSS after formation, MB (median, max)': mb(floors.cliModulesMB) },
  { process: 'floor: the same, --max-semi-space-size=1', nodes: 1, 'RSS after formation, MB (median, max)': mb(floors.cliModulesSemiMB) }
]
for (const variant of VARIANTS) {
  const own = perNode.filter(node => node.variant === variant.key)
  if (own.length === 0) {
    rows.push({ process: variant.label, nodes: 0, 'RSS after formation, MB (median, max)': formed.get(variant.key) === false ? 'did not form' : 'no samples' })
    continue
  }
  const after = summarize(own.map(node => node.afterFormationMB))
  const idle = summarize(own.map(node => node.afterIdleMB))
  const growth = summarize(own.map(node => node.growthMB))
  const heap = heapEnds(variant.key)
  rows.push({
    process: variant.label,
    nodes: own.length,
    'RSS after formation, MB (median, max)': `${mb(after.median)} (${mb(after.max)})`,
    [`RSS after ${minutes} min idle, MB (median, max)`]: `${mb(idle.median)} (${mb(idle.max)})`,
    'RSS growth, MB (median, max)': `${signed(growth.median)} (${signed(growth.max)})`,
    'RSS trend, last half, MB/h (median)': signed(summarize(own.map(node => node.lateSlopeMBPerHour)).median),
    [`live heap after full GC, MB (start → end, node ${PROBED_NODE})`]: heap === null ? null : `${mb(heap.first)} → ${mb(heap.last)} (${signed(heap.last - heap.first)})`
  })
}

const ours = perNode.filter(node => node.variant === 'ours-cli')
const oursIdle = summarize(ours.map(node => node.afterIdleMB))
const oursAfter = summarize(ours.map(node => node.afterFormationMB))
const oursHeap = heapEnds('ours-cli')
const semi = perNode.filter(node => node.variant === 'ours-cli-semi')
const semiAfter = summarize(semi.map(node => node.afterFormationMB))
const semiIdle = summarize(semi.map(node => node.afterIdleMB))
const targets: TargetCheck[] = [
  ours.length === 0
    ? { what: 'RSS per node (ours, run)', target: `≤ ${RSS_TARGET_MB} MB`, measured: 'not measured', met: null, note: 'the fleet did not form' }
    : {
        what: `RSS per node, after formation and after ${minutes} min idle (ours, run; largest node)`,
        target: `≤ ${RSS_TARGET_MB} MB`,
        measured: `${mb(oursAfter.max)} MB after formation, ${mb(oursIdle.max)} MB after ${minutes} min`,
        met: Math.max(oursAfter.max, oursIdle.max) <= RSS_TARGET_MB,
        note: `an idle Node process with only the CLI's modules loaded already holds ${mb(floors.cliModulesMB)} MB`
      },
  oursHeap === null
    ? { what: 'no growth (ours, run)', target: 'none', measured: 'not measured', met: null, note: 'the heap probe failed' }
    : {
        what: `no growth over ${minutes} min idle (ours, run; live heap after a full GC, node ${PROBED_NODE})`,
        target: `none (within ${GROWTH_TOLERANCE_MB} MB)`,
        measured: `${mb(oursHeap.first)} → ${mb(oursHeap.last)} MB (${signed(oursHeap.last - oursHeap.first)} MB)`,
        met: oursHeap.last - oursHeap.first <= GROWTH_TOLERANCE_MB,
        ...(quick ? { note: 'one minute cannot show a slow leak' } : {})
      }
]

const notes = [
  `RSS is VmRSS (resident memory, shared library pages included) of nodes 1–${SIZE - 1} of each fleet, sampled every ${SAMPLE_MS / 1000} s from ${SETTLE_MS / 1000} s after every node applied the plan; "growth" compares the mean of the last ${END_SAMPLES} samples with the mean of the first ${END_SAMPLES}; "trend" is the least-squares slope over the second half of the window. Node ${PROBED_NODE} of each fleet runs with the V8 inspector open: every ${(PROBE_EVERY_SAMPLES * SAMPLE_MS) / 1000} s two full GCs are forced there and the heap still in use is read. That live heap, not RSS, says whether anything accumulates: RSS also holds garbage not yet collected and memory V8 has not returned.`,
  `The floor: an empty Node ${process.version} process holds ${mb(floors.emptyMB)} MB; loading the CLI's modules (libp2p, noise, yamux, kad-dht, zod, pino, commander, yaml, the core) without starting anything raises it to ${mb(floors.cliModulesMB)} MB (${mb(floors.cliModulesSemiMB)} MB with --max-semi-space-size=1). That is compiled code and V8's heap before a single connection: the ${RSS_TARGET_MB}-MB target is below what this dependency set costs on Node, whatever the agent does; meeting it means loading less (fewer or lazily loaded dependencies, a smaller runtime), not a leaner protocol.`,
  ...(semi.length === 0 ? [] : [`Capping V8's young generation (node --max-semi-space-size=1; a systemd unit or NODE_OPTIONS can set it) gives ${mb(semiAfter.median)} MB after formation instead of ${mb(oursAfter.median)} MB, and ${mb(semiIdle.median)} MB instead of ${mb(oursIdle.median)} MB after ${minutes} min: right after formation much of the RSS is young-generation space V8 grew into${oursIdle.median < oursAfter.median - 10 ? ', which it gave back on its own once the node had been idle for a while (the drop in the plot)' : ''}.`]),
  `The three fleets (${SIZE} nodes each) ran side by side on this ${cpus().length}-core machine; they never talk (separate tokens and addresses). RSS does not depend on CPU contention, but formation took longer than alone.`,
  ...(buildWarning === null ? [] : [`Warning: ${buildWarning}.`])
]

const labelOf = (key: VariantKey): string => VARIANTS.find(variant => variant.key === key)?.label ?? key
const color = { field: 'variant', type: 'nominal', title: null, legend: { labelLimit: 320 } } as const
const plot: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
  title: { text: `Memory per node process over ${minutes} min idle after formation (${SIZE} nodes each, loopback, lan)`, subtitle: `dashed: the ${RSS_TARGET_MB}-MB target; dotted: Node with the CLI's modules loaded` },
  vconcat: [
    {
      width: 560,
      height: 260,
      title: `RSS of nodes 1–${SIZE - 1} (one line per process)`,
      layer: [
        {
          data: { values: samples.map(sample => ({ ...sample, minutes: sample.seconds / 60, variant: labelOf(sample.variant), process: `${sample.variant}-${sample.node}` })) },
          mark: { type: 'line', opacity: 0.8 },
          encoding: {
            x: { field: 'minutes', type: 'quantitative', title: 'minutes since formation' },
            y: { field: 'rssMB', type: 'quantitative', title: 'RSS (MB)', scale: { zero: true } },
            color,
            detail: { field: 'process', type: 'nominal' }
          }
        },
        { data: { values: [{ value: RSS_TARGET_MB }] }, mark: { type: 'rule', strokeDash: [6, 4], color: 'black' }, encoding: { y: { field: 'value', type: 'quantitative' } } },
        { data: { values: [{ value: floors.cliModulesMB }] }, mark: { type: 'rule', strokeDash: [2, 3], color: 'gray' }, encoding: { y: { field: 'value', type: 'quantitative' } } }
      ]
    },
    {
      width: 560,
      height: 160,
      title: `Live JS heap after a forced full GC, node ${PROBED_NODE}`,
      data: { values: heaps.map(probe => ({ ...probe, minutes: probe.seconds / 60, variant: labelOf(probe.variant) })) },
      mark: { type: 'line', point: true },
      encoding: {
        x: { field: 'minutes', type: 'quantitative', title: 'minutes since formation' },
        y: { field: 'liveHeapMB', type: 'quantitative', title: 'live heap (MB)', scale: { zero: true } },
        color
      }
    }
  ]
}

await writeReport({
  name: 'memory',
  title: 'Memory per node (loopback processes)',
  method: `${SIZE}-node fleets of real node processes on one host (own loopback address each, 3 static peers, lan profile, expect = ${SIZE}), formed, then idle for ${minutes} min; VmRSS of every process from /proc every ${SAMPLE_MS / 1000} s, and the live JS heap of one node per fleet after a forced full GC (V8 inspector). ${NAIVE_METHOD}.`,
  columns,
  rows,
  targets,
  notes,
  raw: { size: SIZE, durationMs: DURATION_MS, sampleMs: SAMPLE_MS, probedNode: PROBED_NODE, floors, perNode, heaps, samples },
  quick
}, plot)
