// Goal: whole fleets render into a cluster k3s can form (DESIGN §7, S1, S3): one cluster-init,
// joiners pointed at a Ready server with the secure token, workers on the agent token only,
// critical keys identical on every server, one kube-vip manifest byte-identical on every server.
// Method: fleets of 1, 3 and 5 control planes plus workers, with IPv4 and IPv6 VIPs, built with
// the core's planner; every node is rendered, the YAML parsed back and checked across nodes.
import { describe, expect, it } from 'vitest'
import { CRITICAL_KEYS, KUBE_VIP_IMAGE_DEFAULT, isFlagOf, renderNode } from '../src/index.js'
import type { RenderedOutput } from '../src/index.js'
import { AGENT_TOKEN, CA_HASH, SERVER_TOKEN, buildFleet, configOf, dig, documentsOf, environmentOf, fileOf } from './fixtures.js'

const shapes = [
  { controlPlanes: 1, workers: 2, vipFamily: 4, nodeFamily: 4 },
  { controlPlanes: 3, workers: 2, vipFamily: 4, nodeFamily: 4 },
  { controlPlanes: 5, workers: 3, vipFamily: 4, nodeFamily: 4 },
  { controlPlanes: 1, workers: 1, vipFamily: 6, nodeFamily: 4 },
  { controlPlanes: 3, workers: 2, vipFamily: 6, nodeFamily: 4 },
  { controlPlanes: 5, workers: 1, vipFamily: 6, nodeFamily: 4 },
  { controlPlanes: 3, workers: 2, vipFamily: 6, nodeFamily: 6 }
] as const

describe.each(shapes)('a fleet of $controlPlanes control planes and $workers workers, IPv$vipFamily VIP, IPv$nodeFamily nodes', (shape) => {
  const fleet = buildFleet(shape)
  const outputs = fleet.inputs.map(renderNode)
  const servers = outputs.filter((output) => output.role === 'control-plane')
  const workers = outputs.filter((output) => output.role === 'worker')

  it('has the plan\'s roles and services', () => {
    expect(servers).toHaveLength(shape.controlPlanes)
    expect(workers).toHaveLength(shape.workers)
    for (const output of servers) expect(output.service).toBe('k3s')
    for (const output of workers) expect(output.service).toBe('k3s-agent')
  })

  it('tells exactly one node, the plan\'s init node, to run cluster-init, with no server: (S1)', () => {
    const initialisers = outputs.filter((output) => configOf(output)['cluster-init'] === true)
    expect(initialisers).toHaveLength(1)
    const init = initialisers[0]
    expect(init?.init).toBe(true)
    expect(fleet.inputs[outputs.indexOf(init as RenderedOutput)]?.nodeId).toBe(fleet.plan.init)
    expect(configOf(init as RenderedOutput)).not.toHaveProperty('server')
    expect(configOf(init as RenderedOutput).token).toBe(SERVER_TOKEN)
  })

  it('points joining servers at the init node\'s node-ip with the secure server token', () => {
    const initIp = fleet.facts.get(fleet.plan.init)?.nodeIp ?? ''
    const host = shape.nodeFamily === 6 ? `[${initIp}]` : initIp
    for (const output of servers.filter((server) => !server.init)) {
      const config = configOf(output)
      expect(config.server).toBe(`https://${host}:6443`)
      expect(config.token).toBe(`K10${CA_HASH}::server:${SERVER_TOKEN}`)
      expect(config).not.toHaveProperty('cluster-init')
    }
  })

  it('points workers at the VIP once it answers, with the secure agent token', () => {
    const host = shape.vipFamily === 6 ? `[${fleet.vip}]` : fleet.vip
    for (const output of workers) {
      const config = configOf(output)
      expect(config.server).toBe(`https://${host}:6443`)
      expect(config.token).toBe(`K10${CA_HASH}::node:${AGENT_TOKEN}`)
    }
  })

  it('writes identical critical keys on every server, the tokens carrying one secret each', () => {
    const first = configOf(servers[0] as RenderedOutput)
    for (const output of servers) {
      const config = configOf(output)
      for (const key of CRITICAL_KEYS.filter((name) => name !== 'token')) expect(config[key], key).toEqual(first[key])
      expect(String(config.token).endsWith(SERVER_TOKEN)).toBe(true)
      expect(config['agent-token']).toBe(AGENT_TOKEN)
      expect(config['tls-san']).toEqual([fleet.vip])
      expect(config['write-kubeconfig-mode']).toBe('0600')
    }
  })

  it('keeps the pod network in the node-ip family, whatever the VIP family', () => {
    for (const output of servers) {
      expect(configOf(output)['cluster-cidr']).toBe(shape.nodeFamily === 4 ? '10.42.0.0/16' : 'fd42::/56')
      expect(configOf(output)['service-cidr']).toBe(shape.nodeFamily === 4 ? '10.43.0.0/16' : 'fd43::/112')
    }
  })

  it('writes one kube-vip manifest, byte-identical on every server and absent on workers', () => {
    const manifests = servers.map((output) => fileOf(output, '/kube-vip.yaml'))
    expect(manifests[0]).toBeDefined()
    for (const manifest of manifests) expect(manifest).toBe(manifests[0])
    for (const output of workers) expect(output.files.map((file) => file.path)).toEqual(['/etc/rancher/k3s/config.yaml'])
    expect(servers[0]?.files.map((file) => file.path)).toEqual(['/etc/rancher/k3s/config.yaml', '/var/lib/rancher/k3s/server/manifests/kube-vip.yaml'])
  })

  it('renders kube-vip objects Kubernetes accepts, with the VIP settings of DESIGN §7', () => {
    const text = fileOf(servers[0] as RenderedOutput, '/kube-vip.yaml') ?? ''
    expect(text).not.toMatch(/[&*][a-z0-9]+\s*$/m) // no YAML anchors or aliases
    const objects = documentsOf(text)
    expect(objects.map((object) => [dig(object, 'apiVersion'), dig(object, 'kind'), dig(object, 'metadata', 'name')].join(' '))).toEqual([
      'v1 ServiceAccount kube-vip',
      'rbac.authorization.k8s.io/v1 ClusterRole system:kube-vip-role',
      'rbac.authorization.k8s.io/v1 ClusterRoleBinding system:kube-vip-binding',
      'apps/v1 DaemonSet kube-vip-ds'
    ])
    for (const object of objects.filter((item) => dig(item, 'kind') !== 'ClusterRole' && dig(item, 'kind') !== 'ClusterRoleBinding')) {
      expect(dig(object, 'metadata', 'namespace')).toBe('kube-system')
    }
    const daemonSet = objects[3]
    expect(dig(daemonSet, 'spec', 'selector', 'matchLabels')).toEqual(dig(daemonSet, 'spec', 'template', 'metadata', 'labels'))
    const pod = dig(daemonSet, 'spec', 'template', 'spec')
    expect(dig(pod, 'hostNetwork')).toBe(true)
    expect(dig(pod, 'serviceAccountName')).toBe(dig(objects[0], 'metadata', 'name'))
    expect(dig(pod, 'affinity', 'nodeAffinity', 'requiredDuringSchedulingIgnoredDuringExecution', 'nodeSelectorTerms')).toEqual([
      { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'Exists' }] }
    ])
    expect(dig(pod, 'tolerations')).toEqual([{ effect: 'NoSchedule', operator: 'Exists' }, { effect: 'NoExecute', operator: 'Exists' }])
    const container = dig(pod, 'containers', 0)
    expect(dig(container, 'image')).toBe(KUBE_VIP_IMAGE_DEFAULT)
    expect(dig(container, 'securityContext', 'capabilities', 'add')).toEqual(['NET_ADMIN', 'NET_RAW'])
    const env = environmentOf(container)
    expect(env.get('vip_subnet')).toBe(shape.vipFamily === 6 ? '128' : '32')
    expect(env.has('vip_cidr')).toBe(false)
    expect(env.get('address')).toBe(fleet.vip)
    expect(env.get('vip_interface')).toBe('eth0')
    expect(env.get('port')).toBe('6443')
    expect(env.get('vip_arp')).toBe('true')
    expect(env.get('cp_enable')).toBe('true')
    expect(env.get('cp_namespace')).toBe('kube-system')
    expect(env.get('svc_enable')).toBe('false')
    expect(env.get('vip_leaderelection')).toBe('true')
    expect([env.get('vip_leaseduration'), env.get('vip_renewdeadline'), env.get('vip_retryperiod')]).toEqual(['5', '3', '1'])
    expect(env.get('vip_nodename')).toEqual({ fieldRef: { fieldPath: 'spec.nodeName' } })
    // Kubernetes refuses an env value that is not a string.
    for (const [name, value] of env) {
      if (name !== 'vip_nodename') expect(typeof value, name).toBe('string')
    }
  })

  it('never puts the server token in a worker\'s bytes (DESIGN §7)', () => {
    for (const output of workers) {
      for (const file of output.files) expect(file.content.includes(SERVER_TOKEN)).toBe(false)
    }
  })

  it('writes secret files 0600 and the manifest 0644', () => {
    for (const file of outputs.flatMap((output) => output.files)) {
      expect(file.mode).toBe(file.secret ? 0o600 : 0o644)
      expect(file.secret).toBe(file.path.endsWith('/config.yaml'))
    }
  })

  it('is deterministic: a second render gives the same bytes', () => {
    expect(fleet.inputs.map(renderNode)).toEqual(outputs)
  })

  it('writes only keys that the node\'s k3s command knows', () => {
    for (const output of outputs) {
      const command = output.role === 'control-plane' ? 'server' : 'agent'
      for (const key of Object.keys(configOf(output))) expect(isFlagOf(key, command), `${command} ${key}`).toBe(true)
    }
  })

  it('gives every node a unique DNS-label node name and the plan\'s labels', () => {
    const names = outputs.map((output) => configOf(output)['node-name'])
    expect(new Set(names).size).toBe(outputs.length)
    outputs.forEach((output, index) => {
      const config = configOf(output)
      expect(config['node-name']).toBe(output.nodeName)
      expect(output.nodeName).toMatch(/^node-[0-9]+-[0-9a-f]{8}$/)
      const labels = config['node-label'] as string[]
      expect(labels).toContain(`p2p-bootstrap.io/role=${output.role}`)
      expect(labels).toContain(`p2p-bootstrap.io/node-id=${fleet.inputs[index]?.nodeId ?? ''}`)
      expect(labels).toContain('p2p-bootstrap.io/cluster-id=cabcdefghijklmnop')
      expect(labels.includes('p2p-bootstrap.io/init=true')).toBe(output.init)
      expect(config['node-ip']).toBe(fleet.facts.get(fleet.inputs[index]?.nodeId ?? '')?.nodeIp)
      expect(config['flannel-iface']).toBe('eth0')
    })
  })

  it('gives every node the same cluster-wide hash', () => {
    expect(new Set(outputs.map((output) => output.clusterWideHash)).size).toBe(1)
  })
})

describe('a fleet before the CA hash is published and before the VIP answers', () => {
  const fleet = buildFleet({ controlPlanes: 3, workers: 2, vipFamily: 4, settled: false })
  const outputs = fleet.inputs.map(renderNode)
  const initIp = fleet.facts.get(fleet.plan.init)?.nodeIp ?? ''

  it('uses the short token forms', () => {
    for (const output of outputs) {
      expect(configOf(output).token).toBe(output.role === 'control-plane' ? SERVER_TOKEN : AGENT_TOKEN)
    }
  })

  it('points workers at a Ready server, not at the silent VIP', () => {
    for (const output of outputs.filter((item) => item.role === 'worker')) {
      expect(configOf(output).server).toBe(`https://${initIp}:6443`)
    }
  })
})
