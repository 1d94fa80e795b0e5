// Goal: nodes that share a token find each other by mDNS alone (no static peers) and end up in one
// connected graph, while a node with another token on the same LAN is never even discovered; once
// connected, a node's query interval backs off, and falls back when it is cut off; a burst of
// queries costs each node at most two answers; malformed packets never crash a node or invent a
// peer, and discovery still works after them.
// Method: real libp2p nodes in this process on 127.0.0.1 with mDNS on, the `test` profile and the
// private DHT on (as in production). The test itself speaks mDNS through a multicast-dns socket
// and a raw UDP socket to send bursts and malformed packets. We observe the discovery counters
// (`discoveryStats().mdns`), never wall-clock windows. mDNS multicast must not leave the machine,
// so this runs only inside the isolated network namespace that `npm test`
// (test/helpers/run-in-netns.mjs) creates.
import { createSocket } from 'node:dgram'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import multicastDns from 'multicast-dns'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { mdnsSkipReason } from '../../../test/helpers/netns.js'
import { waitFor } from '../../../test/helpers/wait.js'
import type { Overlay } from '../src/index.js'
import type { MdnsDiscoveryStats } from '../src/discovery/mdns-discovery.js'
import { mdnsServiceTag } from '../src/keys.js'
import { isConnectedGraph, startTestNode, stopAll, testKeys } from './fixtures.js'

const FLEET_SIZE = 5
const DISCOVERY_TIMEOUT_MS = 30_000
const MDNS_PORT = 5353
const MDNS_GROUP = '224.0.0.251'

function mdnsStats (node: Overlay): MdnsDiscoveryStats {
  const stats = node.discoveryStats().mdns
  if (stats === undefined) throw new Error(`node ${node.peerId} runs no mDNS`)
  return stats
}

/** A multicast-dns socket for the test's own packets; closed by the caller. */
function testSocket (): multicastDns.MulticastDNS {
  const socket = multicastDns({ port: MDNS_PORT, ip: MDNS_GROUP })
  socket.on('warning', () => {})
  socket.on('error', (err: Error) => { throw err })
  return socket
}

async function closeSocket (socket: multicastDns.MulticastDNS): Promise<void> {
  await new Promise<void>(resolve => { socket.destroy(resolve) })
}

describe.skipIf(mdnsSkipReason !== undefined)('five nodes found by mDNS alone', () => {
  const keys = testKeys()
  const fleet: Overlay[] = []
  const outsiders: Overlay[] = []
  const discoveredByFleet = new Set<string>()

  beforeAll(async () => {
    // The outsider starts first, so its announcements reach every fleet node's listener.
    outsiders.push(await startTestNode(testKeys(), { mdns: true, dht: true }))
    for (let index = 0; index < FLEET_SIZE; index++) {
      const node = await startTestNode(keys, { mdns: true, dht: true, start: false })
      node.addEventListener('peer:discovery', (event) => { discoveredByFleet.add(event.detail) })
      await node.start()
      fleet.push(node)
    }
  })

  afterAll(async () => {
    await stopAll([...fleet, ...outsiders])
  })

  it('connects every node to another, in one connected graph', async () => {
    await waitFor(() => isConnectedGraph(fleet), { timeoutMs: DISCOVERY_TIMEOUT_MS, what: 'mDNS to connect five nodes' })
    for (const node of fleet) {
      expect(node.connectedPeers().length).toBeGreaterThan(0)
    }
  })

  it('keeps one connection per pair once crossing dials settle (ties broken by peer id)', async () => {
    await waitFor(() => isConnectedGraph(fleet), { timeoutMs: DISCOVERY_TIMEOUT_MS, what: 'mDNS to connect five nodes' })
    await waitFor(() => fleet.every(node => {
      const remotes = node.libp2p.getConnections().map(connection => connection.remotePeer.toString())
      return remotes.length === new Set(remotes).size
    }), { timeoutMs: DISCOVERY_TIMEOUT_MS, what: 'duplicate connections to be closed' })
  })

  it('never discovers or connects a node with another token (its mDNS service name differs)', async () => {
    await waitFor(() => isConnectedGraph(fleet), { timeoutMs: DISCOVERY_TIMEOUT_MS, what: 'mDNS to connect five nodes' })
    const outsider = outsiders[0]
    if (outsider === undefined) throw new Error('the outsider did not start')
    // The fleet did discover its own members, so the listener works; the outsider is absent.
    expect(fleet.some(node => discoveredByFleet.has(node.peerId))).toBe(true)
    expect(discoveredByFleet.has(outsider.peerId)).toBe(false)
    expect(outsider.connectedPeers()).toEqual([])
    // The outsider heard the fleet's packets (foreign to it) and reported none of them as peers.
    expect(mdnsStats(outsider).peersFound).toBe(0)
    expect(mdnsStats(outsider).packetsForeign).toBeGreaterThan(0)
    expect(fleet.every(node => mdnsStats(node).peersFound > 0)).toBe(true)
  })
})

describe.skipIf(mdnsSkipReason !== undefined)('mDNS discovery under a small connection limit', () => {
  const fleet: Overlay[] = []

  afterAll(async () => {
    await stopAll(fleet)
  })

  it('dials no more peers than the target (maxConnections - 1), yet five nodes stay connected', async () => {
    const keys = testKeys()
    const maxConnections = 3
    for (let index = 0; index < FLEET_SIZE; index++) {
      fleet.push(await startTestNode(keys, { mdns: true, limits: { maxConnections } }))
    }
    await waitFor(() => isConnectedGraph(fleet), { timeoutMs: DISCOVERY_TIMEOUT_MS, what: 'five nodes under a limit to connect' })
    for (const node of fleet) {
      const outbound = node.libp2p.getConnections().filter(connection => connection.direction === 'outbound')
      expect(outbound.length).toBeLessThanOrEqual(maxConnections - 1)
    }
  })
})

describe.skipIf(mdnsSkipReason !== undefined)('the mDNS query interval', () => {
  it('backs off once peers are connected, and falls back to the initial interval when cut off', async () => {
    const keys = testKeys()
    const initialMs = 100
    const nodes: Overlay[] = []
    try {
      for (let index = 0; index < 3; index++) {
        nodes.push(await startTestNode(keys, { mdns: { intervalMs: initialMs } }))
      }
      await waitFor(() => isConnectedGraph(nodes), { timeoutMs: DISCOVERY_TIMEOUT_MS, what: 'three nodes to connect by mDNS' })
      // Doubling from 100 ms reaches 800 ms after three more queries (ours or suppressing ones).
      await waitFor(() => nodes.every(node => mdnsStats(node).queryIntervalMs >= 8 * initialMs), {
        timeoutMs: 10_000, what: 'every connected node to back off its query interval to 800 ms or more'
      })
      const [survivor, ...others] = nodes
      if (survivor === undefined) throw new Error('no node started')
      expect(mdnsStats(survivor).queryIntervalMs).toBeGreaterThanOrEqual(8 * initialMs)
      await stopAll(others)
      await waitFor(() => survivor.connectedPeers().length === 0, { timeoutMs: 10_000, what: 'the survivor to lose its peers' })
      await waitFor(() => mdnsStats(survivor).queryIntervalMs === initialMs, {
        timeoutMs: 10_000, what: 'the cut-off survivor to query at the initial interval again'
      })
    } finally {
      await stopAll(nodes)
    }
  })
})

describe.skipIf(mdnsSkipReason !== undefined)('mDNS answers', () => {
  it('serves a burst of 20 queries with at most two answers per node, and does answer it', async () => {
    const keys = testKeys()
    const tag = mdnsServiceTag(keys.mdnsServiceName)
    const node = await startTestNode(keys, { mdns: true })
    const socket = testSocket()
    try {
      await waitFor(() => mdnsStats(node).answersSent >= 1, { timeoutMs: 5_000, what: 'the start-up announcement' })
      let answersHeard = 0
      socket.on('response', (packet) => {
        if (packet.answers.some(record => record.type === 'PTR' && record.name === tag)) answersHeard++
      })
      const before = mdnsStats(node)
      for (let index = 0; index < 20; index++) {
        socket.query({ id: 0, questions: [{ name: tag, type: 'PTR', class: 'IN' }] })
      }
      await waitFor(() => answersHeard >= 1 && mdnsStats(node).queriesCoalesced >= before.queriesCoalesced + 19 && !mdnsStats(node).answerPending, {
        timeoutMs: 5_000, what: 'the node to answer the burst and settle'
      })
      expect(mdnsStats(node).answersSent - before.answersSent).toBeLessThanOrEqual(2)
      expect(answersHeard).toBeLessThanOrEqual(2)
    } finally {
      await closeSocket(socket)
      await node.stop()
    }
  })
})

describe.skipIf(mdnsSkipReason !== undefined)('malformed mDNS packets', () => {
  it('are counted and ignored: the node keeps running, invents no peer, and still discovers', async () => {
    const keys = testKeys()
    const tag = mdnsServiceTag(keys.mdnsServiceName)
    const nodes: Overlay[] = []
    const discovered = new Set<string>()
    const socket = testSocket()
    const raw = createSocket('udp4')
    try {
      const node = await startTestNode(keys, { mdns: true, start: false })
      node.addEventListener('peer:discovery', (event) => { discovered.add(event.detail) })
      await node.start()
      nodes.push(node)
      await waitFor(() => mdnsStats(node).answersSent >= 1, { timeoutMs: 5_000, what: 'the start-up announcement' })
      const before = mdnsStats(node)

      const forged = await Promise.all([0, 1, 2].map(async () => peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()))
      const [first = '', second = '', third = ''] = forged
      const instance = (label: string): string => `${label}.${tag}`
      const pointer = (label: string) => ({ name: tag, type: 'PTR' as const, class: 'IN' as const, data: instance(label) })
      const text = (label: string, data: string) => ({ name: instance(label), type: 'TXT' as const, class: 'IN' as const, data: [data] })
      // Each of these is about our tag and breaks one rule; none may become a peer.
      socket.respond({ answers: [pointer('not-a-peer-id'), text('not-a-peer-id', 'dnsaddr=/ip4/127.0.0.1/tcp/1')] })
      socket.respond({ answers: [pointer(first), text(first, 'dnsaddr=/not/a/multiaddr')] })
      socket.respond({ answers: [pointer(second), ...Array.from({ length: 40 }, () => text(second, `dnsaddr=/ip4/127.0.0.1/tcp/1/p2p/${second}`))] })
      socket.respond({ answers: [pointer(third), text(third, `dnsaddr=/ip4/127.0.0.1/tcp/1/p2p/${first}`)] })
      socket.respond({ answers: [pointer(first), pointer(second), text(first, `dnsaddr=/ip4/127.0.0.1/tcp/1/p2p/${first}`)] })
      // Undecodable bytes: random garbage, and a header announcing an answer that is not there.
      const garbage = Buffer.from('this is not a DNS message at all, just bytes')
      const truncated = Buffer.from([0, 0, 0x84, 0, 0, 0, 0, 1, 0, 0, 0, 0])
      for (const bytes of [garbage, truncated]) {
        await new Promise<void>((resolve, reject) => {
          raw.send(bytes, MDNS_PORT, MDNS_GROUP, (err) => { if (err === null) resolve(); else reject(err) })
        })
      }
      await waitFor(() => mdnsStats(node).packetsMalformed >= before.packetsMalformed + 5 && mdnsStats(node).warnings >= before.warnings + 2, {
        timeoutMs: 5_000, what: 'the node to count five malformed answers and two undecodable packets'
      })
      expect(node.libp2p.status).toBe('started')
      expect(mdnsStats(node).peersFound).toBe(before.peersFound)
      for (const id of forged) expect(discovered.has(id)).toBe(false)

      // The socket still works: a newcomer with the same token is discovered and connected.
      const newcomer = await startTestNode(keys, { mdns: true })
      nodes.push(newcomer)
      await waitFor(() => discovered.has(newcomer.peerId) && isConnectedGraph(nodes), {
        timeoutMs: DISCOVERY_TIMEOUT_MS, what: 'the node to discover and connect a newcomer after the malformed packets'
      })
    } finally {
      raw.close()
      await closeSocket(socket)
      await stopAll(nodes)
    }
  })
})
