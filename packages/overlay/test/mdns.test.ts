// Goal: nodes that share a token find each other by mDNS alone (no static peers) and end up in one
// connected graph, while a node with another token on the same LAN is never even discovered.
// Method: real libp2p nodes in this process on 127.0.0.1 with mDNS on, the `test` profile and the
// private DHT on (as in production). mDNS multicast must not leave the machine, so this runs only
// inside the isolated network namespace that `npm test` (test/helpers/run-in-netns.mjs) creates.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mdnsSkipReason } from '../../../test/helpers/netns.js'
import { waitFor } from '../../../test/helpers/wait.js'
import type { Overlay } from '../src/index.js'
import { isConnectedGraph, startTestNode, stopAll, testKeys } from './fixtures.js'

const FLEET_SIZE = 5
const DISCOVERY_TIMEOUT_MS = 30_000

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
