// Goal: the harness builds what it says and removes all of it: hosts get an address, loopback
// and a multicast route; nothing appears in the namespace the test runs in; a partition, a pulled
// link and a router do to TCP what they would on real hardware; dispose leaves no namespace, no
// process and no folder. Method: a small lab with TCP probes between hosts (no agent), checked
// with `ip` before and after.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { createLab, multicastReaches, netemSkipReason, netnsSkipReason, netemArgs, pickSubnets, routedPrefixes, tcpReachable } from './index.js'
import type { Lab } from './index.js'
import { runCommand } from './command.js'
import { waitFor } from '../helpers/wait.js'

const skipReason = netnsSkipReason()
let lab: Lab | undefined

afterEach(async (context) => {
  await lab?.dispose({ keepLogs: context.task.result?.state === 'fail' })
  lab = undefined
})

const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

interface Abandoned {
  readonly namespaces: readonly string[]
  readonly pid: number
  readonly dir: string
}

/** Runs fixtures/abandon-lab.ts in a child Node; `signal` is sent once it reports its lab. */
async function abandonLab (mode: 'exit' | 'throw' | 'signal', signal?: NodeJS.Signals): Promise<{ report: Abandoned, stderr: string, code: number | null, endedBy: NodeJS.Signals | null }> {
  const child = spawn(process.execPath, [
    '--experimental-transform-types', '--no-warnings', '--import', fixture('ts-hooks.mjs'), fixture('abandon-lab.ts'), mode
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (text: string) => { stdout += text })
  child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
  const closed = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => { child.on('close', (code, endedBy) => { resolve([code, endedBy]) }) })
  if (signal !== undefined) {
    await waitFor(() => stdout.includes('\n') || child.exitCode !== null, { timeoutMs: 30_000, what: 'the fixture to report its lab' })
    child.kill(signal)
  }
  const [code, endedBy] = await closed
  const report = JSON.parse(stdout.split('\n')[0] ?? '') as Abandoned
  return { report, stderr, code, endedBy }
}

/** True while `pid` runs; a zombie (killed, not yet reaped by its new parent) counts as gone. */
function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

async function ip (args: readonly string[]): Promise<string> {
  return (await runCommand('ip', args)).stdout
}

describe('addressing and netem arguments', () => {
  it('picks /24s of 10/8 that no route of this namespace covers', () => {
    const taken = routedPrefixes('default via 192.168.1.1 dev eth0\n10.0.0.0/9 dev eth1 scope link\n10.200.3.7 dev tun0\n')
    expect(taken).toEqual(['10.0.0.0/9', '10.200.3.7/32'])
    // The first draws land in taken space; the picker moves on to free ones.
    const draws = [0, 5, 184, 3, 120, 9]
    const picked = pickSubnets(2, taken, () => draws.shift() ?? 0)
    expect(picked).toEqual(['10.136.9', '10.136.10'])
  })

  it('maps an impairment to netem arguments, and refuses reordering without delay', () => {
    expect(netemArgs({ delayMs: 50, jitterMs: 10, lossPercent: 15, reorderPercent: 25 })).toEqual(['netem', 'delay', '50ms', '10ms', 'loss', '15%', 'reorder', '25%'])
    expect(() => netemArgs({ reorderPercent: 5 })).toThrow(/delayMs/)
    expect(() => netemArgs({ lossPercent: 120 })).toThrow(/lossPercent/)
  })
})

describe.skipIf(skipReason !== undefined)(`lab topology${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`, () => {
  it('builds hosts on a bridge in its own namespace, and removes everything', async () => {
    const outsideBefore = await ip(['-o', 'link', 'show'])
    lab = await createLab()
    const [h1, h2] = await lab.addHosts(2)
    if (h1 === undefined || h2 === undefined) throw new Error('two hosts')
    expect(h1.ip).toMatch(/^10\.\d+\.\d+\.1$/)
    expect(h2.ip).toBe(h1.ip.replace(/\.1$/, '.2'))
    expect(h1.nodeId).toMatch(/^12D3KooW/)
    expect(await ip(['-n', h1.namespace, '-o', 'address', 'show', 'dev', 'eth0'])).toContain(`${h1.ip}/24`)
    expect(await ip(['-n', h1.namespace, 'route', 'show'])).toMatch(/^224\.0\.0\.0\/4 dev eth0/m)
    expect(await ip(['-n', h1.namespace, '-o', 'link', 'show', 'lo'])).toMatch(/[<,]UP[,>]/)
    expect(await ip(['-n', lab.labNamespace, '-o', 'link', 'show', 'master', 'br0'])).toMatch(/vh1@.*vh2@/s)
    // Nothing of the lab is in the namespace the test runs in.
    expect(await ip(['-o', 'link', 'show'])).toBe(outsideBefore)
    expect(await tcpReachable(h1, h2)).toBe(true)

    const names = [lab.labNamespace, h1.namespace, h2.namespace]
    const dir = lab.dir
    await lab.dispose()
    const left = await ip(['netns', 'list'])
    for (const name of names) expect(left).not.toContain(name)
    expect(existsSync(dir)).toBe(false)
    expect(await ip(['-o', 'link', 'show'])).toBe(outsideBefore)
    await expect(lab.addHost('h3')).rejects.toThrow(/disposed/)
  })

  it('partitions, heals and pulls links', async () => {
    lab = await createLab()
    const [h1, h2, h3] = await lab.addHosts(3)
    if (h1 === undefined || h2 === undefined || h3 === undefined) throw new Error('three hosts')
    await lab.partition([[h1], [h2, h3]])
    expect(await tcpReachable(h2, h3)).toBe(true)
    expect(await tcpReachable(h1, h2, { timeoutMs: 500 })).toBe(false)
    await lab.heal()
    expect(await tcpReachable(h1, h2)).toBe(true)
    await lab.setLink(h2, 'down')
    expect(await tcpReachable(h1, h2, { timeoutMs: 500 })).toBe(false)
    await lab.setLink(h2, 'up')
    expect(await tcpReachable(h1, h2, { timeoutMs: 3_000 })).toBe(true)
  })

  it('carries multicast on a bridge, and routes only unicast between subnets', async () => {
    lab = await createLab({ subnets: 2 })
    const a = await lab.addHost('a1', { subnet: 0 })
    await lab.addRouter()
    const a2 = await lab.addHost('a2', { subnet: 0 })
    const b = await lab.addHost('b1', { subnet: 1 })
    expect(a.ip.split('.').slice(0, 3)).not.toEqual(b.ip.split('.').slice(0, 3))
    expect(await ip(['-n', a.namespace, 'route', 'show', 'default'])).toContain(`via ${lab.subnets[0]?.gateway ?? '?'}`)
    expect(await tcpReachable(a, b)).toBe(true)
    expect(await tcpReachable(b, a)).toBe(true)
    expect(await multicastReaches(a, a2)).toBe(true)
    expect(await multicastReaches(a, b, { timeoutMs: 500 })).toBe(false)
  })

  it.skipIf(netemSkipReason() !== undefined)('impairs a host\'s link with netem', async () => {
    lab = await createLab()
    const [h1] = await lab.addHosts(1)
    if (h1 === undefined) throw new Error('one host')
    await lab.impair({ delayMs: 20, lossPercent: 1 })
    expect((await runCommand('ip', ['netns', 'exec', h1.namespace, 'tc', 'qdisc', 'show', 'dev', 'eth0'])).stdout).toMatch(/netem.*delay 20ms/)
    await lab.clearImpairment()
    expect((await runCommand('ip', ['netns', 'exec', h1.namespace, 'tc', 'qdisc', 'show', 'dev', 'eth0'])).stdout).not.toMatch(/netem/)
  })
})

describe.skipIf(skipReason !== undefined)(`exit paths${skipReason === undefined ? '' : ` (skipped: ${skipReason})`}`, () => {
  it.each([
    { how: 'process.exit()', mode: 'exit', signal: undefined, exitCode: 3 },
    { how: 'an uncaught error', mode: 'throw', signal: undefined, exitCode: 1 },
    { how: 'SIGINT', mode: 'signal', signal: 'SIGINT', exitCode: null },
    { how: 'SIGTERM', mode: 'signal', signal: 'SIGTERM', exitCode: null }
  ] as const)('a process that ends by $how still removes its lab and agents', async ({ mode, signal, exitCode }) => {
    const { report, stderr, code, endedBy } = await abandonLab(mode, signal)
    try {
      expect(code, stderr).toBe(exitCode)
      // A signal still ends the process by that signal: the harness re-raises it after cleaning up.
      expect(endedBy).toBe(signal ?? null)
      const left = await ip(['netns', 'list'])
      for (const name of report.namespaces) expect(left).not.toContain(name)
      // SIGKILL is delivered at once; the kernel may take a moment to end the process.
      await waitFor(() => !alive(report.pid), { timeoutMs: 5_000, what: `agent pid ${report.pid} to be gone` })
      // An abnormal end keeps the logs, and says where.
      expect(stderr).toContain(`kept its logs in ${report.dir}`)
      expect(existsSync(report.dir)).toBe(true)
    } finally {
      await rm(report.dir, { recursive: true, force: true })
    }
  }, 60_000)
})
