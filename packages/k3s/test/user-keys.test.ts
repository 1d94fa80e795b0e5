// Goal: user additions reach config.yaml without breaking the identical-on-servers rule: cluster-
// wide keys (critical ones included) land identically on every server, node-local keys only on
// their node, server-only keys are skipped on workers with a note, Kairos `k3s.args` map to the
// same keys, and `clusterWideHash` tells equal cluster-wide inputs from different ones.
// Method: render a 3-server, 2-worker fleet with user blocks and compare the parsed configs;
// it.each tables for the argument translation.
import { describe, expect, it } from 'vitest'
import { CRITICAL_KEYS, RenderError, clusterWideHash, k3sArgsToConfig, renderNode } from '../src/index.js'
import type { RenderInput, UserValue } from '../src/index.js'
import { buildFleet, configOf, fileOf } from './fixtures.js'

const fleet = buildFleet({ controlPlanes: 3, workers: 2, vipFamily: 4 })
const clusterK3s = {
  'tls-san': ['api.example.com'],
  disable: ['traefik'],
  'secrets-encryption': true,
  'kubelet-arg': ['max-pods=150'],
  'etcd-snapshot-retention': 10
}
const withBlocks = (input: RenderInput, extra: Partial<RenderInput> = {}): RenderInput => ({ ...input, clusterK3s, ...extra })

describe('user k3s additions', () => {
  const outputs = fleet.inputs.map((input) => renderNode(withBlocks(input)))
  const servers = outputs.filter((output) => output.role === 'control-plane')
  const workers = outputs.filter((output) => output.role === 'worker')

  it('puts cluster-wide critical keys on every server, identically, after ours', () => {
    for (const output of servers) {
      const config = configOf(output)
      expect(config['tls-san']).toEqual([fleet.vip, 'api.example.com'])
      expect(config.disable).toEqual(['traefik'])
      expect(config['secrets-encryption']).toBe(true)
      expect(config['etcd-snapshot-retention']).toBe(10)
      for (const key of CRITICAL_KEYS.filter((name) => name !== 'token')) expect(config[key], key).toEqual(configOf(servers[0] ?? output)[key])
    }
  })

  it('gives workers the agent keys of the cluster-wide block and says which server keys it skipped', () => {
    for (const output of workers) {
      const config = configOf(output)
      expect(config['kubelet-arg']).toEqual(['max-pods=150'])
      expect(config).not.toHaveProperty('secrets-encryption')
      expect(config).not.toHaveProperty('etcd-snapshot-retention')
      expect(output.notes.some((note) => note.includes('secrets-encryption'))).toBe(true)
    }
  })

  it('appends node-local list entries after the cluster-wide ones, on that node only', () => {
    const [first, second] = fleet.inputs
    if (first === undefined || second === undefined) throw new Error('fleet too small')
    const changed = configOf(renderNode(withBlocks(first, { userK3s: { 'kubelet-arg': ['max-pods=150', 'v=2'], 'node-taint': ['dedicated=etcd:NoSchedule'], 'node-label': ['rack=r1'] } })))
    expect(changed['kubelet-arg']).toEqual(['max-pods=150', 'v=2'])
    expect(changed['node-taint']).toEqual(['dedicated=etcd:NoSchedule'])
    expect((changed['node-label'] as string[]).slice(-1)).toEqual(['rack=r1'])
    expect(configOf(renderNode(withBlocks(second)))).not.toHaveProperty('node-taint')
  })

  it('skips a server-only key of a worker\'s own block, so a shared machine config fits either role', () => {
    const worker = fleet.inputs.find((input) => !fleet.plan.controlPlanes.includes(input.nodeId))
    if (worker === undefined) throw new Error('no worker')
    const output = renderNode({ ...worker, userK3s: { 'etcd-snapshot-retention': 3, 'kube-apiserver-arg': ['audit-log-maxage=7'] } })
    expect(configOf(output)).not.toHaveProperty('etcd-snapshot-retention')
    expect(output.notes).toHaveLength(2)
  })

  // Issue finding 6: these are real (hidden, deprecated) flags of k3s v1.33, once called unknown.
  it.each([
    ['kube-controller-arg', 'kube-controller-manager-arg'],
    ['kube-cloud-controller-arg', 'kube-cloud-controller-manager-arg']
  ])('accepts the deprecated alias %s on a server, with a note naming %s', (key, current) => {
    const server = fleet.inputs.find((input) => fleet.plan.controlPlanes.includes(input.nodeId))
    if (server === undefined) throw new Error('no server')
    const output = renderNode({ ...server, userK3s: { [key]: ['bind-address=0.0.0.0'] } })
    expect(configOf(output)[key]).toEqual(['bind-address=0.0.0.0'])
    expect(output.notes).toContainEqual(expect.stringContaining(`a deprecated alias that k3s still takes: prefer ${current}`))
    expect(k3sArgsToConfig([`--${key}=bind-address=0.0.0.0`])).toEqual({ [key]: ['bind-address=0.0.0.0'] })
  })

  it('translates Kairos args into the same keys as a block', () => {
    const worker = fleet.inputs.find((input) => !fleet.plan.controlPlanes.includes(input.nodeId))
    if (worker === undefined) throw new Error('no worker')
    const fromArgs = renderNode({ ...worker, kairosK3sArgs: ['--kubelet-arg=max-pods=150', '--node-label rack=r1', '--selinux'] })
    const fromBlock = renderNode({ ...worker, userK3s: { 'kubelet-arg': ['max-pods=150'], 'node-label': ['rack=r1'], selinux: true } })
    expect(fromArgs.files).toEqual(fromBlock.files)
  })

  it('moves the kube-vip manifest with a cluster-wide data-dir', () => {
    const server = fleet.inputs[1]
    if (server === undefined) throw new Error('no server')
    const output = renderNode({ ...server, clusterK3s: { 'data-dir': '/data/k3s/' } })
    expect(output.files.map((file) => file.path)).toEqual(['/data/k3s/server/manifests/kube-vip.yaml', '/etc/rancher/k3s/config.yaml'])
    expect(fileOf(output, '/kube-vip.yaml')).toBe(fileOf(renderNode(server), '/kube-vip.yaml'))
  })

  it('renders a cluster without a VIP: no manifest, no tls-san, a note', () => {
    const { vip: _vip, ...planWithoutVip } = fleet.plan
    const server = fleet.inputs[1]
    if (server === undefined) throw new Error('no server')
    const output = renderNode({ ...server, plan: planWithoutVip })
    expect(output.files.map((file) => file.path)).toEqual(['/etc/rancher/k3s/config.yaml'])
    expect(configOf(output)).not.toHaveProperty('tls-san')
    expect(output.notes.join(' ')).toContain('no VIP')
  })

  it('renders a node the plan does not list as a worker (L2)', () => {
    const worker = fleet.inputs[4]
    if (worker === undefined) throw new Error('no worker')
    const newcomer = 'stranger'
    const facts = new Map(fleet.facts).set(newcomer, { labels: {}, nodeIp: '192.168.10.90', hostname: 'late' })
    const output = renderNode({ ...worker, nodeId: newcomer, facts })
    expect(output.role).toBe('worker')
    expect(configOf(output)['node-ip']).toBe('192.168.10.90')
  })

  it('is not stopped by a malformed fact of a node outside the plan', () => {
    const server = fleet.inputs[1]
    if (server === undefined) throw new Error('no server')
    const facts = new Map(fleet.facts).set('stranger', { labels: {}, nodeIp: 'not-an-address' })
    expect(renderNode({ ...server, facts }).files).toEqual(renderNode(server).files)
  })
})

describe('k3sArgsToConfig', () => {
  const table: Array<{ args: string[], config: Record<string, UserValue> }> = [
    { args: ['--disable=traefik', '--disable=servicelb'], config: { disable: ['traefik', 'servicelb'] } },
    { args: ['--disable traefik'], config: { disable: ['traefik'] } },
    { args: ['--secrets-encryption'], config: { 'secrets-encryption': true } },
    { args: ['--secrets-encryption=false'], config: { 'secrets-encryption': false } },
    { args: ['--etcd-snapshot-retention=7'], config: { 'etcd-snapshot-retention': 7 } },
    { args: ['--node-label="zone=a"'], config: { 'node-label': ['zone=a'] } },
    { args: ['-i 10.0.0.5'], config: { 'node-ip': ['10.0.0.5'] } },
    { args: ['--etcd-s3-timeout=5m0s'], config: { 'etcd-s3-timeout': '5m0s' } },
    { args: [], config: {} }
  ]

  it.each(table)('$args', ({ args, config }) => {
    expect(k3sArgsToConfig(args)).toEqual(config)
  })

  it.each([['--selinux=maybe'], ['--etcd-snapshot-retention=seven'], ['--'], ['traefik']])('refuses %s', (arg) => {
    expect(() => k3sArgsToConfig([arg])).toThrow(RenderError)
  })
})

describe('clusterWideHash', () => {
  const base = { vip: fleet.vip, clusterK3s }

  it('is equal for equal inputs, however they are written', () => {
    expect(clusterWideHash(base)).toBe(clusterWideHash({ ...base, cluster: { clusterCidr: '10.42.0.0/16' } }))
    expect(clusterWideHash({ ...base, clusterK3s: { ...clusterK3s, 'tls-san': 'api.example.com' } })).toBe(clusterWideHash(base))
    expect(clusterWideHash(base)).toMatch(/^[0-9a-f]{64}$/)
  })

  it.each([
    ['another VIP', { ...base, vip: '192.168.10.101' }],
    ['another pod CIDR', { ...base, cluster: { clusterCidr: '10.50.0.0/16' } }],
    ['another disabled component', { ...base, cluster: { disable: ['metrics-server'] } }],
    ['another kube-vip image', { ...base, kubeVip: { image: 'ghcr.io/kube-vip/kube-vip:v0.9.1' } }],
    ['another kube-vip interface', { ...base, kubeVip: { interface: 'bond0' } }],
    ['another cluster-wide key', { ...base, clusterK3s: { ...clusterK3s, 'etcd-snapshot-retention': 11 } }]
  ])('changes with %s', (_what, other) => {
    expect(clusterWideHash(other)).not.toBe(clusterWideHash(base))
  })

  it('refuses what renderNode refuses', () => {
    expect(() => clusterWideHash({ clusterK3s: { 'no-such-flag': true } })).toThrow(RenderError)
  })
})
