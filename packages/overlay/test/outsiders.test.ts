// Goal: connections from outside the fleet are closed before they cost memory (issue 20), over
// real TCP connections to a real overlay node on loopback, the address libp2p's own pending limit
// and rate limit let through (its allow list, for single-host runs). Outsiders without the token
// that write random bytes, stay silent, or send a pnet nonce and then stall in the noise
// handshake are all closed by the node; handshakes in progress never exceed
// INBOUND_HANDSHAKES_MAX, newer ones are refused while every place is taken (after a delay, or
// by the listener's socket bound before libp2p sees them), and none becomes a libp2p connection. A token holder the node has blocked is not kept: it is hung up
// on, and neither its dial nor its connection gets through. Method: count connections (the
// node's handshake counters, libp2p's connections, the outsiders' sockets closed by the node);
// nothing here depends on how fast it runs, only waits with deadlines.
import { randomBytes } from 'node:crypto'
import { connect } from 'node:net'
import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { INBOUND_HANDSHAKES_MAX, lanProfile } from '../src/index.js'
import type { Overlay } from '../src/index.js'
import { startTestNode, stopAll, testKeys } from './fixtures.js'

const NONCE_BYTES = 24
const TEST_TIMEOUT_MS = 60_000

const nodes: Overlay[] = []
const sockets: Socket[] = []

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy()
  await stopAll(nodes.splice(0))
})

/** Host and port of the node's first TCP listen address. */
function hostAndPort (node: Overlay): { host: string, port: number } {
  const parts = (node.addresses()[0] ?? '').split('/')
  return { host: parts[2] ?? '', port: Number(parts[4]) }
}

type Outsider = 'random-bytes' | 'silent' | 'nonce-then-stall'

/** A raw TCP connection from outside the fleet; resolves once connected. */
async function outsider (node: Overlay, kind: Outsider): Promise<Socket> {
  const socket = connect(hostAndPort(node))
  sockets.push(socket)
  socket.on('error', () => {})
  await new Promise<void>((resolve) => { socket.once('connect', () => { resolve() }); socket.once('close', () => { resolve() }) })
  if (kind === 'random-bytes') socket.write(randomBytes(64 * 1024))
  // Passes the pnet nonce exchange (any 24 bytes do), then sends nothing noise can read.
  if (kind === 'nonce-then-stall') socket.write(randomBytes(NONCE_BYTES))
  return socket
}

function closedCount (list: readonly Socket[]): number {
  return list.filter((socket) => socket.closed).length
}

describe('outsider connections', () => {
  it('closes outsiders of every kind, keeps their handshakes bounded, and lets none become a connection', async () => {
    const victim = await startTestNode(testKeys())
    nodes.push(victim)
    // First fill every place with handshakes that stall after the nonce (held until the upgrade
    // timeout), then send more outsiders of every kind while no place is free.
    const stalled = await Promise.all(Array.from({ length: INBOUND_HANDSHAKES_MAX }, async () => await outsider(victim, 'nonce-then-stall')))
    await waitFor(() => victim.inboundHandshakeStats().pending === INBOUND_HANDSHAKES_MAX, { timeoutMs: 20_000, what: `${INBOUND_HANDSHAKES_MAX} handshakes in progress` })
    const kinds: Outsider[] = ['random-bytes', 'silent', 'nonce-then-stall']
    const more = await Promise.all(Array.from({ length: 60 }, async (_, index) => await outsider(victim, kinds[index % kinds.length] ?? 'silent')))
    const all = [...stalled, ...more]
    await waitFor(() => closedCount(all) === all.length, { timeoutMs: 30_000, what: `the node to close all ${all.length} outsider connections` })
    const stats = victim.inboundHandshakeStats()
    expect(stats.pendingPeak).toBeLessThanOrEqual(INBOUND_HANDSHAKES_MAX)
    // Some reached libp2p and were refused for want of a place; the listener closed the rest
    // before libp2p saw them (its socket bound is the connection limit plus the places).
    expect(stats.refused).toBeGreaterThan(0)
    expect(stats.started + stats.refused).toBeLessThan(all.length)
    expect(stats.started + stats.refused).toBeLessThanOrEqual(lanProfile().maxConnections + INBOUND_HANDSHAKES_MAX)
    expect(stats.upgraded).toBe(0)
    expect(stats.pending).toBe(0)
    expect(victim.libp2p.getConnections()).toEqual([])
    // With the flood over, outsiders sent one at a time are each taken and closed again.
    const later = await Promise.all(kinds.map(async (kind) => await outsider(victim, kind)))
    await waitFor(() => closedCount(later) === later.length, { timeoutMs: 30_000, what: 'the node to close the later outsiders' })
    expect(victim.inboundHandshakeStats().started).toBe(stats.started + later.length)
    expect(victim.libp2p.getConnections()).toEqual([])
  }, TEST_TIMEOUT_MS)

  it('a blocked token holder is hung up on, and its dials in either direction are refused', async () => {
    const keys = testKeys()
    const victim = await startTestNode(keys)
    const holder = await startTestNode(keys)
    nodes.push(victim, holder)
    await holder.dial(victim.addresses()[0] ?? '')
    await waitFor(() => victim.connectedPeers().includes(holder.peerId), { timeoutMs: 10_000, what: 'the token holder connected' })
    const upgradedBefore = victim.inboundHandshakeStats().upgraded
    expect(upgradedBefore).toBe(1)
    victim.block(holder.peerId, 60_000)
    await waitFor(() => !victim.connectedPeers().includes(holder.peerId), { timeoutMs: 10_000, what: 'the blocked holder hung up on' })
    // Our own dial is refused before it starts. The holder's dial gets through noise (it holds
    // the token) and is cut right there: on its side it may look open for a moment.
    const ownDial = await victim.dial(holder.addresses()[0] ?? '').then(() => 'connected', () => 'refused')
    expect(ownDial).toBe('refused')
    await holder.dial(victim.addresses()[0] ?? '').catch(() => null)
    await waitFor(() => !holder.connectedPeers().includes(victim.peerId), { timeoutMs: 10_000, what: 'the holder to see its new connection cut' })
    expect(victim.connectedPeers()).not.toContain(holder.peerId)
    expect(victim.inboundHandshakeStats().upgraded).toBe(upgradedBefore)
    // Its place is given back once the node has closed its side.
    await waitFor(() => victim.inboundHandshakeStats().pending === 0, { timeoutMs: 10_000, what: 'no handshake left in progress' })
  }, TEST_TIMEOUT_MS)
})
