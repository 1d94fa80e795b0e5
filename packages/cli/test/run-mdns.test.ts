// Goal: with no static peer at all, `p2p-bootstrap run` finds its fleet the way it does on a LAN,
// by mDNS (the default), and commits one plan. Method: three `run --once --json` processes with
// the default discovery on distinct loopback addresses; this runs only inside the network
// namespace `npm test` creates, so no multicast leaves the machine.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { afterEach, describe, expect, it } from 'vitest'
import { mdnsSkipReason } from '../../../test/helpers/netns.js'
import { binPath } from './helpers.js'

let dir = ''

afterEach(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
  dir = ''
})

async function runOnce (args: readonly string[], token: string): Promise<{ status: number | null, lines: Array<Record<string, unknown>>, stderr: string }> {
  const child = spawn(process.execPath, [binPath, 'run', '--once', '--json', '--dry-run', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, P2PB_TOKEN: token }
  })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  // A bound so a discovery failure fails the test rather than hanging it; the agent stops cleanly on SIGTERM.
  const timer = setTimeout(() => { child.kill('SIGTERM') }, 45_000)
  const status = await new Promise<number | null>((resolve) => { child.on('close', resolve) })
  clearTimeout(timer)
  const lines = stdout.split('\n').filter(line => line !== '').map(line => JSON.parse(line) as Record<string, unknown>)
  return { status, lines, stderr }
}

describe.skipIf(mdnsSkipReason !== undefined)('p2p-bootstrap run with mDNS only', () => {
  it('three nodes with no static peers find each other and agree', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-mdns-run-'))
    const token = formatToken(generateToken({ expect: 3, controlPlanes: 1 }))
    const results = await Promise.all([2, 3, 4].map(async (last) => await runOnce([
      '--state-dir', join(dir, `n${last}`, 'state'), '--root', join(dir, `n${last}`, 'root'),
      '--listen', `/ip4/127.0.0.${last}/tcp/0`, '--node-ip', `127.0.0.${last}`, '--no-dht', '--profile', 'test'
    ], token)))
    for (const result of results) expect(result.status, result.stderr).toBe(0)
    const done = results.map(result => result.lines.at(-1) ?? {})
    expect(done.map(line => line.event)).toEqual(['done', 'done', 'done'])
    expect(done.filter(line => line.init === true)).toHaveLength(1)
    expect(new Set(done.map(line => line.clusterId)).size).toBe(1)
  }, 60_000)
})
