// Goal: `npm run build:binary` makes one file that is the whole CLI: copied alone into an empty
// folder and run with no Node on PATH, no node_modules near it and an almost empty environment,
// it prints its version, generates a token, forms a 3-node plan as 3 processes on loopback, runs
// one node with the DHT on (its stack is loaded lazily, which the bundle must keep working), and
// runs the demo (which starts copies of itself). Method: the build script runs once, with this
// test's Node 24, into a temp folder (it bundles packages/cli/dist, built by `npm test`'s
// type-check step); the binary is copied into a second, empty folder and run from there.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { chmod, copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { formatToken, generateToken, parseToken } from '@p2p-bootstrap/core'
import { loadOrCreateIdentity } from '@p2p-bootstrap/overlay'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { freePort } from '../helpers/free-port.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const BUILD_SCRIPT = join(ROOT, 'scripts', 'build-binary.mjs')

interface Finished {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Everything the test makes lives under `workDir`, removed in afterAll. */
let workDir = ''
/** The binary, alone in its folder, which is also the working directory of every run. */
let binary = ''
let runDir = ''
/** The only PATH the binary sees: an empty folder, so no `node` can be found. */
let emptyPathDir = ''
/** What the build left in its output folder and in its own temp folder. */
let buildOutputs: string[] = []
let buildLeftovers: string[] = []
const running = new Set<ChildProcess>()
/** Longer than any healthy run on a loaded machine (a formation takes seconds, `--once` lingers ≤ 30 s). */
const PROCESS_DEADLINE_MS = 100_000

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'p2pb-binary-'))
  const built = join(workDir, 'build', 'p2p-bootstrap')
  // The script's scratch folder goes under here (TMPDIR), to check that it removes it.
  const buildTmp = join(workDir, 'build-tmp')
  await mkdir(buildTmp)
  const build = await finished(spawn(process.execPath, [BUILD_SCRIPT, '--out', built], {
    cwd: ROOT, env: { ...process.env, TMPDIR: buildTmp }, stdio: ['ignore', 'pipe', 'pipe']
  }))
  expect(build.status, build.stderr).toBe(0)
  buildOutputs = await readdir(join(workDir, 'build'))
  buildLeftovers = await readdir(buildTmp)
  runDir = join(workDir, 'run')
  emptyPathDir = join(workDir, 'empty-path')
  await mkdir(runDir)
  await mkdir(emptyPathDir)
  binary = join(runDir, 'p2p-bootstrap')
  await copyFile(built, binary)
  await chmod(binary, 0o755)
  await rm(join(workDir, 'build'), { recursive: true, force: true })
}, 120_000)

afterEach(async () => {
  // Each run leads its own process group, so a demo's children go down with it.
  for (const child of running) {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(-child.pid, 'SIGKILL')
  }
  await Promise.all([...running].map(async child => await exitOf(child)))
  running.clear()
})

afterAll(async () => {
  if (workDir !== '') await rm(workDir, { recursive: true, force: true })
})

/** Starts the binary from its own folder, with PATH pointing at nothing and no other variable. */
function startBinary (args: readonly string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(binary, [...args], {
    cwd: runDir,
    env: { PATH: emptyPathDir, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true
  })
  running.add(child)
  return child
}

async function exitOf (child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  return await new Promise((resolve) => { child.once('close', (code) => { resolve(code) }) })
}

/**
 * Collects a child's output and resolves when it has closed. A child still running after
 * `deadlineMs` is killed (its group), so a hang fails the test with the child's own output
 * rather than a bare test timeout.
 */
async function finished (child: ChildProcess, deadlineMs = PROCESS_DEADLINE_MS): Promise<Finished> {
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr?.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const deadline = setTimeout(() => {
    stderr += `\n[test] still running after ${deadlineMs / 1000} s: killed\n`
    if (child.pid !== undefined) process.kill(running.has(child) ? -child.pid : child.pid, 'SIGKILL') // binary runs lead their own group
  }, deadlineMs)
  try {
    const status = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject)
      child.once('close', (code) => { resolve(code) })
    })
    return { status, stdout, stderr }
  } finally {
    clearTimeout(deadline)
  }
}

describe('the single executable', () => {
  it('is one file, and the build left nothing else behind', async () => {
    expect(buildOutputs).toEqual(['p2p-bootstrap'])
    expect(buildLeftovers).toEqual([])
    expect(await readdir(runDir)).toEqual(['p2p-bootstrap'])
    expect(await readdir(emptyPathDir)).toEqual([])
  })

  it('prints the CLI package version', async () => {
    const manifest = JSON.parse(await readFile(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { version: string }
    const result = await finished(startBinary(['--version']))
    expect(result.status, result.stderr).toBe(0)
    expect(result.stdout).toBe(`${manifest.version}\n`)
    // No experimental-feature warning or other noise from the embedded Node.
    expect(result.stderr).toBe('')
  })

  it('generates a token that the core parses with the fields asked for', async () => {
    const result = await finished(startBinary(['token', 'generate', '--expect', '3', '--control-planes', '3', '--name', 'single']))
    expect(result.status, result.stderr).toBe(0)
    const token = parseToken(result.stdout.trim())
    expect(token.expect).toBe(3)
    expect(token.controlPlanes).toBe(3)
    expect(token.name).toBe('single')
  })

  it('runs a 3-process loopback formation to one plan, each process exiting 0 with a done line', async () => {
    const token = formatToken(generateToken({ expect: 3, controlPlanes: 3, vip: '127.0.0.100' }))
    const nodes = await Promise.all([2, 3, 4].map(async (last, index) => {
      const ip = `127.0.5.${last}`
      const stateDir = join(workDir, 'formation', `node-${index}`, 'state')
      // Identities first, so every node can be given the others' peer ids as static peers.
      const { peerId } = await loadOrCreateIdentity(stateDir)
      const listen = `/ip4/${ip}/tcp/${await freePort(ip)}`
      return { ip, stateDir, root: join(workDir, 'formation', `node-${index}`, 'root'), listen, address: `${listen}/p2p/${peerId}` }
    }))
    const results = await Promise.all(nodes.map(async node => await finished(startBinary([
      'run', '--once', '--json', '--dry-run',
      '--state-dir', node.stateDir, '--root', node.root, '--listen', node.listen,
      ...nodes.filter(other => other !== node).flatMap(other => ['--peer', other.address]),
      '--node-ip', node.ip, '--no-mdns', '--no-dht', '--profile', 'test'
    ], { P2PB_TOKEN: token }))))
    expect(results.map(result => result.status), results.map((result, index) => `node ${index}:\n${result.stdout}${result.stderr}`).join('\n')).toEqual([0, 0, 0])

    const lines = results.map(result => result.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>))
    const done = lines.map(own => own.at(-1) ?? {})
    for (const line of done) expect(line.event).toBe('done')
    expect(done.filter(line => line.init === true)).toHaveLength(1)
    expect(new Set(done.map(line => line.clusterId)).size).toBe(1)
    expect(new Set(done.map(line => line.nodeId)).size).toBe(3)
    for (const own of lines) expect(own.filter(line => line.event === 'error').map(line => line.message)).toEqual([])
    for (const node of nodes) expect((await stat(join(node.root, 'etc/rancher/k3s/config.yaml'))).isFile()).toBe(true)
  }, PROCESS_DEADLINE_MS + 30_000)

  it('runs a node with the DHT on, whose stack the bundle loads only then', async () => {
    const token = formatToken(generateToken({ expect: 1 }))
    const node = join(workDir, 'dht-node')
    const result = await finished(startBinary([
      'run', '--once', '--json', '--dry-run', '--state-dir', join(node, 'state'), '--root', join(node, 'root'),
      '--listen', '/ip4/127.0.0.5/tcp/0', '--node-ip', '127.0.0.5', '--no-mdns', '--profile', 'test'
    ], { P2PB_TOKEN: token }))
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0)
    const lines = result.stdout.trim().split('\n').map(line => JSON.parse(line) as Record<string, unknown>)
    expect(lines.at(-1)?.event).toBe('done')
    expect(lines.filter(line => line.event === 'error').map(line => line.message)).toEqual([])
  }, PROCESS_DEADLINE_MS + 30_000)

  it('runs the demo, which starts copies of itself with no script path', async () => {
    const dir = join(workDir, 'demo')
    const result = await finished(startBinary(['demo', '--nodes', '3', '--timeout', '60', '--dir', dir]))
    expect(result.status, `${result.stdout}\n${result.stderr}`).toBe(0)
    expect(result.stdout).toContain('every node exited 0')
    expect(result.stdout.match(/^node \d \| done$/gm)).toHaveLength(3)
  }, PROCESS_DEADLINE_MS + 30_000)
})
