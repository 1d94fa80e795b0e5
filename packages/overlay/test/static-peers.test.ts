// Goal: static peers alone (no mDNS, no DHT) connect a fleet, the reconcile loop re-dials a static
// peer that comes back, and a node with another token is refused by the private-network handshake.
// Method: real libp2p nodes in this process on 127.0.0.1 with the `test` profile; nodes wait on
// conditions with a deadline (waitFor), and every node is stopped in afterAll/finally.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { waitFor } from '../../../test/helpers/wait.js'
import { OverlayError } from '../src/index.js'
import type { Overlay } from '../src/index.js'
import { isConnectedGraph, startTestNode, stopAll, testKeys } from './fixtures.js'

const FLEET_SIZE = 5
const CONNECT_TIMEOUT_MS = 20_000

function firstAddress (node: Overlay): string {
  const address = node.addresses()[0]
  if (address === undefined) throw new Error(`node ${node.peerId} listens nowhere`)
  return address
}

describe('five nodes joined by static peers (a chain)', () => {
  const keys = testKeys()
  const fleet: Overlay[] = []

  beforeAll(async () => {
    // Node i knows only node i-1: connectivity needs the static dial of every link.
    for (let index = 0; index < FLEET_SIZE; index++) {
      const previous = fleet[index - 1]
      fleet.push(await startTestNode(keys, { peers: previous === undefined ? [] : [firstAddress(previous)] }))
    }
  })

  afterAll(async () => {
    await stopAll(fleet)
  })

  it('connects every node into one connected graph', async () => {
    await waitFor(() => isConnectedGraph(fleet), { timeoutMs: CONNECT_TIMEOUT_MS, what: 'the static-peer chain to connect' })
    for (let index = 1; index < FLEET_SIZE; index++) {
      expect(fleet[index]?.connectedPeers()).toContain(fleet[index - 1]?.peerId)
    }
  })

  it('refuses a sixth node with another token at the private-network handshake', async () => {
    await waitFor(() => isConnectedGraph(fleet), { timeoutMs: CONNECT_TIMEOUT_MS, what: 'the fleet to connect' })
    const identity = await generateKeyPair('Ed25519')
    // Short dial budgets: a wrong-token dial sometimes hangs until the address timeout.
    const outsider = await startTestNode(testKeys(), { identity, limits: { dialTimeoutMs: 1_000, addressDialTimeoutMs: 500 } })
    // Every peer:connect the fleet reports, tagged with the phase it happened in.
    const seenByFleet: Array<{ phase: 'outsider' | 'control', peerId: string }> = []
    let phase: 'outsider' | 'control' = 'outsider'
    const controller = new AbortController()
    for (const node of fleet) {
      node.addEventListener('peer:connect', (event) => { seenByFleet.push({ phase, peerId: event.detail }) }, { signal: controller.signal })
    }
    try {
      for (const node of fleet) {
        const failure = await outsider.dial(firstAddress(node)).then(() => undefined, (err: unknown) => err)
        // We match our code, which dial() gives only when libp2p's upgrader reports
        // EncryptionFailedError: TCP connected and pnet exchanged nonces, then the encrypter
        // negotiation that runs inside the pnet stream read garbage or was reset. We also match
        // the cause's name (stable in libp2p), never its message, which varies (reset or timeout).
        expect(failure).toBeInstanceOf(OverlayError)
        expect((failure as OverlayError).code).toBe('OVERLAY_HANDSHAKE_REFUSED')
        expect(((failure as OverlayError).cause as Error).name).toBe('EncryptionFailedError')
      }
      expect(outsider.connectedPeers()).toEqual([])
      expect(seenByFleet).toEqual([])
      await outsider.stop()
      // Control: the same identity with the right token reaches the same address, so the refusal
      // above came from the token alone, not from the address, the port or the identity.
      phase = 'control'
      const insider = await startTestNode(keys, { identity })
      try {
        const target = fleet[0]
        if (target === undefined) throw new Error('the fleet is empty')
        await insider.dial(firstAddress(target))
        await waitFor(() => seenByFleet.some(seen => seen.peerId === insider.peerId), {
          timeoutMs: CONNECT_TIMEOUT_MS, what: 'the fleet to report the control connection'
        })
        expect(seenByFleet.every(seen => seen.phase === 'control')).toBe(true)
      } finally {
        await insider.stop()
      }
    } finally {
      controller.abort()
      await outsider.stop()
    }
  })
})

describe('the reconcile loop', () => {
  it('re-dials a static peer that was down when the node started', async () => {
    const keys = testKeys()
    const identity = await generateKeyPair('Ed25519')
    const nodes: Overlay[] = []
    try {
      // Learn a free port and the peer's address, then take the peer down.
      const probe = await startTestNode(keys, { identity })
      const address = firstAddress(probe)
      await probe.stop()
      const dialler = await startTestNode(keys, { peers: [address] })
      nodes.push(dialler)
      // The first dials fail and back off; the peer then returns on the same address.
      const returned = await startTestNode(keys, { identity, listen: [address.replace(/\/p2p\/.*$/, '')] })
      nodes.push(returned)
      await waitFor(() => dialler.connectedPeers().includes(returned.peerId), {
        timeoutMs: CONNECT_TIMEOUT_MS, what: 'the returned static peer to be re-dialled'
      })
      expect(returned.peerId).toBe(probe.peerId)
    } finally {
      await stopAll(nodes)
    }
  })
})
