// Where an agent's memory goes, before it does any work: the resident set (VmRSS) of a Node process
// after it has loaded one dependency alone, then the dependencies one after another in the order
// the CLI pulls them in, then the CLI's own modules; for each, V8's view (live heap after a full
// GC, code space, external and array-buffer memory) and the kernel's view of the mappings (the
// Node binary's own pages, other files, anonymous memory). It also times `p2p-bootstrap --version`
// and records its peak RSS. Every step runs in a fresh process, so one step's garbage cannot land
// in the next; each is sampled a few times and the median is reported. This is the measurement
// the footprint work starts from: every later change (lazy loading, V8 options) shows here.
import { spawn } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { TopLevelSpec } from 'vega-lite'
import { checkBuilt } from './lib/loopback-fleet.js'
import { isQuick, writeReport } from './lib/report.js'
import type { Cell, TargetCheck } from './lib/report.js'
import { summarize } from './lib/stats.js'

const quick = isQuick()
const REPEATS = quick ? 1 : 3
const VERSION_RUNS = quick ? 3 : 10
const MB = 2 ** 20
const RSS_TARGET_MB = 70
const START_TARGET_S = 0.3
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..')
const CLI_MAIN = join(ROOT, 'packages', 'cli', 'dist', 'main.js')
const CLI_BIN = join(ROOT, 'packages', 'cli', 'bin', 'p2p-bootstrap.js')

/**
 * The third-party modules an agent loads, in the order the CLI's import graph reaches them
 * (core's crypto and codecs, then the config readers, the libp2p stack, the bootstrapper's
 * extras). Loading them one by one in this order attributes each step's growth to one module.
 */
const DEPENDENCIES: readonly string[] = [
  '@noble/hashes/sha2.js',
  '@noble/curves/ed25519.js',
  '@noble/ciphers/salsa.js',
  'cborg',
  'yaml',
  'zod',
  'commander',
  'pino',
  '@multiformats/multiaddr',
  '@libp2p/crypto',
  'libp2p',
  '@libp2p/tcp',
  '@libp2p/noise',
  '@libp2p/yamux',
  '@libp2p/pnet',
  '@libp2p/identify',
  '@libp2p/ping',
  'multicast-dns',
  '@libp2p/kad-dht',
  'prom-client'
]

/** What one process reports after its imports and a full GC. */
interface Probe {
  readonly rssMB: number
  readonly heapUsedMB: number
  /** What V8 has committed for its heap: used plus free pages it keeps. */
  readonly heapTotalMB: number
  readonly codeSpaceMB: number
  readonly externalMB: number
  readonly arrayBuffersMB: number
  /** Resident pages mapped from the node executable itself (its code and read-only data). */
  readonly nodeBinaryMB: number
  /** Resident pages of other mapped files (shared libraries, ICU data). */
  readonly otherFilesMB: number
  /** Resident anonymous memory (V8 heap, malloc, thread stacks). */
  readonly anonymousMB: number
  readonly loadMs: number
}

/**
 * The child's script: import each module in turn, force two full GCs, then report V8's figures
 * and its own /proc/self/smaps summed by mapping kind. It writes one JSON line and exits.
 */
function probeScript (specifiers: readonly string[]): string {
  return `
import { readFileSync } from 'node:fs'
import { getHeapSpaceStatistics } from 'node:v8'
const started = performance.now()
for (const specifier of ${JSON.stringify(specifiers)}) await import(specifier)
const loadMs = performance.now() - started
globalThis.gc(); globalThis.gc()
const memory = process.memoryUsage()
const code = getHeapSpaceStatistics().find(space => space.space_name === 'code_space')
let nodeBinary = 0, otherFiles = 0, anonymous = 0, current = ''
for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\\n')) {
  const header = /^[0-9a-f]+-[0-9a-f]+ \\S+ \\S+ \\S+ \\S+\\s*(.*)$/.exec(line)
  if (header !== null) { current = header[1] ?? ''; continue }
  const rss = /^Rss:\\s+(\\d+) kB/.exec(line)
  if (rss === null) continue
  const bytes = Number(rss[1]) * 1024
  if (current === process.execPath) nodeBinary += bytes
  else if (current.startsWith('/')) otherFiles += bytes
  else anonymous += bytes
}
const MB = ${MB}
process.stdout.write(JSON.stringify({
  rssMB: memory.rss / MB, heapUsedMB: memory.heapUsed / MB, heapTotalMB: memory.heapTotal / MB, codeSpaceMB: (code?.space_used_size ?? 0) / MB,
  externalMB: memory.external / MB, arrayBuffersMB: memory.arrayBuffers / MB,
  nodeBinaryMB: nodeBinary / MB, otherFilesMB: otherFiles / MB, anonymousMB: anonymous / MB, loadMs
}) + '\\n')
`
}

async function runProbe (specifiers: readonly string[], nodeArgs: readonly string[]): Promise<Probe> {
  // The script is a file URL import from the repository root, so bare specifiers resolve against
  // the workspace's node_modules exactly as the CLI's own imports do.
  const child = spawn(process.execPath, [...nodeArgs, '--expose-gc', '--input-type=module', '-e', probeScript(specifiers)], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const status = await new Promise<number | null>((resolve) => { child.once('close', resolve) })
  if (status !== 0) throw new Error(`probe of ${specifiers.join(', ')} exited ${String(status)}: ${stderr.trim()}`)
  return JSON.parse(stdout) as Probe
}

/** The median of each field over `REPEATS` fresh processes. */
async function medianProbe (specifiers: readonly string[], nodeArgs: readonly string[] = []): Promise<Probe> {
  const probes: Probe[] = []
  for (let run = 0; run < REPEATS; run++) probes.push(await runProbe(specifiers, nodeArgs))
  const median = (field: keyof Probe): number => summarize(probes.map(probe => probe[field])).median
  return {
    rssMB: median('rssMB'),
    heapUsedMB: median('heapUsedMB'),
    heapTotalMB: median('heapTotalMB'),
    codeSpaceMB: median('codeSpaceMB'),
    externalMB: median('externalMB'),
    arrayBuffersMB: median('arrayBuffersMB'),
    nodeBinaryMB: median('nodeBinaryMB'),
    otherFilesMB: median('otherFilesMB'),
    anonymousMB: median('anonymousMB'),
    loadMs: median('loadMs')
  }
}

/** Wall time and peak RSS of one `p2p-bootstrap --version`, as a user starts it. */
async function timeVersion (): Promise<{ seconds: number, peakRssMB: number }> {
  // The peak is read by the process itself at exit (getrusage), preloaded so the CLI is unchanged.
  const reportPeak = "process.on('exit', () => process.stderr.write('peak-rss-kb ' + process.resourceUsage().maxRSS + '\\n'))"
  const started = performance.now()
  const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(reportPeak)}`, CLI_BIN, '--version'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const status = await new Promise<number | null>((resolve) => { child.once('close', resolve) })
  const seconds = (performance.now() - started) / 1000
  if (status !== 0) throw new Error(`--version exited ${String(status)}: ${stderr.trim()}`)
  const peak = /peak-rss-kb (\d+)/.exec(stderr)
  return { seconds, peakRssMB: peak?.[1] === undefined ? Number.NaN : Number(peak[1]) * 1024 / MB }
}

interface Step {
  readonly label: string
  readonly mode: 'floor' | 'alone' | 'cumulative' | 'cli' | 'cli + V8 option'
  readonly probe: Probe
}

const buildWarning = checkBuilt()
if (buildWarning !== null) process.stderr.write(`warning: ${buildWarning}\n`)

const steps: Step[] = []
const empty = await medianProbe([])
steps.push({ label: 'empty Node process', mode: 'floor', probe: empty })
for (const dependency of DEPENDENCIES) {
  steps.push({ label: dependency, mode: 'alone', probe: await medianProbe([dependency]) })
}
for (let count = 1; count <= DEPENDENCIES.length; count++) {
  const loaded = DEPENDENCIES.slice(0, count)
  steps.push({ label: `+ ${loaded.at(-1) ?? ''}`, mode: 'cumulative', probe: await medianProbe(loaded) })
}
const cli = await medianProbe([pathToFileURL(CLI_MAIN).href])
steps.push({ label: 'the CLI (every module it imports at start)', mode: 'cli', probe: cli })
/**
 * V8 options a long-lived small agent might run with, each measured on the same CLI load, so the
 * choice of a runtime profile rests on numbers: a smaller young generation, one GC thread (fewer
 * stacks and arenas), and no JIT at all (--jitless: it also turns WebAssembly off, which the noise
 * cipher needs, so it is expected to fail; the row or note says so).
 */
const V8_VARIANTS: ReadonlyArray<readonly string[]> = [
  ['--max-semi-space-size=1'],
  ['--single-threaded-gc'],
  ['--max-semi-space-size=1', '--single-threaded-gc'],
  ['--jitless']
]
/** Options that cannot run the agent at all, with the first line of why. */
const impossible: string[] = []
for (const nodeArgs of V8_VARIANTS) {
  try {
    steps.push({ label: `the CLI, ${nodeArgs.join(' ')}`, mode: 'cli + V8 option', probe: await medianProbe([pathToFileURL(CLI_MAIN).href], nodeArgs) })
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n').find(line => /Error:/.test(line)) ?? 'failed'
    impossible.push(`${nodeArgs.join(' ')}: ${why.trim()}`)
  }
}

const versionRuns: Array<{ seconds: number, peakRssMB: number }> = []
for (let run = 0; run < VERSION_RUNS; run++) versionRuns.push(await timeVersion())
const versionSeconds = summarize(versionRuns.map(run => run.seconds))
const versionPeak = summarize(versionRuns.map(run => run.peakRssMB))

const round = (value: number): number => Math.round(value * 10) / 10
const rows: Array<Record<string, Cell>> = steps.map(step => ({
  step: step.label,
  mode: step.mode,
  'RSS MB': round(step.probe.rssMB),
  'Δ RSS vs empty MB': round(step.probe.rssMB - empty.rssMB),
  'live heap MB': round(step.probe.heapUsedMB),
  'heap committed MB': round(step.probe.heapTotalMB),
  'code space MB': round(step.probe.codeSpaceMB),
  'external MB': round(step.probe.externalMB),
  'node binary MB': round(step.probe.nodeBinaryMB),
  'other files MB': round(step.probe.otherFilesMB),
  'anonymous MB': round(step.probe.anonymousMB),
  'load ms': Math.round(step.probe.loadMs)
}))
rows.push({
  step: 'p2p-bootstrap --version (whole process)',
  mode: 'start-up',
  'RSS MB': round(versionPeak.median),
  'Δ RSS vs empty MB': round(versionPeak.median - empty.rssMB),
  'live heap MB': null,
  'heap committed MB': null,
  'code space MB': null,
  'external MB': null,
  'node binary MB': null,
  'other files MB': null,
  'anonymous MB': null,
  'load ms': Math.round(versionSeconds.median * 1000)
})

const alone = steps.filter(step => step.mode === 'alone').sort((a, b) => b.probe.rssMB - a.probe.rssMB)
const heaviest = alone.slice(0, 3).map(step => `${step.label} +${round(step.probe.rssMB - empty.rssMB)} MB`).join(', ')
const lastCumulative = steps.filter(step => step.mode === 'cumulative').at(-1)?.probe
const targets: TargetCheck[] = [
  {
    what: 'start-up of `--version`',
    target: `≤ ${START_TARGET_S} s`,
    measured: `${versionSeconds.median.toFixed(2)} s (median of ${VERSION_RUNS})`,
    met: versionSeconds.median <= START_TARGET_S,
    note: 'wall time including Node start; the `run` to `start` event time is in memory.ts'
  },
  {
    what: 'the floor before any work: every module the CLI loads',
    target: `well below ${RSS_TARGET_MB} MB, or the idle target cannot be met`,
    measured: `${round(cli.rssMB)} MB RSS`,
    met: cli.rssMB < RSS_TARGET_MB,
    note: `an empty Node process is ${round(empty.rssMB)} MB, of which ${round(empty.nodeBinaryMB)} MB are the Node binary's own pages`
  }
]
const notes = [
  `heaviest single dependencies (RSS over an empty process): ${heaviest}`,
  lastCumulative === undefined
    ? 'no cumulative step ran'
    : `all third-party dependencies together: ${round(lastCumulative.rssMB)} MB RSS, ${round(lastCumulative.heapUsedMB)} MB live heap, ${round(lastCumulative.codeSpaceMB)} MB code space; the CLI adds its own modules on top: ${round(cli.rssMB - lastCumulative.rssMB)} MB`,
  'anonymous memory is what grows: the V8 heap it has committed (used plus kept free pages), malloc arenas and thread stacks; the live heap after a full GC is a fraction of it, so V8 options and loading less both matter',
  ...impossible.map(line => `cannot run the agent with ${line}`),
  'the "alone" rows overlap (shared transitive modules count in each); the "cumulative" rows attribute each step\'s growth to the module added'
]

const cumulative = steps.filter(step => step.mode === 'cumulative' || step.mode === 'cli')
const plotRows = cumulative.flatMap((step, order) => [
  { order, step: step.label, part: 'node binary', MB: step.probe.nodeBinaryMB },
  { order, step: step.label, part: 'other files', MB: step.probe.otherFilesMB },
  { order, step: step.label, part: 'anonymous (heap, malloc)', MB: step.probe.anonymousMB }
])
const plot: TopLevelSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: 'Resident memory as dependencies load (cumulative, fresh process per step)',
  width: 640,
  height: 320,
  data: { values: plotRows },
  mark: 'bar',
  encoding: {
    y: { field: 'step', type: 'nominal', sort: { field: 'order' }, title: null },
    x: { field: 'MB', type: 'quantitative', stack: 'zero', title: 'RSS (MB)' },
    color: { field: 'part', type: 'nominal', title: 'mapping' }
  }
}

await writeReport({
  name: 'footprint',
  title: 'Footprint: resident memory by dependency, and start-up',
  method: `Each row is a fresh Node process (\`${process.version}\`, \`--expose-gc\`) that imports the listed module(s), runs two full GCs and reports process.memoryUsage(), V8's code space and /proc/self/smaps summed by mapping (the Node binary, other files, anonymous); median of ${REPEATS}. "alone" loads one dependency; "cumulative" loads the dependencies in the CLI's import order up to that row; "cli" imports the compiled CLI entry (nothing runs). \`--version\` is the whole command as a user starts it (wall time and peak RSS, median of ${VERSION_RUNS}).`,
  columns: ['step', 'mode', 'RSS MB', 'Δ RSS vs empty MB', 'live heap MB', 'heap committed MB', 'code space MB', 'external MB', 'node binary MB', 'other files MB', 'anonymous MB', 'load ms'],
  rows,
  targets,
  notes,
  raw: { steps, versionRuns, nodeVersion: process.version },
  quick
}, plot)
