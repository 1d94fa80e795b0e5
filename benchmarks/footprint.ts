// Where an agent's memory goes, before it does any work: the resident set (VmRSS) of a Node process
// after it has loaded one dependency alone, then the dependencies one after another in the order
// the CLI pulls them in, then the CLI's own modules; for each, V8's view (live heap after a full
// GC, code space, external and array-buffer memory) and the kernel's view of the mappings (the
// Node binary's own pages, other files, anonymous memory). It also times the short commands a
// user starts (`--version`, `token generate`, `config check`) with their peak RSS, and one `run`
// node on loopback (`--dry-run`, a one-node plan) to its `start` event and shortly after it applied
// its plan, with the DHT on and off and under the runtime profile's V8 options. Every step runs in
// a fresh process, so one step's garbage cannot land in the next; each is sampled a few times and
// the median is reported. One idle node's heap snapshot is attributed to packages
// (lib/heap-snapshot.ts). Every change to what loads, or to the V8 options, shows here.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import type { TopLevelSpec } from 'vega-lite'
import { RUNTIME_V8_OPTIONS } from '../scripts/runtime-profile.mjs'
import { attributeHeapSnapshot } from './lib/heap-snapshot.js'
import type { HeapAttribution } from './lib/heap-snapshot.js'
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

/** Wall time and peak RSS of one short command (`--version`, `token generate`, …), as a user starts it. */
async function timeCommand (args: readonly string[]): Promise<{ seconds: number, peakRssMB: number }> {
  // The peak is read by the process itself at exit (getrusage), preloaded so the CLI is unchanged.
  const reportPeak = "process.on('exit', () => process.stderr.write('peak-rss-kb ' + process.resourceUsage().maxRSS + '\\n'))"
  const started = performance.now()
  const child = spawn(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(reportPeak)}`, CLI_BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const status = await new Promise<number | null>((resolve) => { child.once('close', resolve) })
  const seconds = (performance.now() - started) / 1000
  if (status !== 0) throw new Error(`${args.join(' ')} exited ${String(status)}: ${stderr.trim()}`)
  const peak = /peak-rss-kb (\d+)/.exec(stderr)
  return { seconds, peakRssMB: peak?.[1] === undefined ? Number.NaN : Number(peak[1]) * 1024 / MB }
}

/** One `run` node, measured by its parent from /proc: at its `start` event and once it applied its plan. */
interface RunSample {
  readonly startSeconds: number
  readonly startRssMB: number
  readonly appliedRssMB: number
  readonly peakRssMB: number
  /** The kernel's view of the settled node: resident pages by mapping (see Probe). */
  readonly nodeBinaryMB: number
  readonly otherFilesMB: number
  readonly anonymousMB: number
  /** The heap snapshot taken after the RSS was read, when asked for. */
  readonly heap?: HeapAttribution
}

/** How long the node settles after `applied` before its RSS is read (timers, GC, first gossip rounds). */
const SETTLE_MS = quick ? 2_000 : 5_000
/** A run that has not applied its one-node plan by then is a failure, not a sample. */
const RUN_DEADLINE_MS = 60_000

/** Resident pages of a process by mapping: the Node binary, other files, anonymous (as the probes sum them). */
function residentByMapping (pid: number): { nodeBinaryMB: number, otherFilesMB: number, anonymousMB: number } {
  let nodeBinary = 0
  let otherFiles = 0
  let anonymous = 0
  let current = ''
  for (const line of readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
    const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line)
    if (header !== null) { current = header[1] ?? ''; continue }
    const rss = /^Rss:\s+(\d+) kB/.exec(line)
    if (rss === null) continue
    const bytes = Number(rss[1]) * 1024
    if (current === process.execPath) nodeBinary += bytes
    else if (current.startsWith('/')) otherFiles += bytes
    else anonymous += bytes
  }
  return { nodeBinaryMB: nodeBinary / MB, otherFilesMB: otherFiles / MB, anonymousMB: anonymous / MB }
}

function procStatusKB (pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const found = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  if (found?.[1] === undefined) throw new Error(`/proc/${pid}/status has no ${field}`)
  return Number(found[1])
}

/**
 * Starts `p2p-bootstrap run` as a user would (node options, then the bin) for a one-node cluster
 * on loopback: `--dry-run` (renders, starts no k3s), mDNS off, no static peers, a throwaway state
 * dir. Its RSS is read at the `start` line and SETTLE_MS after the `applied` line; then SIGTERM.
 */
async function sampleRun (nodeArgs: readonly string[], runArgs: readonly string[], options: { heapSnapshot?: boolean } = {}): Promise<RunSample> {
  const dir = await mkdtemp(join(tmpdir(), 'p2pb-footprint-'))
  const snapshotDir = join(dir, 'heap')
  // Node's own signal handler writes the snapshot (no hook in the agent); only for this sample.
  const snapshotArgs = options.heapSnapshot === true ? ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${snapshotDir}`] : []
  if (options.heapSnapshot === true) await mkdir(snapshotDir)
  const token = formatToken(generateToken({ expect: 1, createdMs: Date.now() }))
  const started = performance.now()
  const child = spawn(process.execPath, [...nodeArgs, ...snapshotArgs, CLI_BIN, 'run', '--json', '--dry-run',
    '--state-dir', join(dir, 'state'), '--root', join(dir, 'root'), '--listen', '/ip4/127.0.0.5/tcp/0',
    '--node-ip', '127.0.0.5', '--no-mdns', '--profile', 'test', ...runArgs], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, P2PB_TOKEN: token }
  })
  const closed = new Promise<void>((resolve) => { child.once('close', () => { resolve() }) })
  try {
    return await new Promise<RunSample>((resolve, reject) => {
      const pid = child.pid
      if (pid === undefined) { reject(new Error('run did not start')); return }
      let stderr = ''
      let pending = ''
      let start: { seconds: number, rssMB: number } | undefined
      const deadline = setTimeout(() => { reject(new Error(`run did not apply its plan within ${RUN_DEADLINE_MS} ms: ${stderr.trim()}`)) }, RUN_DEADLINE_MS)
      child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
      child.once('close', (status) => { clearTimeout(deadline); reject(new Error(`run exited ${String(status)} early: ${stderr.trim()}`)) })
      child.stdout.setEncoding('utf8').on('data', (text: string) => {
        pending += text
        const lines = pending.split('\n')
        pending = lines.pop() ?? ''
        for (const line of lines) {
          const event = (JSON.parse(line) as { event?: string }).event
          if (event === 'start' && start === undefined) {
            start = { seconds: (performance.now() - started) / 1000, rssMB: procStatusKB(pid, 'VmRSS') * 1024 / MB }
          } else if (event === 'applied' && start !== undefined) {
            const atStart = start
            setTimeout(() => {
              clearTimeout(deadline)
              let sample: RunSample
              try {
                sample = {
                  startSeconds: atStart.seconds,
                  startRssMB: atStart.rssMB,
                  appliedRssMB: procStatusKB(pid, 'VmRSS') * 1024 / MB,
                  peakRssMB: procStatusKB(pid, 'VmHWM') * 1024 / MB,
                  ...residentByMapping(pid)
                }
              } catch (err) { reject(err); return }
              if (options.heapSnapshot !== true) { resolve(sample); return }
              // The snapshot itself allocates (RSS grows while V8 writes it), so it comes after the reading.
              process.kill(pid, 'SIGUSR2')
              waitForSnapshot(snapshotDir)
                .then(async (path) => { resolve({ ...sample, heap: await attributeHeapSnapshot(path) }) })
                .catch(reject)
            }, SETTLE_MS)
          }
        }
      })
    })
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    await closed
    await rm(dir, { recursive: true, force: true })
  }
}

/** The snapshot file once V8 has finished it: its JSON ends with the closing brace of the top object. */
async function waitForSnapshot (dir: string): Promise<string> {
  const deadline = Date.now() + RUN_DEADLINE_MS
  while (Date.now() < deadline) {
    const name = (await readdir(dir)).find(file => file.endsWith('.heapsnapshot'))
    if (name !== undefined) {
      const path = join(dir, name)
      if ((await readFile(path, 'utf8')).trimEnd().endsWith(']}')) return path
    }
    await new Promise((resolve) => { setTimeout(resolve, 250) })
  }
  throw new Error(`no complete heap snapshot in ${dir} within ${RUN_DEADLINE_MS} ms`)
}

interface Step {
  readonly label: string
  readonly mode: 'floor' | 'alone' | 'cumulative' | 'cli'
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
const versionRuns: Array<{ seconds: number, peakRssMB: number }> = []
for (let run = 0; run < VERSION_RUNS; run++) versionRuns.push(await timeCommand(['--version']))
const versionSeconds = summarize(versionRuns.map(run => run.seconds))
const versionPeak = summarize(versionRuns.map(run => run.peakRssMB))

/** The other short commands, each as a user starts it; none of them starts a node. */
const configDir = await mkdtemp(join(tmpdir(), 'p2pb-footprint-config-'))
const configPath = join(configDir, 'config.yaml')
await writeFile(configPath, `token: ${formatToken(generateToken({ expect: 3, createdMs: Date.now() }))}\n`)
const COMMANDS: ReadonlyArray<readonly string[]> = [['token', 'generate', '--expect', '3'], ['config', 'check', configPath]]
const commandRows: Array<{ label: string, seconds: number, peakRssMB: number }> = []
try {
  for (const args of COMMANDS) {
    const runs: Array<{ seconds: number, peakRssMB: number }> = []
    for (let run = 0; run < REPEATS; run++) runs.push(await timeCommand(args))
    const label = args[0] === 'config' ? 'config check FILE' : args.join(' ')
    commandRows.push({ label, seconds: summarize(runs.map(run => run.seconds)).median, peakRssMB: summarize(runs.map(run => run.peakRssMB)).median })
  }
} finally {
  await rm(configDir, { recursive: true, force: true })
}

/**
 * The runtime profile: the V8 options the single executable (scripts/build-binary.mjs) and the
 * systemd unit (examples/systemd/p2p-bootstrap.service) start the agent with.
 */
const RUNTIME_PROFILE: readonly string[] = RUNTIME_V8_OPTIONS
const PROFILE_LABEL = `run (DHT on), ${RUNTIME_PROFILE.join(' ')} (the runtime profile)`
/**
 * One `run` node, to its `start` event and just after applying its one-node plan: with the DHT
 * (the default), without it, and under V8 options a long-lived small agent might run with, so
 * the profile rests on numbers: a smaller young generation (the profile), with V8's
 * memory-over-speed mode, with one GC thread (fewer stacks and arenas), with V8's lite mode (no
 * optimizing compiler, feedback vectors allocated lazily), and with no JIT at all
 * (--jitless also turns WebAssembly off, which the noise cipher needs: expected to fail, and the
 * notes say so).
 */
const RUN_VARIANTS: ReadonlyArray<{ label: string, nodeArgs: readonly string[], runArgs: readonly string[] }> = [
  { label: 'run (DHT on)', nodeArgs: [], runArgs: [] },
  { label: 'run --no-dht', nodeArgs: [], runArgs: ['--no-dht'] },
  { label: PROFILE_LABEL, nodeArgs: RUNTIME_PROFILE, runArgs: [] },
  { label: 'run (DHT on), --max-semi-space-size=1 --optimize-for-size', nodeArgs: ['--max-semi-space-size=1', '--optimize-for-size'], runArgs: [] },
  { label: 'run (DHT on), --max-semi-space-size=1 --single-threaded-gc', nodeArgs: ['--max-semi-space-size=1', '--single-threaded-gc'], runArgs: [] },
  { label: 'run (DHT on), --max-semi-space-size=1 --lite-mode', nodeArgs: ['--max-semi-space-size=1', '--lite-mode'], runArgs: [] },
  { label: 'run (DHT on), --jitless', nodeArgs: ['--jitless'], runArgs: [] }
]
/** Options that cannot run the agent at all, with the first line of why. */
const impossible: string[] = []
const runRows: Array<{ label: string, sample: RunSample }> = []
for (const variant of RUN_VARIANTS) {
  const samples: RunSample[] = []
  try {
    for (let run = 0; run < REPEATS; run++) samples.push(await sampleRun(variant.nodeArgs, variant.runArgs))
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    const lines = message.split('\n')
    const why = lines.find(line => /Error\b/.test(line)) ?? lines[0] ?? 'failed'
    impossible.push(`${variant.nodeArgs.join(' ')}: ${why.trim().slice(0, 200)}`)
    continue
  }
  const median = (field: Exclude<keyof RunSample, 'heap'>): number => summarize(samples.map(sample => sample[field])).median
  runRows.push({
    label: variant.label,
    sample: {
      startSeconds: median('startSeconds'),
      startRssMB: median('startRssMB'),
      appliedRssMB: median('appliedRssMB'),
      peakRssMB: median('peakRssMB'),
      nodeBinaryMB: median('nodeBinaryMB'),
      otherFilesMB: median('otherFilesMB'),
      anonymousMB: median('anonymousMB')
    }
  })
}

/**
 * What a V8 option costs in CPU where the agent spends it under load in JavaScript: the private
 * network's XSalsa20 keystream (@noble/ciphers, every byte on the wire) and SHA-256 (@noble/hashes,
 * ledger hashes), over 64 KiB chunks. Milliseconds per MiB through both once warmed up (so an
 * option that slows only the warm-up does not count here), median of REPEATS fresh processes.
 * Ed25519 is Node's native crypto in the core, which V8 options do not touch.
 */
async function cpuMsPerMiB (nodeArgs: readonly string[]): Promise<number> {
  const script = `
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import { sha256 } from '@noble/hashes/sha2.js'
const key = new Uint8Array(32).fill(1)
const nonce = new Uint8Array(24).fill(2)
const chunk = new Uint8Array(64 * 1024).fill(3)
const oneMiB = () => { for (let i = 0; i < 16; i++) { xsalsa20(key, nonce, chunk); sha256(chunk) } }
for (let i = 0; i < 5; i++) oneMiB()
const started = performance.now()
for (let i = 0; i < 8; i++) oneMiB()
process.stdout.write(String((performance.now() - started) / 8))
`
  const runs: number[] = []
  for (let run = 0; run < REPEATS; run++) {
    const child = spawn(process.execPath, [...nodeArgs, '--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
    const status = await new Promise<number | null>((resolve) => { child.once('close', resolve) })
    if (status !== 0) throw new Error(`CPU timing with ${nodeArgs.join(' ')} exited ${String(status)}: ${stderr.trim()}`)
    runs.push(Number(stdout))
  }
  return summarize(runs).median
}
const cpuCosts: Array<{ options: string, ms: number }> = []
for (const variant of RUN_VARIANTS) {
  if (variant.runArgs.length > 0 || variant.nodeArgs.includes('--jitless')) continue
  cpuCosts.push({ options: variant.nodeArgs.length === 0 ? 'no options' : variant.nodeArgs.join(' '), ms: await cpuMsPerMiB(variant.nodeArgs) })
}

/**
 * One formed, idle node under the runtime profile, its heap written by V8 after the RSS was read
 * and attributed to packages (lib/heap-snapshot.ts says how). One sample: the attribution of a
 * heap does not vary the way timing does, and each snapshot costs a few seconds of a loaded machine.
 */
const heapSample = await sampleRun(RUNTIME_PROFILE, [], { heapSnapshot: true })
const heap = heapSample.heap
/** Packages listed one per row; the rest are summed into one row. */
const HEAP_ROWS = 14

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
/** A whole-process row: RSS and time only (the V8 and mapping columns are for the probes). */
const processRow = (step: string, mode: string, rssMB: number, ms: number | null): Record<string, Cell> => ({
  step,
  mode,
  'RSS MB': round(rssMB),
  'Δ RSS vs empty MB': round(rssMB - empty.rssMB),
  'live heap MB': null,
  'heap committed MB': null,
  'code space MB': null,
  'external MB': null,
  'node binary MB': null,
  'other files MB': null,
  'anonymous MB': null,
  'load ms': ms === null ? null : Math.round(ms)
})
rows.push(processRow('p2p-bootstrap --version (whole process)', 'start-up', versionPeak.median, versionSeconds.median * 1000))
for (const command of commandRows) rows.push(processRow(`p2p-bootstrap ${command.label} (whole process, peak)`, 'start-up', command.peakRssMB, command.seconds * 1000))
for (const { label, sample } of runRows) {
  rows.push(processRow(`${label}: at its start event`, 'run', sample.startRssMB, sample.startSeconds * 1000))
  rows.push({
    ...processRow(`${label}: ${SETTLE_MS / 1000} s after applying a one-node plan`, 'run', sample.appliedRssMB, null),
    'node binary MB': round(sample.nodeBinaryMB),
    'other files MB': round(sample.otherFilesMB),
    'anonymous MB': round(sample.anonymousMB)
  })
}

if (heap !== undefined) {
  const heapRow = (step: string, heldMB: number): Record<string, Cell> => ({ ...processRow(step, 'heap snapshot', Number.NaN, null), 'RSS MB': null, 'Δ RSS vs empty MB': null, 'live heap MB': Math.round(heldMB * 100) / 100 })
  rows.push({
    ...heapRow(`the whole heap of an idle node (${heap.nodes} objects; its RSS read before the snapshot)`, heap.totalMB),
    'RSS MB': round(heapSample.appliedRssMB),
    'Δ RSS vs empty MB': round(heapSample.appliedRssMB - empty.rssMB),
    'node binary MB': round(heapSample.nodeBinaryMB),
    'other files MB': round(heapSample.otherFilesMB),
    'anonymous MB': round(heapSample.anonymousMB)
  })
  for (const share of heap.packages.slice(0, HEAP_ROWS)) rows.push(heapRow(`held by ${share.package} (its own objects and code ${share.directMB.toFixed(2)} MB)`, share.heldMB))
  const rest = heap.packages.slice(HEAP_ROWS)
  rows.push(heapRow(`held by ${rest.length} other packages`, rest.reduce((sum, share) => sum + share.heldMB, 0)))
  rows.push(heapRow('unattributed (no package owns it alone: see the notes)', heap.unattributedMB))
}

const alone = steps.filter(step => step.mode === 'alone').sort((a, b) => b.probe.rssMB - a.probe.rssMB)
const heaviest = alone.slice(0, 3).map(step => `${step.label} +${round(step.probe.rssMB - empty.rssMB)} MB`).join(', ')
const lastCumulative = steps.filter(step => step.mode === 'cumulative').at(-1)?.probe
const targets: TargetCheck[] = [
  {
    what: 'start-up of `--version`',
    target: `≤ ${START_TARGET_S} s`,
    measured: `${versionSeconds.median.toFixed(2)} s (median of ${VERSION_RUNS})`,
    met: versionSeconds.median <= START_TARGET_S,
    note: 'wall time including Node start, on this machine under its load: compare rows of one run, not runs'
  },
  ...runRows.filter(({ label }) => label === 'run (DHT on)').map(({ sample }): TargetCheck => (
    {
      what: '`run` to its `start` event (one node, DHT on)',
      target: `≤ ${START_TARGET_S} s`,
      measured: `${sample.startSeconds.toFixed(2)} s (median of ${REPEATS})`,
      met: sample.startSeconds <= START_TARGET_S,
      note: 'from spawning the process to the start line on stdout: Node start, module loading, state dir, libp2p listening'
    })),
  ...runRows.filter(({ label }) => label === PROFILE_LABEL).map(({ sample }): TargetCheck => (
    {
      what: 'an agent that has formed, with the runtime profile (one node, its plan applied, settled)',
      target: `≤ ${RSS_TARGET_MB} MB RSS`,
      measured: `${round(sample.appliedRssMB)} MB RSS (peak ${round(sample.peakRssMB)} MB)`,
      met: sample.appliedRssMB <= RSS_TARGET_MB,
      note: `a one-node stand-in for the idle agent; formed fleets after 10 minutes idle are memory.ts and idle.ts. ${SETTLE_MS / 1000} s after applying, no forced GC`
    })),
  {
    what: 'the floor before any work: every module the CLI loads to build its commands',
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
    : `all third-party dependencies together: ${round(lastCumulative.rssMB)} MB RSS, ${round(lastCumulative.heapUsedMB)} MB live heap, ${round(lastCumulative.codeSpaceMB)} MB code space; the CLI's command tree alone is ${round(cli.rssMB)} MB (each command loads its dependencies when it runs)`,
  'anonymous memory is what grows: the V8 heap it has committed (used plus kept free pages), malloc arenas and thread stacks; the live heap after a full GC is a fraction of it, so V8 options and loading less both matter',
  ...impossible.map(line => `cannot run the agent with ${line}`),
  'the "alone" rows overlap (shared transitive modules count in each); the "cumulative" rows attribute each step\'s growth to the module added',
  // Earlier results of this same script, for the before/after of each step (same machine, under load).
  'before lazy loading (every command loaded the whole agent, libp2p included): the CLI\'s modules 122.5 MB RSS (58.3 MB committed heap), `--version` 116.2 MB peak and 1.39 s; with --max-semi-space-size=1 the CLI\'s modules 102 MB',
  'step 1, the overlay loads libp2p only when a node is created and kad-dht only with the DHT on: the CLI\'s modules about 98 MB RSS, `--version` about 95 MB peak (measured by hand, 3 runs)',
  'step 2, each command loads its work when it runs: the rows above (`--version` and the CLI\'s modules need only commander and the CLI\'s own command tree)',
  'step 3, the runtime profile (--max-semi-space-size=1) in the single executable and the systemd unit: compare the run rows with and without it',
  'step 4, what a run loads, from the module list of a running node (a loader hook logging every module; by hand): multicast-dns loads only with mDNS, kad-dht only with the DHT, prom-client only with metrics; the status page (its socket serves `status` and `leave`), the k3s renderer (every plan) and kubeconfig sealing (a server with admin keys) are used by a running agent; the Kairos reader is not when the config is native, but it holds about 0.1 MB of heap, and the kubeconfig and k3s modules together less (heap after a full GC before and after importing each, by hand): loading them lazily would not show in RSS. The heap snapshot rows show where the heap goes instead',
  'bounded sizes: the connection manager is capped by the overlay profile (16 connections, 10 pending inbound, 5 inbound per host per second); @libp2p/peer-store 12 has no count limit, only ages (addresses after 1 h, peers without addresses after 6 h), so its size follows the peers the node hears of (identified peers past the private network, mDNS answers to the cluster\'s service name, the DHT\'s peers)',
  '--optimize-for-size is measured but not in the profile: Node refuses it in NODE_OPTIONS, so the systemd unit could not give it to a Node install the way it gives the profile; its steady-state CPU is in the CPU note below, its cost during formation on a loaded fleet is not measured yet',
  '--lite-mode and --jitless turn WebAssembly off, which the noise cipher needs: the agent cannot run with either. A heap limit (--max-old-space-size) changes nothing while idle (V8 grows the old generation only as it needs) and turns growth into a crash loop, so none is set (scripts/runtime-profile.mjs). --single-threaded-gc is not smaller here (the run rows)',
  'the floor of a running agent: an empty Node process (its own binary\'s pages are most of it), plus the libp2p stack a node needs (libp2p, noise, yamux, tcp, pnet, identify: about 50 MB loaded together, see the cumulative rows), plus the heap V8 commits for the agent\'s work; the single executable adds its own file pages on top (its --version peaks near 85 MB against 55 MB for Node running the same CLI from node_modules; see docs/binary.md)'
]

notes.push(`CPU per MiB through the private network's XSalsa20 and SHA-256 in JavaScript (the agent's own hot loops under traffic), warmed up, by V8 options: ${cpuCosts.map(cost => `${cost.options} ${cost.ms.toFixed(1)} ms`).join(', ')}; an option that saves memory by compiling less pays here, on every byte`)
if (heap !== undefined) {
  notes.push(
    `heap snapshot: ${round(heap.totalMB)} MB of objects and code, of which ${round(heap.totalMB - heap.unattributedMB)} MB attributed to a package; unattributed, largest kinds: ${heap.unattributedKinds.slice(0, 6).map(kind => `${kind.kind} ${kind.MB.toFixed(2)} MB`).join(', ')}. Module source text V8 keeps to compile functions lazily is ${round(heap.scriptSourcesMB)} MB of the heap (attributed where a script alone holds it, unattributed where the module loader holds it too); a bundled, minified script (the single executable bundles but does not minify) would keep less of it, not measured here`,
    `what the idle node's ${round(heapSample.appliedRssMB)} MB are made of: ${round(heapSample.nodeBinaryMB)} MB the Node binary's own pages, ${round(heapSample.otherFilesMB)} MB other files (shared libraries, ICU data), ${round(heapSample.anonymousMB)} MB anonymous, of which ${round(heap.totalMB)} MB are live objects and code in the snapshot; the rest of the anonymous memory is heap pages V8 keeps committed but free, malloc arenas (OpenSSL, libuv, the noise cipher's WebAssembly memory) and thread stacks, which a snapshot does not see`
  )
}

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
  method: `Each row is a fresh Node process (\`${process.version}\`, \`--expose-gc\`) that imports the listed module(s), runs two full GCs and reports process.memoryUsage(), V8's code space and /proc/self/smaps summed by mapping (the Node binary, other files, anonymous); median of ${REPEATS}. "alone" loads one dependency; "cumulative" loads the dependencies in the CLI's import order up to that row; "cli" imports the compiled CLI entry (nothing runs). \`--version\`, \`token generate\` and \`config check\` are whole commands as a user starts them (wall time and peak RSS; median of ${VERSION_RUNS} for --version, ${REPEATS} for the others). "run" rows are one \`run --dry-run\` node on loopback forming a one-node plan (no mDNS, no peers, a new state dir): RSS read from /proc at its \`start\` line ("load ms" is the time from spawning it to that line) and ${SETTLE_MS / 1000} s after its \`applied\` line; median of ${REPEATS}. "heap snapshot" rows are one such node under the runtime profile: after its RSS is read, Node's \`--heapsnapshot-signal\` writes its heap, and each object goes to a package: directly when V8 ties it to a script (functions and their code by their script's URL, objects by their constructor's script, from the snapshot's locations), otherwise to the nearest directly attributed object that alone keeps it alive (its dominator). "live heap MB" there is what the package holds that way (each object counted once); what no package holds alone (strings shared through the module loader, V8's shapes and builtins, what the global object holds) is the unattributed row.`,
  columns: ['step', 'mode', 'RSS MB', 'Δ RSS vs empty MB', 'live heap MB', 'heap committed MB', 'code space MB', 'external MB', 'node binary MB', 'other files MB', 'anonymous MB', 'load ms'],
  rows,
  targets,
  notes,
  raw: { steps, versionRuns, heap: heap === undefined ? undefined : { ...heap, unattributedKinds: heap.unattributedKinds.slice(0, 20) }, cpuCosts, nodeVersion: process.version },
  quick
}, plot)
