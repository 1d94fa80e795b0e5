// Goal: a fleet forms from static peers given by address alone (no peer id, mDNS and DHT off):
// the text forms map to multiaddrs, each node learns the others' ids in the handshake, and one
// list naming every node (itself included, as an image-wide config would) makes a full mesh with
// no node connected to itself. Method: a table for the pure mapping; real libp2p nodes in this
// process on 127.0.0.2–5 (loopback only) with the `test` profile, waiting on a condition with a
// deadline; every node is stopped in afterAll.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { freePort } from '../../../test/helpers/free-port.js'
import { staticPeerMultiaddr } from '../src/index.js'
import type { Overlay } from '../src/index.js'
import { startTestNode, stopAll, testKeys } from './fixtures.js'

const CONNECT_TIMEOUT_MS = 20_000

describe('staticPeerMultiaddr', () => {
  it.each([
    ['192.168.1.10', '/ip4/192.168.1.10/tcp/4001'],
    ['192.168.1.10:4100', '/ip4/192.168.1.10/tcp/4100'],
    ['fd00::10', '/ip6/fd00::10/tcp/4001'],
    ['[fd00::10]:4100', '/ip6/fd00::10/tcp/4100'],
    ['[fd00::10]', '/ip6/fd00::10/tcp/4001'],
    ['node-1.lan', '/dns/node-1.lan/tcp/4001'],
    ['node-1.lan:4100', '/dns/node-1.lan/tcp/4100'],
    ['/ip4/10.0.0.2/tcp/4001', '/ip4/10.0.0.2/tcp/4001'],
    ['/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWGzh8E4ydk2BGcBbkGjfMAcrWgL3DnjNmSSWSbNFS1Lhm', '/ip4/10.0.0.2/tcp/4001/p2p/12D3KooWGzh8E4ydk2BGcBbkGjfMAcrWgL3DnjNmSSWSbNFS1Lhm']
  ])('reads %s as %s', (text, address) => {
    expect(staticPeerMultiaddr(text)).toBe(address)
  })

  it.each(['192.168.1.10:0', '192.168.1.10:65536', '192.168.1', '300.1.1.1', 'node 1', '[192.168.1.10]:4001', '[fd00::10]:x', 'a:b:c', ''])('refuses %j', (text) => {
    expect(staticPeerMultiaddr(text)).toBeUndefined()
  })
})

describe('four nodes that share one list of peer addresses, without peer ids', () => {
  const keys = testKeys()
  const fleet: Overlay[] = []

  beforeAll(async () => {
    const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']
    const listen = await Promise.all(ips.map(async (ip) => ({ ip, port: await freePort(ip) })))
    // Three spellings in the one list: host:port, a multiaddr without /p2p/, and host:port again.
    const peers = listen.map(({ ip, port }, index) => index % 2 === 1 ? `/ip4/${ip}/tcp/${port}` : `${ip}:${port}`)
    for (const { ip, port } of listen) {
      fleet.push(await startTestNode(keys, { listen: [`/ip4/${ip}/tcp/${port}`], peers }))
    }
  })

  afterAll(async () => {
    await stopAll(fleet)
  })

  it('connects every node to every other, learning each id in the handshake', async () => {
    const ids = fleet.map(node => node.peerId)
    const meshed = (): boolean => fleet.every(node => ids.filter(id => id !== node.peerId).every(id => node.connectedPeers().includes(id)))
    await waitFor(meshed, { timeoutMs: CONNECT_TIMEOUT_MS, what: 'the four nodes to connect by address' })
    for (const node of fleet) {
      expect(node.connectedPeers()).not.toContain(node.peerId)
      expect(new Set(node.connectedPeers())).toEqual(new Set(ids.filter(id => id !== node.peerId)))
    }
  })
})
