// Shared fixtures for the overlay tests: keys of freshly generated tokens, node factories and a
// connectivity check. Not a test file itself.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { deriveKeys, generateToken } from '@p2p-bootstrap/core'
import { expect } from 'vitest'
import { createOverlay, OverlayError } from '../src/index.js'
import type { Overlay, OverlayKeys, OverlayOptions } from '../src/index.js'

/** The keys of a freshly generated token: each call is another network. */
export function testKeys (): OverlayKeys {
  return deriveKeys(generateToken())
}

export const LOOPBACK_LISTEN = ['/ip4/127.0.0.1/tcp/0']

/** A started overlay on loopback with the test profile; mDNS off unless the options say so. */
export async function startTestNode (keys: OverlayKeys, options: Partial<OverlayOptions> = {}): Promise<Overlay> {
  return await createOverlay({
    keys,
    identity: await generateKeyPair('Ed25519'),
    listen: LOOPBACK_LISTEN,
    mdns: false,
    dht: false,
    profile: 'test',
    ...options
  })
}

/** What createOverlay (not started) refused `options` with; fails the test if it accepted them. */
export async function overlayRefusal (options: OverlayOptions): Promise<OverlayError> {
  const failure = await createOverlay({ ...options, start: false }).then(
    async (overlay) => { await overlay.stop(); return undefined },
    (err: unknown) => err
  )
  expect(failure).toBeInstanceOf(OverlayError)
  return failure as OverlayError
}

export async function stopAll (nodes: readonly Overlay[]): Promise<void> {
  await Promise.all(nodes.map(async node => { await node.stop() }))
}

/** True if every node has a connection and the graph of connections is connected. */
export function isConnectedGraph (nodes: readonly Overlay[]): boolean {
  if (nodes.length === 0) return true
  const members = new Set(nodes.map(node => node.peerId))
  const byId = new Map(nodes.map(node => [node.peerId, node]))
  const reached = new Set<string>()
  const frontier = [nodes[0]?.peerId ?? '']
  while (frontier.length > 0) {
    const id = frontier.pop() ?? ''
    if (reached.has(id)) continue
    reached.add(id)
    for (const peer of byId.get(id)?.connectedPeers() ?? []) {
      if (members.has(peer) && !reached.has(peer)) frontier.push(peer)
    }
  }
  return reached.size === nodes.length && nodes.every(node => node.connectedPeers().some(peer => members.has(peer)))
}
