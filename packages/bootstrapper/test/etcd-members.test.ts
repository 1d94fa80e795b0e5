// Goal: the etcd member list is read exactly (64-bit ids as hex, never rounded) and a gone server's
// members are found by the name k3s gives them or by their peer URL on its node-ip, and nobody
// else's. Method: tables over hand-written `etcdctl member list -w json --hex` output.
import { describe, expect, it } from 'vitest'
import { etcdctlArgv, membersOfNode, parseMemberList } from '../src/apply/etcd-members.js'

const LIST = JSON.stringify({
  header: { cluster_id: 'ff00ee' },
  members: [
    { ID: '8e9e05c52164694d', name: 'edge-1-1a2b3c4d', peerURLs: ['https://10.0.0.1:2380'], clientURLs: ['https://10.0.0.1:2379'] },
    { ID: 'fd422379fda50e48', name: 'edge-10-0badf00d', peerURLs: ['https://10.0.0.10:2380'] },
    { ID: '91bc3c398fb3c146', peerURLs: ['https://[fd00::2]:2380'] }
  ]
})

describe('etcd members', () => {
  it('reads ids as hex text, so no id loses digits', () => {
    expect(parseMemberList(LIST).map(member => member.id)).toEqual(['8e9e05c52164694d', 'fd422379fda50e48', '91bc3c398fb3c146'])
  })

  it('reads an id etcdctl 3.4 prints as a JSON number (even with --hex) exactly, from its digits', () => {
    // 10276657743932975437 is over 2^53: JSON.parse alone would round it.
    const text = '{"header":{"cluster_id":14841639068965178418},"members":[{"ID":10276657743932975437,"name":"edge-1-1a2b3c4d","peerURLs":["http://10.0.0.1:2380"]}]}'
    expect(parseMemberList(text).map(member => member.id)).toEqual([10276657743932975437n.toString(16)])
  })

  it.each([
    ['not JSON', 'Error: context deadline exceeded', /printed no JSON/],
    ['an id that is neither hex text nor a whole number', JSON.stringify({ members: [{ ID: 'zz' }] }), /unexpected shape/]
  ])('refuses %s', (_what, text, error) => {
    expect(() => parseMemberList(text)).toThrow(error)
  })

  it.each([
    ['by k3s\' name', { nodeName: 'edge-1' }, ['8e9e05c52164694d']],
    ['not a longer name that starts the same', { nodeName: 'edge-10', nodeIp: '10.0.0.99' }, ['fd422379fda50e48']],
    ['by the peer URL on its node-ip', { nodeName: 'gone', nodeIp: '10.0.0.10' }, ['fd422379fda50e48']],
    ['a member that never started, by an IPv6 peer URL', { nodeName: 'gone', nodeIp: 'fd00::2' }, ['91bc3c398fb3c146']],
    ['none of another node', { nodeName: 'edge-2', nodeIp: '10.0.0.2' }, []]
  ])('finds a node\'s members %s', (_what, node, ids) => {
    expect(membersOfNode(parseMemberList(LIST), node).map(member => member.id)).toEqual(ids)
  })

  it('runs etcdctl with k3s\' own client certificates under the root', () => {
    expect(etcdctlArgv(['etcdctl'], '/r', '/var/lib/rancher/k3s', ['member', 'list'])).toEqual([
      'etcdctl', '--endpoints=https://127.0.0.1:2379', '--cacert=/r/var/lib/rancher/k3s/server/tls/etcd/server-ca.crt',
      '--cert=/r/var/lib/rancher/k3s/server/tls/etcd/client.crt', '--key=/r/var/lib/rancher/k3s/server/tls/etcd/client.key', '--hex', 'member', 'list'
    ])
  })
})
