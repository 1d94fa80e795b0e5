// Goal: the DHT rendezvous lets nodes that share no LAN find each other: the slot CID is derived
// deterministically from the token's key, a round provides the current slot and looks up the
// current and previous ones, expected failures are counted and never thrown, and in a real
// private DHT two nodes that only know a third one find each other and connect.
// Method: the CID derivation against the core's keys; RendezvousDiscovery against a fake content
// router and routing table (an injected clock picks the slot); then real libp2p nodes on
// 127.0.0.1 with the DHT on and mDNS off, joined only by static peers to a middle node, where we
// listen to each node's rendezvous `peer` events and wait for the connections (waitFor).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import type { ComponentLogger, Logger, PeerId, Provider } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { deriveKeys, generateToken, rendezvousSlots } from '@p2p-bootstrap/core'
import { waitFor } from '../../../test/helpers/wait.js'
import type { Overlay } from '../src/index.js'
import { rendezvousCid } from '../src/discovery/rendezvous-cid.js'
import { RendezvousDiscovery, routingTableOf } from '../src/discovery/rendezvous.js'
import type { RendezvousComponents } from '../src/discovery/rendezvous.js'
import { startTestNode, stopAll, testKeys } from './fixtures.js'

const SLOT_MS = 60_000
const CONNECT_TIMEOUT_MS = 20_000

function silentLogger (): ComponentLogger {
  const log: Logger = Object.assign(() => {}, {
    enabled: false,
    error: () => {},
    trace: () => {},
    newScope: () => log
  })
  return { forComponent: () => log }
}

async function newPeerId (): Promise<PeerId> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
}

/** A routing table whose size the test sets, and which announces added peers. */
class FakeRoutingTable extends EventTarget {
  size = 0

  add (): void {
    this.size++
    this.dispatchEvent(new Event('peer:add'))
  }
}

/** A content router that records calls; `providers` answers lookups, `failing` makes every call throw. */
class FakeContentRouting {
  readonly provided: string[] = []
  readonly lookedUp: string[] = []
  readonly cancelled: string[] = []
  providers: Provider[] = []
  failing = false

  readonly provide = async (cid: CID): Promise<void> => {
    if (this.failing) throw new Error('no peers in the routing table')
    this.provided.push(cid.toString())
  }

  readonly cancelReprovide = async (cid: CID): Promise<void> => {
    this.cancelled.push(cid.toString())
  }

  readonly findProviders = (cid: CID): AsyncIterable<Provider> => {
    this.lookedUp.push(cid.toString())
    const { failing, providers } = this
    return (async function * () {
      if (failing) throw new Error('query timed out')
      yield * providers
    })()
  }
}

describe('rendezvousCid', () => {
  const token = generateToken()

  it('gives the same CID for the same slot, from two derivations of the same token', () => {
    const first = rendezvousCid(deriveKeys(token).rendezvousKey(42))
    const second = rendezvousCid(deriveKeys(token).rendezvousKey(42))
    expect(first.equals(second)).toBe(true)
    expect(first.toString()).toBe(second.toString())
  })

  it('is a CID v1, raw codec, sha256 multihash', () => {
    const cid = rendezvousCid(deriveKeys(token).rendezvousKey(42))
    expect(cid.version).toBe(1)
    expect(cid.code).toBe(0x55)
    expect(cid.multihash.code).toBe(0x12)
    expect(cid.multihash.digest).toHaveLength(32)
  })

  it('changes with the slot and with the token', () => {
    const keys = deriveKeys(token)
    const { current } = rendezvousSlots(Date.now())
    const now = rendezvousCid(keys.rendezvousKey(current))
    expect(now.equals(rendezvousCid(keys.rendezvousKey(current + 1)))).toBe(false)
    expect(now.equals(rendezvousCid(deriveKeys(generateToken()).rendezvousKey(current)))).toBe(false)
  })

  it('refuses a key that is not 32 bytes', () => {
    expect(() => rendezvousCid(new Uint8Array(16))).toThrow(/32 bytes/)
  })
})

describe('routingTableOf', () => {
  it('finds an event-emitting routing table, and nothing in objects without one', () => {
    const table = new FakeRoutingTable()
    expect(routingTableOf({ routingTable: table })).toBe(table)
    expect(routingTableOf({ routingTable: { size: 1 } })).toBeUndefined()
    expect(routingTableOf({})).toBeUndefined()
    expect(routingTableOf(undefined)).toBeUndefined()
  })
})

describe('RendezvousDiscovery rounds', () => {
  const keys = deriveKeys(generateToken())

  async function setup (nowMs: () => number): Promise<{ self: PeerId, table: FakeRoutingTable, routing: FakeContentRouting, rendezvous: RendezvousDiscovery }> {
    const self = await newPeerId()
    const table = new FakeRoutingTable()
    const routing = new FakeContentRouting()
    const components: RendezvousComponents = { peerId: self, contentRouting: routing, routingTable: table, logger: silentLogger() }
    // A long interval: only the routing table's first peer (or the test) starts a round.
    const rendezvous = new RendezvousDiscovery(components, {
      rendezvousKey: keys.rendezvousKey, intervalMs: 60_000, timeoutMs: 1_000, slotMs: SLOT_MS, nowMs
    })
    return { self, table, routing, rendezvous }
  }

  it('runs at once on the first routing peer: provides the current slot, looks up both, emits others', async () => {
    const nowMs = 10 * SLOT_MS + 5
    const { self, table, routing, rendezvous } = await setup(() => nowMs)
    const other = await newPeerId()
    routing.providers = [
      { id: self, multiaddrs: [], routing: 'fake' },
      { id: other, multiaddrs: [], routing: 'fake' }
    ]
    const found: string[] = []
    rendezvous.addEventListener('peer', (event) => { found.push(event.detail.id.toString()) })
    rendezvous.start()
    try {
      table.add()
      await waitFor(() => rendezvous.stats().lookups === 2, { timeoutMs: 5_000, what: 'one round of two lookups' })
      const current = rendezvousCid(keys.rendezvousKey(10)).toString()
      const previous = rendezvousCid(keys.rendezvousKey(9)).toString()
      expect(routing.provided).toEqual([current])
      expect(routing.lookedUp).toEqual([current, previous])
      // Ourselves never; the other provider once per round although both slots list it.
      expect(found).toEqual([other.toString()])
      expect(rendezvous.stats()).toMatchObject({ rounds: 1, provides: 1, providersFound: 1, provideFailures: 0, lookupFailures: 0 })
      // A second peer in the table does not start another round.
      table.add()
      expect(rendezvous.stats().rounds).toBe(1)
    } finally {
      await rendezvous.stop()
    }
  })

  it('counts failures of provide and lookup without throwing, and skips rounds with an empty table', async () => {
    const { table, routing, rendezvous } = await setup(() => 3 * SLOT_MS)
    routing.failing = true
    rendezvous.start()
    try {
      table.add()
      await waitFor(() => rendezvous.stats().lookupFailures === 2, { timeoutMs: 5_000, what: 'a failed round' })
      expect(rendezvous.stats()).toMatchObject({ rounds: 1, provides: 0, provideFailures: 1, lookups: 2, providersFound: 0 })
    } finally {
      await rendezvous.stop()
    }
  })

  it('cancels the re-providing of the past slot once the slot turns', async () => {
    let nowMs = 7 * SLOT_MS
    const self = await newPeerId()
    const table = new FakeRoutingTable()
    const routing = new FakeContentRouting()
    const rendezvous = new RendezvousDiscovery({ peerId: self, contentRouting: routing, routingTable: table, logger: silentLogger() }, {
      rendezvousKey: keys.rendezvousKey, intervalMs: 50, timeoutMs: 1_000, slotMs: SLOT_MS, nowMs: () => nowMs
    })
    rendezvous.start()
    try {
      table.add()
      await waitFor(() => routing.provided.length >= 1, { timeoutMs: 5_000, what: 'the first provide' })
      nowMs = 8 * SLOT_MS
      const next = rendezvousCid(keys.rendezvousKey(8)).toString()
      await waitFor(() => routing.provided.includes(next), { timeoutMs: 5_000, what: 'a round in the next slot' })
      expect(routing.cancelled).toEqual([rendezvousCid(keys.rendezvousKey(7)).toString()])
    } finally {
      await rendezvous.stop()
    }
  })

  it('runs no round after stop', async () => {
    const { table, rendezvous } = await setup(() => SLOT_MS)
    rendezvous.start()
    await rendezvous.stop()
    table.add()
    expect(rendezvous.stats().rounds).toBe(0)
  })
})

describe('overlay nodes without the rendezvous', () => {
  it('has none when the DHT is off, or when the keys carry no rendezvous key', async () => {
    const keys = testKeys()
    const { rendezvousKey: _unused, ...keysWithout } = keys
    const nodes = [
      await startTestNode(keys, { dht: false, start: false }),
      await startTestNode(keysWithout, { dht: true, start: false })
    ]
    try {
      expect(nodes.map(node => node.rendezvous)).toEqual([undefined, undefined])
      expect(nodes.map(node => node.discoveryStats().rendezvous)).toEqual([undefined, undefined])
    } finally {
      await stopAll(nodes)
    }
  })
})

describe('four nodes on the DHT that only know a middle node', () => {
  const keys = testKeys()
  const nodes = new Map<'a' | 'b' | 'c' | 'd', Overlay>()
  /** Peer ids each node's rendezvous reported, by node name. */
  const found = new Map<string, Set<string>>()

  async function start (name: 'a' | 'b' | 'c' | 'd', peers: string[]): Promise<Overlay> {
    const node = await startTestNode(keys, { dht: true, mdns: false, peers, start: false })
    const seen = new Set<string>()
    found.set(name, seen)
    node.rendezvous?.addEventListener('peer', (event) => { seen.add(event.detail.id.toString()) })
    await node.start()
    nodes.set(name, node)
    return node
  }

  function node (name: 'a' | 'b' | 'c' | 'd'): Overlay {
    const value = nodes.get(name)
    if (value === undefined) throw new Error(`node ${name} did not start`)
    return value
  }

  beforeAll(async () => {
    const middle = await start('b', [])
    const middleAddress = middle.addresses()[0] ?? ''
    await start('a', [middleAddress])
    await start('c', [middleAddress])
  })

  afterAll(async () => {
    await stopAll([...nodes.values()])
  })

  it('A and C find each other through the rendezvous and connect', async () => {
    const [a, c] = [node('a'), node('c')]
    await waitFor(() => (found.get('a')?.has(c.peerId) ?? false) && (found.get('c')?.has(a.peerId) ?? false), {
      timeoutMs: CONNECT_TIMEOUT_MS, what: 'A and C to find each other as rendezvous providers'
    })
    await waitFor(() => a.connectedPeers().includes(c.peerId), { timeoutMs: CONNECT_TIMEOUT_MS, what: 'A and C to connect' })
    expect(a.discoveryStats().rendezvous?.provides).toBeGreaterThan(0)
  })

  it('a late joiner D that knows only B is found by A and C', async () => {
    const d = await start('d', [node('b').addresses()[0] ?? ''])
    await waitFor(() => (found.get('a')?.has(d.peerId) ?? false) && (found.get('c')?.has(d.peerId) ?? false), {
      timeoutMs: CONNECT_TIMEOUT_MS, what: 'A and C to find the late joiner D'
    })
    // D's own rendezvous query runs on its own schedule: it finds A in time, not necessarily first.
    await waitFor(() => found.get('d')?.has(node('a').peerId) ?? false, { timeoutMs: CONNECT_TIMEOUT_MS, what: 'D to find A' })
    expect(found.get('d')?.has(node('a').peerId)).toBe(true)
  })
})
