// Goal: a command loads only what it uses. `--version`, `token`, `config check` and `status` never
// load the libp2p stack (libp2p, its transports, noise, yamux, kad-dht) nor prom-client, which are
// most of an agent's memory and start-up time; `run` loads libp2p when it starts a node, and the
// kad-dht stack only when the DHT is on. Method: the real bin (compiled dist) as a child process,
// with an in-thread module resolve hook preloaded that records every package resolved and prints
// the set when the process exits; assert which packages appear. Memory itself is measured by
// benchmarks/footprint.ts, never asserted here.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_STATE_DIR } from '@p2p-bootstrap/bootstrapper'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { STATE_DIR_HELP } from '../src/commands/state-dir-flag.js'
import { binPath, distMainPath, runProcess } from './helpers.js'
import { waitFor } from '../../../test/helpers/wait.js'

/** Packages that only a started node needs. */
const NODE_STACK = ['libp2p', '@libp2p/tcp', '@libp2p/noise', '@libp2p/yamux', '@libp2p/pnet', '@libp2p/identify', '@libp2p/kad-dht']
const METRICS = 'prom-client'

/** Preloaded into the child: records each package a resolve lands in, prints them at exit. */
const RECORD_PACKAGES = `
import { registerHooks } from 'node:module'
const loaded = new Set()
registerHooks({
  resolve (specifier, context, nextResolve) {
    const result = nextResolve(specifier, context)
    const found = /\\/node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(result.url)
    if (found !== null) loaded.add(found[1])
    return result
  }
})
process.on('exit', () => { process.stderr.write('loaded-packages ' + JSON.stringify([...loaded]) + '\\n') })
`
const PRELOAD = `data:text/javascript,${encodeURIComponent(RECORD_PACKAGES)}`

interface Traced {
  readonly status: number | null
  readonly stdout: string
  readonly packages: ReadonlySet<string>
}

function packagesOf (stderr: string): Set<string> {
  const line = stderr.split('\n').find(text => text.startsWith('loaded-packages '))
  if (line === undefined) throw new Error(`the child printed no package list; stderr: ${stderr}`)
  return new Set(JSON.parse(line.slice('loaded-packages '.length)) as string[])
}

/** Runs the bin to completion and returns the packages it loaded. */
async function traced (args: readonly string[], env: Record<string, string | undefined> = process.env): Promise<Traced> {
  const { status, stdout, stderr } = await runProcess(process.execPath, ['--import', PRELOAD, binPath, ...args], '', env)
  return { status, stdout, packages: packagesOf(stderr) }
}

/** Starts `run` on loopback, waits for its `start` line, stops it with SIGTERM, returns what it loaded. */
async function tracedRunToStart (extraArgs: readonly string[]): Promise<Set<string>> {
  const token = formatToken(generateToken({ expect: 1, createdMs: Date.now() }))
  const child = spawn(process.execPath, ['--import', PRELOAD, binPath, 'run', '--json', '--dry-run',
    '--state-dir', join(dir, 'state'), '--root', join(dir, 'root'), '--listen', '/ip4/127.0.0.3/tcp/0',
    '--node-ip', '127.0.0.3', '--no-mdns', '--profile', 'test', ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, P2PB_TOKEN: token }
  })
  running.push(child)
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const closed = new Promise<void>((resolve) => { child.on('close', () => { resolve() }) })
  await waitFor(() => /"event":"start"/.test(stdout), { timeoutMs: 30_000, what: 'the agent\'s start line' })
  child.kill('SIGTERM')
  await closed
  return packagesOf(stderr)
}

const running: Array<ReturnType<typeof spawn>> = []
let dir = ''

afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const closed = new Promise<void>((resolve) => { child.on('close', () => { resolve() }) })
      child.kill('SIGKILL')
      await closed
    }
  }
  if (dir !== '') await rm(dir, { recursive: true, force: true })
  dir = ''
})

describe('what each command loads', () => {
  beforeAll(() => {
    if (!existsSync(distMainPath)) throw new Error('packages/cli/dist/main.js is missing: run `npx tsc -b` before these tests')
  })

  it('--version, token, config check and status load neither the libp2p stack nor prom-client', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-lazy-'))
    const configPath = join(dir, 'config.yaml')
    await writeFile(configPath, `token: ${formatToken(generateToken({ expect: 3, createdMs: Date.now() }))}\n`)
    const runs: Array<[string, readonly string[]]> = [
      ['--version', ['--version']],
      ['token generate', ['token', 'generate']],
      ['config check', ['config', 'check', configPath]],
      // No agent runs there: the command fails to connect, after loading what it needs to try.
      ['status', ['status', '--state-dir', join(dir, 'no-agent')]]
    ]
    for (const [name, args] of runs) {
      const result = await traced(args)
      if (name !== 'status') expect(result.status, name).toBe(0)
      // The trace must see the CLI's own dependencies, or an empty set would pass vacuously.
      expect([...result.packages], name).toContain('commander')
      for (const heavy of [...NODE_STACK, METRICS]) expect([...result.packages], `${name} loaded ${heavy}`).not.toContain(heavy)
    }
  })

  it('run loads libp2p to start a node, and kad-dht only with the DHT on', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-lazy-'))
    const withoutDht = await tracedRunToStart(['--no-dht'])
    expect([...withoutDht]).toContain('libp2p')
    expect([...withoutDht]).not.toContain('@libp2p/kad-dht')
    expect([...withoutDht]).not.toContain(METRICS)
    await rm(join(dir, 'state'), { recursive: true, force: true })
    const withDht = await tracedRunToStart([])
    expect([...withDht]).toContain('@libp2p/kad-dht')
  })
})

describe('--state-dir help, written without loading the bootstrapper', () => {
  it('names the bootstrapper\'s default state dir', () => {
    expect(STATE_DIR_HELP).toBe(`(default ${DEFAULT_STATE_DIR})`)
  })
})
