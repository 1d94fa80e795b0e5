// Goal: bad input never renders (DESIGN §7: validation before anything is written): each mistake
// gives the RenderError code that names it, a message naming the node and the fix, and no output
// at all. Method: one table of single mutations of a healthy 3-server, 2-worker IPv4 fleet,
// rendered for a joining server, a worker or the init node.
import { describe, expect, it } from 'vitest'
import type { NodeFacts, NodeId } from '@p2p-bootstrap/core'
import { RenderError, renderNode } from '../src/index.js'
import type { RenderErrorCode, RenderInput, RenderedOutput } from '../src/index.js'
import { AGENT_TOKEN, SERVER_TOKEN, buildFleet } from './fixtures.js'

const fleet = buildFleet({ controlPlanes: 3, workers: 2, vipFamily: 4 })
const [init, joiner, , worker, otherWorker] = fleet.inputs.map((input) => input)
if (init === undefined || joiner === undefined || worker === undefined || otherWorker === undefined) throw new Error('fleet too small')
const ipOf = (input: RenderInput): string => fleet.facts.get(input.nodeId)?.nodeIp ?? ''

function withFacts (change: (facts: Map<NodeId, NodeFacts>) => void): Map<NodeId, NodeFacts> {
  const facts = new Map(fleet.facts)
  change(facts)
  return facts
}

interface Row {
  readonly title: string
  readonly input: RenderInput
  readonly code: RenderErrorCode
  /** Words the message must hold, besides the node id. */
  readonly mentions?: readonly string[]
}

const rows: Row[] = [
  { title: 'VIP outside the interface subnet', input: { ...joiner, plan: { ...fleet.plan, vip: '192.168.20.100' } }, code: 'K3S_VIP_OUTSIDE_SUBNET', mentions: ['192.168.10.0/24'] },
  { title: 'VIP is the subnet\'s network address', input: { ...joiner, plan: { ...fleet.plan, vip: '192.168.10.0' } }, code: 'K3S_VIP_OUTSIDE_SUBNET' },
  { title: 'VIP is the subnet\'s broadcast address', input: { ...joiner, plan: { ...fleet.plan, vip: '192.168.10.255' } }, code: 'K3S_VIP_OUTSIDE_SUBNET' },
  { title: 'IPv6 VIP on an IPv4-only interface', input: { ...init, plan: { ...fleet.plan, vip: 'fd00:10::100' } }, code: 'K3S_VIP_OUTSIDE_SUBNET' },
  { title: 'VIP equal to a worker\'s node-ip, on a server', input: { ...joiner, plan: { ...fleet.plan, vip: ipOf(worker) } }, code: 'K3S_VIP_IS_NODE_IP', mentions: [worker.nodeId] },
  { title: 'VIP equal to a node-ip, on a worker', input: { ...worker, plan: { ...fleet.plan, vip: ipOf(init) } }, code: 'K3S_VIP_IS_NODE_IP', mentions: [init.nodeId] },
  { title: 'an even number of control planes', input: { ...init, plan: { ...fleet.plan, controlPlanes: fleet.plan.controlPlanes.slice(0, 2) } }, code: 'K3S_EVEN_CONTROL_PLANES', mentions: ['odd'] },
  { title: 'an init node that is not a control plane', input: { ...init, plan: { ...fleet.plan, init: worker.nodeId } }, code: 'K3S_BAD_PLAN' },
  { title: 'another node of the plan has no node-ip', input: { ...joiner, facts: withFacts((facts) => facts.set(otherWorker.nodeId, { labels: {} })) }, code: 'K3S_NODE_IP_UNKNOWN', mentions: [otherWorker.nodeId] },
  { title: 'the node itself has no facts', input: { ...worker, facts: withFacts((facts) => facts.delete(worker.nodeId)) }, code: 'K3S_NODE_IP_UNKNOWN' },
  { title: 'a node-ip that is no address', input: { ...worker, facts: withFacts((facts) => facts.set(worker.nodeId, { labels: {}, nodeIp: '192.168.10.300' })) }, code: 'K3S_BAD_ADDRESS' },
  { title: 'an IPv6 node-ip in an IPv4-only cluster', input: { ...worker, facts: withFacts((facts) => facts.set(worker.nodeId, { labels: {}, nodeIp: 'fd00:10::77' })) }, code: 'K3S_BAD_SETTING', mentions: ['cluster-cidr'] },
  { title: 'no subnet on a server, so the VIP cannot be checked', input: { ...joiner, network: { interface: 'eth0' } }, code: 'K3S_NETWORK_UNKNOWN' },
  { title: 'an empty interface name', input: { ...worker, network: { interface: '' } }, code: 'K3S_NETWORK_UNKNOWN' },
  { title: 'an interface name Linux refuses', input: { ...worker, network: { interface: 'eth0; reboot' } }, code: 'K3S_BAD_SETTING' },
  { title: 'a subnet that is no CIDR', input: { ...joiner, network: { interface: 'eth0', subnet: '192.168.10.0' } }, code: 'K3S_BAD_ADDRESS' },
  { title: 'an unknown key in the cluster-wide block', input: { ...joiner, clusterK3s: { 'flanel-backend': 'vxlan' } }, code: 'K3S_UNKNOWN_KEY', mentions: ['flanel-backend', 'v1.33.7+k3s1'] },
  { title: 'an unknown key in the node block', input: { ...worker, userK3s: { 'kubelet-args': ['max-pods=200'] } }, code: 'K3S_UNKNOWN_KEY', mentions: ['kubelet-args'] },
  { title: 'a critical key set on one node only', input: { ...joiner, userK3s: { disable: ['traefik'] } }, code: 'K3S_CRITICAL_OVERRIDE', mentions: ['disable', 'cluster-wide'] },
  { title: 'a critical key set on one worker only', input: { ...worker, userK3s: { 'secrets-encryption': true } }, code: 'K3S_CRITICAL_OVERRIDE', mentions: ['secrets-encryption'] },
  { title: 'a critical key in one node\'s Kairos args', input: { ...init, kairosK3sArgs: ['--disable=traefik'] }, code: 'K3S_CRITICAL_OVERRIDE' },
  { title: 'an extra tls-san on one node only', input: { ...init, userK3s: { 'tls-san': ['api.example.com'] } }, code: 'K3S_CRITICAL_OVERRIDE' },
  { title: 'a token in the node block', input: { ...worker, userK3s: { token: 'mine' } }, code: 'K3S_RESERVED_KEY', mentions: ['token'] },
  { title: 'cluster-init in the cluster-wide block', input: { ...init, clusterK3s: { 'cluster-init': true } }, code: 'K3S_RESERVED_KEY', mentions: ['cluster-init', 'exactly one cluster'] },
  { title: 'a node-ip in the node block', input: { ...worker, userK3s: { 'node-ip': '10.0.0.1' } }, code: 'K3S_RESERVED_KEY' },
  { title: 'one of our labels in the node block', input: { ...worker, userK3s: { 'node-label': ['p2p-bootstrap.io/role=control-plane'] } }, code: 'K3S_RESERVED_KEY' },
  { title: 'a Kairos positional word', input: { ...worker, kairosK3sArgs: ['agent'] }, code: 'K3S_BAD_ARG' },
  { title: 'a Kairos flag k3s does not have', input: { ...worker, kairosK3sArgs: ['--no-flannel'] }, code: 'K3S_BAD_ARG', mentions: ['no-flannel'] },
  { title: 'a Kairos flag without its value', input: { ...worker, kairosK3sArgs: ['--node-label'] }, code: 'K3S_BAD_ARG' },
  { title: 'a Kairos single-valued flag given twice', input: { ...worker, kairosK3sArgs: ['--snapshotter=native', '--snapshotter=overlayfs'] }, code: 'K3S_BAD_ARG' },
  { title: 'a worker given the server token', input: { ...worker, secrets: { serverToken: SERVER_TOKEN, agentToken: AGENT_TOKEN } }, code: 'K3S_SECRET_MISPLACED' },
  { title: 'a server without the server token', input: { ...joiner, secrets: { agentToken: AGENT_TOKEN } }, code: 'K3S_SECRET_MISSING' },
  { title: 'an agent token that is not a cluster token', input: { ...worker, secrets: { agentToken: 'secret' } }, code: 'K3S_BAD_TOKEN' },
  { title: 'the same token for server and agents', input: { ...joiner, secrets: { serverToken: AGENT_TOKEN, agentToken: AGENT_TOKEN } }, code: 'K3S_BAD_TOKEN' },
  { title: 'a CA hash that is not hex SHA-256', input: { ...worker, caHash: 'CA'.repeat(32) }, code: 'K3S_BAD_CA_HASH' },
  { title: 'a joining server without a Ready server', input: { ...joiner, joinAddress: undefined }, code: 'K3S_JOIN_ADDRESS_MISSING' },
  { title: 'a worker before the VIP answers, without a Ready server', input: { ...worker, vipAnswers: false, joinAddress: undefined }, code: 'K3S_JOIN_ADDRESS_MISSING' },
  { title: 'a server joining itself', input: { ...joiner, joinAddress: ipOf(joiner) }, code: 'K3S_BAD_JOIN_ADDRESS' },
  { title: 'a server joining through the VIP', input: { ...joiner, joinAddress: fleet.vip }, code: 'K3S_BAD_JOIN_ADDRESS', mentions: ['VIP'] },
  { title: 'a worker joining through another worker', input: { ...worker, vipAnswers: false, joinAddress: ipOf(otherWorker) }, code: 'K3S_BAD_JOIN_ADDRESS' },
  { title: 'a join address that is no address', input: { ...joiner, joinAddress: 'server-1' }, code: 'K3S_BAD_ADDRESS' },
  { title: 'a setting given two ways', input: { ...init, cluster: { clusterCidr: '10.50.0.0/16' }, clusterK3s: { 'cluster-cidr': '10.60.0.0/16' } }, code: 'K3S_CONFLICTING_KEY' },
  { title: 'a single-valued key in two blocks', input: { ...worker, clusterK3s: { 'data-dir': '/data/a' }, userK3s: { 'data-dir': '/data/b' } }, code: 'K3S_CONFLICTING_KEY', mentions: ['data-dir'] },
  { title: 'cluster DNS outside the service CIDR', input: { ...init, cluster: { clusterDns: '10.99.0.10' } }, code: 'K3S_BAD_SETTING', mentions: ['10.43.0.0/16'] },
  { title: 'a pod CIDR with host bits', input: { ...init, cluster: { clusterCidr: '10.42.0.1/16' } }, code: 'K3S_BAD_SETTING' },
  { title: 'a flannel backend k3s dropped', input: { ...init, cluster: { flannelBackend: 'ipsec' } }, code: 'K3S_BAD_SETTING' },
  { title: 'a component k3s cannot disable', input: { ...init, clusterK3s: { disable: ['kube-proxy'] } }, code: 'K3S_BAD_SETTING' },
  { title: 'a cluster domain with upper case', input: { ...init, cluster: { clusterDomain: 'Cluster.Local' } }, code: 'K3S_BAD_SETTING' },
  { title: 'an unpinned kube-vip image', input: { ...init, kubeVip: { image: 'ghcr.io/kube-vip/kube-vip:latest' } }, code: 'K3S_BAD_SETTING', mentions: ['pinned'] },
  { title: 'a kube-vip image without a tag', input: { ...init, kubeVip: { image: 'ghcr.io/kube-vip/kube-vip' } }, code: 'K3S_BAD_SETTING' },
  { title: 'a list flag given a number', input: { ...worker, userK3s: { 'kubelet-arg': 5 } }, code: 'K3S_BAD_VALUE', mentions: ['kubelet-arg'] },
  { title: 'a whole-number flag given text', input: { ...joiner, clusterK3s: { 'etcd-snapshot-retention': '5' } }, code: 'K3S_BAD_VALUE' },
  { title: 'a value with a newline', input: { ...worker, userK3s: { 'node-label': ['a=b\nc=d'] } }, code: 'K3S_BAD_VALUE' },
  { title: 'a relative data-dir on a server', input: { ...joiner, userK3s: { 'data-dir': 'k3s' } }, code: 'K3S_BAD_VALUE' }
]

function renderExpectingError (input: RenderInput): { result: RenderedOutput | undefined, error: unknown } {
  let result: RenderedOutput | undefined
  let error: unknown
  try {
    result = renderNode(input)
  } catch (err) {
    error = err
  }
  return { result, error }
}

describe('renderNode refuses bad input', () => {
  it('renders every node of the unmutated fleet (the table starts from working input)', () => {
    for (const input of fleet.inputs) expect(renderNode(input).files.length).toBeGreaterThan(0)
  })

  it.each(rows)('$title: $code', ({ input, code, mentions }) => {
    const { result, error } = renderExpectingError(input)
    expect(result).toBeUndefined()
    expect(error).toBeInstanceOf(RenderError)
    const renderError = error as RenderError
    expect(renderError.code).toBe(code)
    expect(renderError.name).toBe('RenderError')
    for (const words of mentions ?? []) expect(renderError.message).toContain(words)
  })

  it('renders without the facts of a node that is gone, but never without its own', () => {
    const missing = withFacts((facts) => facts.delete(otherWorker.nodeId))
    expect(renderExpectingError({ ...joiner, facts: missing }).error).toBeInstanceOf(RenderError)
    const rendered = renderNode({ ...joiner, facts: missing, goneNodes: new Set([otherWorker.nodeId]) })
    expect(rendered.files.length).toBeGreaterThan(0)
    const self = withFacts((facts) => facts.delete(joiner.nodeId))
    expect((renderExpectingError({ ...joiner, facts: self, goneNodes: new Set([joiner.nodeId]) }).error as RenderError).code).toBe('K3S_NODE_IP_UNKNOWN')
  })

  it('names the node in node-level messages', () => {
    const { error } = renderExpectingError({ ...worker, userK3s: { disable: ['traefik'] } })
    expect((error as RenderError).message).toContain(worker.nodeId)
  })

  it('never quotes a secret in a message', () => {
    const { error } = renderExpectingError({ ...worker, clusterK3s: { 'etcd-s3-secret-key': 'cluster-secret-1' }, userK3s: { 'etcd-s3-secret-key': 'node-secret-2' } })
    // A server-only key on a worker is skipped, so render a server with the same conflict.
    const server = renderExpectingError({ ...joiner, clusterK3s: { 'etcd-s3-secret-key': 'cluster-secret-1' }, userK3s: { 'etcd-s3-secret-key': 'node-secret-2' } })
    expect(error).toBeUndefined()
    expect((server.error as RenderError).code).toBe('K3S_CONFLICTING_KEY')
    expect((server.error as RenderError).message).not.toMatch(/secret-[12]/)
  })

  // Issue: a loopback node-ip was rendered outside a dry run, and the kubelet refuses it.
  it.each([
    ['loopback', '127.0.0.5'],
    ['loopback', '::1'],
    ['link-local', '169.254.10.5'],
    ['link-local', 'fe80::5'],
    ['multicast', '224.0.0.5'],
    ['multicast', 'ff02::5'],
    ['unspecified', '0.0.0.0'],
    ['unspecified', '::']
  ])('refuses a %s node-ip (%s) unless the output is only looked at', (kind, address) => {
    const facts = withFacts((all) => all.set(worker.nodeId, { labels: {}, nodeIp: address }))
    const { error } = renderExpectingError({ ...worker, facts })
    expect((error as RenderError).code).toBe('K3S_BAD_NODE_IP')
    expect((error as RenderError).message).toContain(`${kind} address`)
    expect((error as RenderError).message).toContain('node.ip (--node-ip)')
    // The same node in a dry run gets past this check (the family check may still speak for IPv6).
    const local = renderExpectingError({ ...worker, facts, localOnly: true })
    expect((local.error as RenderError | undefined)?.code).not.toBe('K3S_BAD_NODE_IP')
  })
})
