// Goal: `p2p-bootstrap run` is the agent users run at first boot. Five `run --once --json`
// processes on distinct loopback addresses agree on one plan and exit 0 with a `done` line each;
// a long-running agent answers `p2p-bootstrap status` over its socket and stops cleanly on
// SIGTERM; bad flags are usage errors. Method: the real bin as child processes (built by
// `npm test`'s type-check step), output parsed line by line.
import { spawn } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { formatToken, generateToken } from '@p2p-bootstrap/core'
import { nodeNameFor } from '@p2p-bootstrap/k3s'
import { loadOrCreateIdentity } from '@p2p-bootstrap/overlay'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { binPath, runBin } from './helpers.js'
import { jsonLines, useAgents } from './agents.js'
import type { Agent } from './agents.js'
import { waitFor } from '../../../test/helpers/wait.js'
import { freePort } from '../../../test/helpers/free-port.js'

const harness = useAgents()

function startAgent (args: readonly string[], token: string): Agent {
  return harness.start(['--json', '--dry-run', ...args], { P2PB_TOKEN: token })
}

describe('p2p-bootstrap run', () => {
  it('five --dry-run --once --json processes agree on one plan, render a consistent fleet and exit 0', async () => {
    const dir = await harness.scratchDir('p2pb-run-')
    const token = formatToken(generateToken({ expect: 5, controlPlanes: 3, vip: '127.0.0.100' }))
    const nodes = await Promise.all([2, 3, 4, 5, 6].map(async (last, index) => {
      const ip = `127.0.1.${last}`
      const stateDir = join(dir, `node-${index}`, 'state')
      const { peerId } = await loadOrCreateIdentity(stateDir)
      const listen = `/ip4/${ip}/tcp/${await freePort(ip)}`
      return { ip, stateDir, root: join(dir, `node-${index}`, 'root'), listen, address: `${listen}/p2p/${peerId}` }
    }))
    const agents = nodes.map(node => startAgent([
      '--once', '--state-dir', node.stateDir, '--root', node.root, '--listen', node.listen,
      // Each knows one other node only: the rest are reached through the ledger's addresses.
      '--peer', (nodes[(nodes.indexOf(node) + 1) % nodes.length] ?? node).address,
      '--node-ip', node.ip, '--no-mdns', '--no-dht', '--profile', 'test'
    ], token))
    const statuses = await Promise.all(agents.map(async agent => await agent.exited))
    expect(statuses, agents.map(agent => agent.stderr).join('\n')).toEqual([0, 0, 0, 0, 0])

    const done = agents.map(agent => jsonLines(agent.stdout).at(-1) ?? {})
    for (const line of done) {
      expect(line.event).toBe('done')
      expect(line.epoch).toBe(1)
      expect(['control-plane', 'worker']).toContain(line.role)
      // plan.json and config.yaml; servers also the kube-vip manifest.
      expect(line.files).toHaveLength(line.role === 'control-plane' ? 3 : 2)
    }
    expect(new Set(done.map(line => line.clusterId)).size).toBe(1)
    expect(new Set(done.map(line => line.nodeId)).size).toBe(5)
    expect(done.filter(line => line.init === true)).toHaveLength(1)
    expect(done.filter(line => line.role === 'control-plane')).toHaveLength(3)
    // Every node printed the same plan, and nobody saw a conflicting or rejected entry.
    const plans = agents.map(agent => JSON.stringify(jsonLines(agent.stdout).find(line => line.event === 'plan')?.controlPlanes))
    expect(new Set(plans).size).toBe(1)
    for (const agent of agents) expect(jsonLines(agent.stdout).filter(line => line.event === 'error').map(line => line.message)).toEqual([])

    // The rendered fleet: one cluster-init; critical keys and the kube-vip manifest identical on
    // every server; joiners join the init node (a dry run assumes it is Ready); workers hold no
    // server token; config.yaml is 0600.
    const rendered = await Promise.all(nodes.map(async (node, index) => {
      const path = join(node.root, 'etc/rancher/k3s/config.yaml')
      const text = await readFile(path, 'utf8')
      const manifest = await readFile(join(node.root, 'var/lib/rancher/k3s/server/manifests/kube-vip.yaml'), 'utf8').catch(() => null)
      return { text, config: parse(text) as Record<string, unknown>, mode: (await stat(path)).mode & 0o777, manifest, line: done[index] ?? {}, ip: node.ip }
    }))
    const inits = rendered.filter(node => node.config['cluster-init'] === true)
    expect(inits).toHaveLength(1)
    const initIp = inits[0]?.ip
    const servers = rendered.filter(node => node.line.role === 'control-plane')
    const workers = rendered.filter(node => node.line.role === 'worker')
    const critical = ['token', 'agent-token', 'tls-san', 'cluster-cidr', 'service-cidr', 'cluster-dns', 'cluster-domain', 'flannel-backend']
    const criticalOf = (config: Record<string, unknown>): string => JSON.stringify(critical.map(key => config[key]))
    expect(new Set(servers.map(node => criticalOf(node.config))).size).toBe(1)
    expect(servers[0]?.config['tls-san']).toEqual(['127.0.0.100'])
    expect(new Set(servers.map(node => node.manifest)).size).toBe(1)
    expect(servers[0]?.manifest).toContain('127.0.0.100')
    const serverToken = String(inits[0]?.config.token)
    for (const node of rendered) {
      expect(node.mode).toBe(0o600)
      if (node.config['cluster-init'] !== true) expect(node.config.server).toBe(`https://${initIp ?? ''}:6443`)
    }
    for (const worker of workers) {
      expect(worker.manifest).toBeNull()
      expect(worker.text).not.toContain(serverToken)
      expect(worker.config.token).toBe(servers[0]?.config['agent-token'])
    }
  }, 90_000)

  it('serves status over its socket while running, and stops on SIGTERM', async () => {
    const dir = await harness.scratchDir('p2pb-run-')
    const token = formatToken(generateToken({ expect: 1, controlPlanes: 1, name: 'solo' }))
    const stateDir = join(dir, 'state')
    const agent = startAgent(['--state-dir', stateDir, '--root', join(dir, 'root'), '--listen', '/ip4/127.0.0.2/tcp/0',
      '--node-ip', '127.0.0.2', '--no-mdns', '--no-dht', '--profile', 'test'], token)
    await waitFor(() => jsonLines(agent.stdout).some(line => line.event === 'applied'), { timeoutMs: 30_000, what: 'the agent to apply its plan' })

    const json = await runBin(['status', '--state-dir', stateDir, '--json'])
    expect(json.status).toBe(0)
    const report = JSON.parse(json.stdout) as {
      phase: string, role: string, plan: { name: string, init: string }, nodeId: string, clusterName: string,
      hostname: string, nodeName: string, members: Array<{ hostname: string, nodeName: string }>
    }
    // The names operators know: the host name, and the k3s node name `kubectl get nodes` lists.
    expect(report.hostname).toBe(hostname())
    expect(report.nodeName).toBe(nodeNameFor(report.nodeId, hostname()))
    expect(report.members[0]).toMatchObject({ hostname: hostname(), nodeName: report.nodeName })
    expect(report.clusterName).toBe('solo')
    expect(report.phase).toBe('applied')
    expect(report.role).toBe('control-plane')
    expect(report.plan.init).toBe(report.nodeId)
    expect(report.plan.name).toBe('solo')

    const table = await runBin(['status', '--state-dir', stateDir])
    expect(table.status).toBe(0)
    expect(table.stdout).toMatch(/^node\s+k3s node\s+host\s+address\s+state\s+role\s+phase\s+last seen$/m)
    expect(table.stdout).toContain(`(k3s node ${report.nodeName}, host ${hostname()})`)
    expect(table.stdout).toMatch(new RegExp(`\\(this\\)\\s+${report.nodeName}\\s+${hostname().replace(/[.]/g, '\\.')}\\s+127\\.0\\.0\\.2\\s+self\\s+control-plane\\s+applied`))
    expect(table.stdout).toContain('cluster c')
    expect(table.stdout).toContain(' (solo): applied')
    expect(table.stdout).toContain('plan epoch 1')

    agent.child.kill('SIGTERM')
    expect(await agent.exited).toBe(0)
    // With the agent gone, status says so and how to fix it.
    const gone = await runBin(['status', '--state-dir', stateDir])
    expect(gone.status).toBe(4)
    expect(gone.stderr).toContain('no agent is running')
  }, 60_000)

  it.each([
    [['--control-planes', '2'], /--control-planes/],
    [['--expect', 'many'], /--expect/],
    [['--vip', '10.0.0.300'], /--vip/],
    [['--label', 'no-equals-sign'], /--label/]
  ])('rejects %j with a usage error naming the flag', async (flags, pattern) => {
    const result = await runBin(['run', '--token', formatToken(generateToken()), ...flags])
    expect(result.status).toBe(2)
    expect(result.stderr).toMatch(pattern)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('without a token anywhere, says the three ways to give one', async () => {
    const env = { ...process.env }
    delete env.P2PB_TOKEN
    const child = spawn(process.execPath, [binPath, 'run', '--state-dir', '/nonexistent'], { stdio: ['ignore', 'pipe', 'pipe'], env })
    let stderr = ''
    child.stderr.setEncoding('utf8').on('data', (text: string) => { stderr += text })
    const status = await new Promise<number | null>((resolve) => { child.on('close', resolve) })
    expect(status).toBe(2)
    expect(stderr).toMatch(/--token/)
    expect(stderr).toMatch(/P2PB_TOKEN/)
  })
})
