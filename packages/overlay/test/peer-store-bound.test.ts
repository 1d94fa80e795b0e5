// Goal: the peer store of a real overlay node stays bounded however many peer ids discovery
// reports (issue 19: bounded peer-store size; issue 20: an outsider on the LAN who knows the mDNS
// service name announcing peer ids). Discovery is played the way libp2p plays it: each
// discovered peer is merged into the peer store (what libp2p does with every peer an mDNS or DHT
// discovery emits). Beyond PEER_STORE_OTHERS_MAX peers that are neither members, static peers nor
// connected, the oldest are deleted and counted; a member, a static peer and a connected peer,
// all older than every announced id, are never deleted. Method: count the store's entries.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { PeerId } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { afterEach, describe, expect, it } from 'vitest'
import { waitFor } from '../../../test/helpers/wait.js'
import { PEER_STORE_OTHERS_MAX } from '../src/index.js'
import type { Overlay } from '../src/index.js'
import { startTestNode, stopAll, testKeys } from './fixtures.js'

const TEST_TIMEOUT_MS = 60_000
/** Announced beyond the bound: this many of the oldest announced ids must go. */
const OVER = 100
/** Nothing listens here: dials to announced ids fail at once. */
const NOWHERE = multiaddr('/ip4/127.0.0.1/tcp/1')

const nodes: Overlay[] = []

afterEach(async () => {
  await stopAll(nodes.splice(0))
})

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

async function storedIds (node: Overlay): Promise<Set<string>> {
  return new Set((await node.libp2p.peerStore.all()).map(peer => peer.id.toString()))
}

describe('peer store bound', () => {
  it('keeps at most PEER_STORE_OTHERS_MAX other peers, evicts the oldest, and never a member, static or connected peer', async () => {
    const keys = testKeys()
    const member = await newPeerId()
    const staticPeer = await newPeerId()
    const victim = await startTestNode(keys, { peers: [`/ip4/127.0.0.1/tcp/1/p2p/${staticPeer.toString()}`] })
    const neighbour = await startTestNode(keys)
    nodes.push(victim, neighbour)
    victim.setMembers([member.toString()])
    // The protected peers enter the store first, so the oldest-first eviction meets them first.
    await victim.libp2p.peerStore.merge(member, { multiaddrs: [NOWHERE] })
    await victim.libp2p.peerStore.merge(staticPeer, { multiaddrs: [NOWHERE] })
    await neighbour.dial(victim.addresses()[0] ?? '')
    await waitFor(async () => (await storedIds(victim)).has(neighbour.peerId), { timeoutMs: 10_000, what: 'the connected neighbour in the peer store' })
    expect(victim.peerStoreStats().evicted).toBe(0)

    const announced: PeerId[] = []
    for (let index = 0; index < PEER_STORE_OTHERS_MAX + OVER; index++) announced.push(await newPeerId())
    for (const id of announced) await victim.libp2p.peerStore.merge(id, { multiaddrs: [NOWHERE] })
    await waitFor(async () => (await storedIds(victim)).size <= PEER_STORE_OTHERS_MAX + 3, { timeoutMs: 20_000, what: 'the evicted peers deleted from the store' })

    const stored = await storedIds(victim)
    expect(stored.has(member.toString())).toBe(true)
    expect(stored.has(staticPeer.toString())).toBe(true)
    expect(stored.has(neighbour.peerId)).toBe(true)
    expect(victim.connectedPeers()).toContain(neighbour.peerId)
    const kept = announced.filter(id => stored.has(id.toString()))
    expect(kept.length).toBe(PEER_STORE_OTHERS_MAX)
    // The oldest announced ids went, the newest stayed.
    expect(announced.slice(0, OVER).some(id => stored.has(id.toString()))).toBe(false)
    expect(announced.slice(OVER).every(id => stored.has(id.toString()))).toBe(true)
    expect(victim.peerStoreStats().evicted).toBe(OVER)

    // An evicted id announced again is stored again, and the oldest remaining one makes room.
    const returning = announced[0]
    const oldestKept = announced[OVER]
    if (returning === undefined || oldestKept === undefined) throw new Error('announced ids missing')
    await victim.libp2p.peerStore.merge(returning, { multiaddrs: [NOWHERE] })
    await waitFor(async () => !(await storedIds(victim)).has(oldestKept.toString()), { timeoutMs: 10_000, what: 'the oldest remaining announced id evicted' })
    expect((await storedIds(victim)).has(returning.toString())).toBe(true)
    expect(victim.peerStoreStats().evicted).toBe(OVER + 1)
  }, TEST_TIMEOUT_MS)
})
