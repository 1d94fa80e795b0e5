// Goal: the README's main command (`npm start` → `p2p-bootstrap demo`) works end to end: five
// separate node processes on distinct loopback addresses commit one plan, the plan is printed as a
// table with where each node wrote its output, the command exits 0 and leaves no process behind.
// Method: run the real bin as a child process (as `npm start` does) and read its output; then
// look for any `p2p-bootstrap run` process still holding the demo folder.
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { runBin } from './helpers.js'

let dir = ''

afterEach(async () => {
  if (dir !== '') await rm(dir, { recursive: true, force: true })
  dir = ''
})

describe('p2p-bootstrap demo', () => {
  it('commits a plan with five node processes, prints it and exits 0', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-demo-test-'))
    const result = await runBin(['demo', '--dir', dir, '--timeout', '60'])
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6']) {
      expect(result.stdout).toContain(`on ${address}`)
    }
    const table = result.stdout.split('committed plan (epoch 1):')[1] ?? ''
    const rows = table.split('\n').filter(line => /^node \d/.test(line))
    expect(rows).toHaveLength(5)
    expect(rows.filter(row => /\scontrol-plane\s/.test(row))).toHaveLength(3)
    expect(rows.filter(row => /\sworker\s/.test(row))).toHaveLength(2)
    expect(rows.filter(row => /\syes\s/.test(row))).toHaveLength(1)
    // Each row names its output folder: the same plan everywhere, one cluster-init, servers joining
    // a server's node-ip, one kube-vip manifest on every server.
    const inits = new Set<string>()
    const manifests = new Set<string>()
    let clusterInits = 0
    for (const row of rows) {
      const root = row.trim().split(/\s+/).at(-1) ?? ''
      expect(root.startsWith(dir)).toBe(true)
      const written = JSON.parse(await readFile(join(root, 'etc/p2p-bootstrap/plan.json'), 'utf8')) as { init: string }
      inits.add(written.init)
      const config = parse(await readFile(join(root, 'etc/rancher/k3s/config.yaml'), 'utf8')) as Record<string, unknown>
      if (config['cluster-init'] === true) {
        clusterInits++
        expect(row).toMatch(/\scluster-init\s/)
      } else {
        expect(row).toContain(`\`${String(config.server)}\``.slice(1, -1))
      }
      if (/\scontrol-plane\s/.test(row)) manifests.add(await readFile(join(root, 'var/lib/rancher/k3s/server/manifests/kube-vip.yaml'), 'utf8'))
    }
    expect(inits.size).toBe(1)
    expect(clusterInits).toBe(1)
    expect(manifests.size).toBe(1)
    expect(result.stdout).not.toMatch(/warning|error/)
    // Nobody was declared dead for long, or came back from a false death (issue 16).
    expect(result.stdout).not.toMatch(/still dead|is back/)
    // No node process outlives the demo.
    const leftovers = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter(line => line.includes(dir))
    expect(leftovers).toEqual([])
  }, 90_000)

  it('with --nodes 3 the first plan has all three as control planes (no later epoch promotes workers)', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-demo-test-'))
    const result = await runBin(['demo', '--nodes', '3', '--dir', dir, '--timeout', '60'])
    expect(result.stderr).toBe('')
    expect(result.status).toBe(0)
    const table = result.stdout.split('committed plan (epoch 1):')[1] ?? ''
    const rows = table.split('\n').filter(line => /^node \d/.test(line))
    expect(rows).toHaveLength(3)
    expect(rows.filter(row => /\scontrol-plane\s/.test(row))).toHaveLength(3)
    expect(result.stdout).not.toMatch(/still dead|is back|warning|error/)
  }, 90_000)

  it.each([['--nodes', '1'], ['--nodes', 'ten'], ['--timeout', '0']])('rejects %s %s with a usage error', async (flag, value) => {
    const result = await runBin(['demo', flag, value])
    expect(result.status).toBe(2)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('ends at once with the error of a node that fails, instead of waiting for the timeout', async () => {
    dir = await mkdtemp(join(tmpdir(), 'p2pb-demo-test-'))
    // Node 2's state dir holds a damaged consensus log, which `run` refuses to start with.
    await mkdir(join(dir, 'node-2', 'state'), { recursive: true })
    await writeFile(join(dir, 'node-2', 'state', 'consensus.log'), 'not a consensus log\n')
    const result = await runBin(['demo', '--nodes', '3', '--dir', dir, '--timeout', '600'])
    expect(result.status).not.toBe(0)
    expect(result.stderr).toMatch(/node 2 exited \d+ before the others finished: .*consensus\.log is damaged/)
    expect(result.stderr).not.toMatch(/did not finish within/)
    const leftovers = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').filter(line => line.includes(dir))
    expect(leftovers).toEqual([])
  }, 90_000)
})
