// Goal: `keepConnected` holds a connection to peers the application names (the control plane)
// without discovery or static peers, and restores it after it drops. Method: two overlays on
// loopback; A learns B's addresses through its peer store only, is told to keep B, and must
// connect, then reconnect after the connection is closed.
import { multiaddr } from '@multiformats/multiaddr'
import { peerIdFromString } from '@libp2p/peer-id'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { startTestNode, stopAll, testKeys } from './fixtures.js'
import type { Overlay } from '../src/index.js'

let nodes: Overlay[] = []

afterEach(async () => {
  await stopAll(nodes)
  nodes = []
})

describe('keepConnected', () => {
  it('connects to a kept peer known only by the peer store, and reconnects after a drop', async () => {
    const keys = testKeys()
    const a = await startTestNode(keys)
    const b = await startTestNode(keys)
    nodes = [a, b]
    const bId = peerIdFromString(b.peerId)
    await a.libp2p.peerStore.merge(bId, { multiaddrs: b.addresses().map(address => multiaddr(address)) })
    expect(a.connectedPeers()).toEqual([])

    a.keepConnected([b.peerId])
    await waitFor(() => a.connectedPeers().includes(b.peerId), { timeoutMs: 10_000, what: 'A to connect to the kept peer B' })

    await Promise.all(a.libp2p.getConnections(bId).map(async connection => { await connection.close() }))
    await waitFor(() => a.connectedPeers().includes(b.peerId), { timeoutMs: 10_000, what: 'A to reconnect to B after the drop' })

    a.keepConnected([])
    expect(a.connectedPeers()).toContain(b.peerId) // forgetting does not disconnect
  })
})
