// Goal: the peer messenger carries the core's messages between real overlay nodes in order and
// with the authenticated sender, reaches peers it only knows addresses of, drops what cannot leave
// without throwing, refuses bad frames from a token holder without losing the connection or the
// node, reaps idle streams, leaves no stream behind on stop, and lets queued messages leave on flush.
// Method: real libp2p overlays on 127.0.0.1 (test profile, no mDNS, no DHT) in this process, with
// the core's wire codec and SWIM pings as messages. Bad frames are written by a raw stream that a
// node with the right token opens on the protocol. Every wait polls a condition with a deadline
// (waitFor); every node is stopped in afterEach.
import { afterEach, describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import type { Stream } from '@libp2p/interface'
import {
  FRAME_BYTES_MAX, decodeWireMessage, deriveKeys, encodeWireMessage, generateToken
} from '@p2p-bootstrap/core'
import type { CoreMessage } from '@p2p-bootstrap/core'
import { waitFor } from '../../../test/helpers/wait.js'
import { OverlayError } from '../src/index.js'
import type { Overlay } from '../src/index.js'
import { PeerMessenger } from '../src/messaging/index.js'
import { encodeFrame } from '../src/messaging/frame-codec.js'
import type { FrameRejectedDetail, MessengerOptions, PeerUnreachableDetail } from '../src/messaging/index.js'
import { startTestNode, stopAll } from './fixtures.js'

const WAIT_MS = 5_000

type Ping = Extract<CoreMessage, { kind: 'swim/ping' }>

function ping (seq: number): Ping {
  return { kind: 'swim/ping', seq, incarnation: 0, gossip: [] }
}

function seqOf (message: CoreMessage): number {
  if (message.kind !== 'swim/ping') throw new Error(`expected a swim/ping, got ${message.kind}`)
  return message.seq
}

interface Received {
  from: string
  seq: number
}

/** An overlay node with a started messenger and everything it reported. */
interface TestPeer {
  overlay: Overlay
  messenger: PeerMessenger<CoreMessage>
  received: Received[]
  rejected: FrameRejectedDetail[]
  unreachable: PeerUnreachableDetail[]
}

const overlays: Overlay[] = []
const messengers: Array<PeerMessenger<CoreMessage>> = []

afterEach(async () => {
  await Promise.all(messengers.splice(0).map(async messenger => { await messenger.stop() }))
  await stopAll(overlays.splice(0))
})

interface Network {
  keys: ReturnType<typeof deriveKeys>
  protocol: string
}

/** A fresh network: its token's keys and its sync protocol id. */
function testNetwork (): Network {
  const keys = deriveKeys(generateToken())
  return { keys, protocol: `${keys.syncProtocolPrefix}/1.0.0` }
}

async function startOverlay (network: Network): Promise<Overlay> {
  const overlay = await startTestNode(network.keys)
  overlays.push(overlay)
  return overlay
}

async function startPeer (
  network: Network,
  options: Partial<MessengerOptions<CoreMessage>> = {}
): Promise<TestPeer> {
  const overlay = await startOverlay(network)
  const messenger = new PeerMessenger<CoreMessage>(overlay.libp2p, {
    protocol: network.protocol,
    encode: encodeWireMessage,
    decode: decodeWireMessage,
    maxFrameBytes: FRAME_BYTES_MAX,
    writeTimeoutMs: 2_000,
    dialTimeoutMs: 2_000,
    ...options
  })
  messengers.push(messenger)
  const peer: TestPeer = { overlay, messenger, received: [], rejected: [], unreachable: [] }
  messenger.addEventListener('message', (event) => {
    peer.received.push({ from: event.detail.from, seq: seqOf(event.detail.message) })
  })
  messenger.addEventListener('frame:rejected', (event) => { peer.rejected.push(event.detail) })
  messenger.addEventListener('peer:unreachable', (event) => { peer.unreachable.push(event.detail) })
  await messenger.start()
  return peer
}

function firstAddress (overlay: Overlay): string {
  const address = overlay.addresses()[0]
  if (address === undefined) throw new Error(`node ${overlay.peerId} listens nowhere`)
  return address
}

/** Dials `target` from `source` and waits until both ends have registered the connection. */
async function connect (source: TestPeer | Overlay, target: TestPeer | Overlay): Promise<void> {
  const from = 'overlay' in source ? source.overlay : source
  const to = 'overlay' in target ? target.overlay : target
  await from.dial(firstAddress(to))
  await waitFor(() => from.connectedPeers().includes(to.peerId) && to.connectedPeers().includes(from.peerId), {
    timeoutMs: WAIT_MS, what: 'both ends to see the connection'
  })
}

/** Streams of `protocol` on a node that are not fully closed (half-open ones included). */
function openStreams (overlay: Overlay, protocol: string): Stream[] {
  return overlay.libp2p.getConnections()
    .flatMap(connection => connection.streams)
    .filter(stream => stream.protocol === protocol && (stream.status === 'open' || stream.status === 'closing'))
}

async function randomPeerId (): Promise<string> {
  return peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
}

describe('PeerMessenger between two connected nodes', () => {
  it('delivers many messages in order both ways, with the sender as from, on one stream each way', async () => {
    const network = testNetwork()
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    await connect(alice, bob)
    const count = 300
    for (let seq = 0; seq < count; seq++) {
      alice.messenger.send(bob.overlay.peerId, ping(seq))
      bob.messenger.send(alice.overlay.peerId, ping(seq))
    }
    await waitFor(() => alice.received.length === count && bob.received.length === count, {
      timeoutMs: WAIT_MS, what: `${count} messages each way`
    })
    const expected = (from: string): Received[] => Array.from({ length: count }, (_, seq) => ({ from, seq }))
    expect(bob.received).toEqual(expected(alice.overlay.peerId))
    expect(alice.received).toEqual(expected(bob.overlay.peerId))
    // One long-lived outbound stream per direction carried every frame (streams cross, both fine).
    for (const peer of [alice, bob]) {
      const stats = peer.messenger.stats()
      expect(stats.streamsOpened).toBe(1)
      expect(stats.framesOut).toBe(count)
      expect(stats.framesIn).toBe(count)
      expect(stats.framesDropped).toBe(0)
      expect(stats.framesRejected).toBe(0)
    }
  })

  it('drops the oldest queued frames beyond queueFramesMax and sends the newest', async () => {
    const network = testNetwork()
    const alice = await startPeer(network, { queueFramesMax: 5 })
    const bob = await startPeer(network)
    await connect(alice, bob)
    // All sends happen before the stream opens (that needs an await), so the queue overflows.
    for (let seq = 0; seq < 50; seq++) alice.messenger.send(bob.overlay.peerId, ping(seq))
    await waitFor(() => bob.received.length === 5, { timeoutMs: WAIT_MS, what: 'the 5 newest messages' })
    expect(bob.received.map(received => received.seq)).toEqual([45, 46, 47, 48, 49])
    expect(alice.messenger.stats().framesDroppedBy.queueFull).toBe(45)
    expect(alice.messenger.stats().framesDropped).toBe(45)
  })

  it('refuses at send a frame above maxFrameBytes, and sends the next one', async () => {
    const network = testNetwork()
    const tiny = encodeWireMessage(ping(0)).byteLength
    const alice = await startPeer(network, { maxFrameBytes: tiny })
    const bob = await startPeer(network)
    await connect(alice, bob)
    alice.messenger.send(bob.overlay.peerId, ping(Number.MAX_SAFE_INTEGER))
    alice.messenger.send(bob.overlay.peerId, ping(1))
    await waitFor(() => bob.received.length === 1, { timeoutMs: WAIT_MS, what: 'the small message' })
    expect(bob.received).toEqual([{ from: alice.overlay.peerId, seq: 1 }])
    expect(alice.messenger.stats().framesDroppedBy.oversized).toBe(1)
  })

  it('keeps reading when a message listener throws', async () => {
    const network = testNetwork()
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    bob.messenger.addEventListener('message', () => { throw new Error('listener bug') })
    // Guarding listeners must not break removal or `once`.
    let removedCalls = 0
    let onceCalls = 0
    const removed = (): void => { removedCalls += 1 }
    bob.messenger.addEventListener('message', removed)
    bob.messenger.removeEventListener('message', removed)
    bob.messenger.addEventListener('message', () => { onceCalls += 1 }, { once: true })
    await connect(alice, bob)
    for (let seq = 0; seq < 3; seq++) alice.messenger.send(bob.overlay.peerId, ping(seq))
    await waitFor(() => bob.received.length === 3, { timeoutMs: WAIT_MS, what: 'three messages past a throwing listener' })
    expect(bob.received.map(received => received.seq)).toEqual([0, 1, 2])
    expect(removedCalls).toBe(0)
    expect(onceCalls).toBe(1)
    expect(bob.messenger.stats().listenerErrors).toBe(3)
    expect(bob.messenger.stats().streamErrors).toBe(0)
  })
})

describe('PeerMessenger reaching peers', () => {
  it('dials a peer it has no connection to, from addresses given to addPeerAddresses', async () => {
    const network = testNetwork()
    // A long back-off: only addPeerAddresses can end it within the test.
    const alice = await startPeer(network, { redialBackoffMs: 60_000 })
    const bob = await startPeer(network)
    const carol = await randomPeerId()
    expect(alice.overlay.connectedPeers()).toEqual([])
    // Before the addresses are known there is no route, and the peer goes into back-off.
    alice.messenger.send(bob.overlay.peerId, ping(6))
    await alice.messenger.flush({ signal: AbortSignal.timeout(WAIT_MS) })
    expect(alice.messenger.stats().framesDroppedBy.noRoute).toBe(1)
    const result = await alice.messenger.addPeerAddresses(bob.overlay.peerId, [
      ...bob.overlay.addresses(),
      'not a multiaddr',
      '/ip4/127.0.0.1/udp/4001',
      `/ip4/127.0.0.1/tcp/4001/p2p/${carol}`
    ])
    expect(result).toEqual({ merged: bob.overlay.addresses().length, skipped: 3 })
    expect(alice.messenger.stats().addressesSkipped).toBe(3)
    alice.messenger.send(bob.overlay.peerId, ping(7))
    await waitFor(() => bob.received.length === 1, { timeoutMs: WAIT_MS, what: 'the message over a new connection' })
    expect(bob.received).toEqual([{ from: alice.overlay.peerId, seq: 7 }])
    expect(alice.overlay.connectedPeers()).toEqual([bob.overlay.peerId])
    // Our own id is ignored, a bad peer id skips everything, and neither throws.
    expect(await alice.messenger.addPeerAddresses(alice.overlay.peerId, alice.overlay.addresses())).toEqual({ merged: 0, skipped: 0 })
    expect(await alice.messenger.addPeerAddresses('not-a-peer-id', ['/ip4/127.0.0.1/tcp/1'])).toEqual({ merged: 0, skipped: 1 })
  })

  it('drops and counts a message to a peer with no known address, without throwing', async () => {
    const network = testNetwork()
    const alice = await startPeer(network, { redialBackoffMs: 60_000 })
    const stranger = await randomPeerId()
    expect(() => { alice.messenger.send(stranger, ping(1)) }).not.toThrow()
    expect(() => { alice.messenger.send('not-a-peer-id', ping(2)) }).not.toThrow()
    expect(() => { alice.messenger.send(alice.overlay.peerId, ping(3)) }).not.toThrow()
    await alice.messenger.flush({ signal: AbortSignal.timeout(WAIT_MS) })
    // Within the back-off the next frame is dropped without another look-up or event.
    alice.messenger.send(stranger, ping(4))
    await alice.messenger.flush({ signal: AbortSignal.timeout(WAIT_MS) })
    const stats = alice.messenger.stats()
    expect(stats.framesDroppedBy.noRoute).toBe(1)
    expect(stats.framesDroppedBy.unreachable).toBe(1)
    expect(stats.framesDroppedBy.badPeer).toBe(2)
    expect(stats.framesDropped).toBe(4)
    expect(stats.dialFailures).toBe(0)
    expect(alice.unreachable.map(detail => detail.peerId)).toEqual([stranger])
  })

  it('counts a failed dial, then drops frames to that peer without dialling until the back-off passes', async () => {
    const network = testNetwork()
    const alice = await startPeer(network, { redialBackoffMs: 60_000 })
    const gone = await startOverlay(network)
    const goneId = gone.peerId
    const goneAddresses = gone.addresses()
    await gone.stop()
    await alice.messenger.addPeerAddresses(goneId, goneAddresses)
    alice.messenger.send(goneId, ping(1))
    await alice.messenger.flush({ signal: AbortSignal.timeout(WAIT_MS) })
    expect(alice.messenger.stats().dialFailures).toBe(1)
    expect(alice.messenger.stats().framesDroppedBy.unreachable).toBe(1)
    expect(alice.unreachable.map(detail => detail.peerId)).toEqual([goneId])
    for (let seq = 2; seq <= 4; seq++) alice.messenger.send(goneId, ping(seq))
    await alice.messenger.flush({ signal: AbortSignal.timeout(WAIT_MS) })
    expect(alice.messenger.stats().dialFailures).toBe(1)
    expect(alice.messenger.stats().framesDroppedBy.unreachable).toBe(4)
  })
})

describe('PeerMessenger refusing bad frames from a token holder', () => {
  /** Bob runs a messenger; raw is a node with the token but no messenger, connected to bob. */
  async function rawSetup (options: Partial<MessengerOptions<CoreMessage>> = {}): Promise<{ network: Network, bob: TestPeer, raw: Overlay, protocol: string }> {
    const network = testNetwork()
    const bob = await startPeer(network, options)
    const raw = await startOverlay(network)
    await connect(raw, bob)
    return { network, bob, raw, protocol: network.protocol }
  }

  async function openRaw (raw: Overlay, target: Overlay, protocol: string): Promise<Stream> {
    return await raw.libp2p.dialProtocol(peerIdFromString(target.peerId), protocol, { signal: AbortSignal.timeout(WAIT_MS) })
  }

  const validFrame = (seq: number): Uint8Array => encodeFrame(encodeWireMessage(ping(seq)))
  const varint = (value: number): number[] => {
    const bytes: number[] = []
    let rest = value
    while (rest >= 0x80) {
      bytes.push((rest % 0x80) | 0x80)
      rest = Math.floor(rest / 0x80)
    }
    bytes.push(rest)
    return bytes
  }

  const cases: Array<{ name: string, bytes: Uint8Array, closeAfter: boolean, code: FrameRejectedDetail['code'] }> = [
    { name: 'garbage bytes in a well-formed frame', bytes: encodeFrame(new Uint8Array([0xff, 0x00, 0x13, 0x37, 0xde, 0xad])), closeAfter: true, code: 'FRAME_UNDECODABLE' },
    { name: 'a truncated frame', bytes: new Uint8Array([...varint(100), ...new Uint8Array(10)]), closeAfter: true, code: 'FRAME_TRUNCATED' },
    // No body and the stream left open: the prefix alone must be refused.
    { name: 'a length prefix above maxFrameBytes', bytes: new Uint8Array(varint(FRAME_BYTES_MAX + 1)), closeAfter: false, code: 'FRAME_OVERSIZED' },
    { name: 'a bogus varint length', bytes: new Uint8Array([0x80, 0x80, 0x80, 0x80, 0x80]), closeAfter: false, code: 'FRAME_BAD_LENGTH' }
  ]

  it.each(cases)('rejects $name, aborts that stream only, and keeps working', async ({ bytes, closeAfter, code }) => {
    const { network, bob, raw, protocol } = await rawSetup()
    const alice = await startPeer(network)
    await connect(alice, bob)
    // A valid frame first on the same stream: it is delivered before the bad one is refused.
    const bad = await openRaw(raw, bob.overlay, protocol)
    bad.send(validFrame(1))
    bad.send(bytes)
    if (closeAfter) await bad.close()
    await waitFor(() => bob.rejected.length === 1, { timeoutMs: WAIT_MS, what: `the ${code} rejection` })
    expect(bob.rejected[0]).toMatchObject({ from: raw.peerId, code })
    expect(bob.messenger.stats().framesRejected).toBe(1)
    await waitFor(() => bad.status !== 'open', { timeoutMs: WAIT_MS, what: 'the bad stream to be aborted' })
    // The connection survives; a new stream from the same peer and a message from another peer both arrive.
    expect(bob.overlay.connectedPeers()).toContain(raw.peerId)
    const good = await openRaw(raw, bob.overlay, protocol)
    good.send(validFrame(2))
    await good.close()
    alice.messenger.send(bob.overlay.peerId, ping(3))
    await waitFor(() => bob.received.length === 3, { timeoutMs: WAIT_MS, what: 'the valid messages after the rejection' })
    expect(bob.received).toEqual(expect.arrayContaining([
      { from: raw.peerId, seq: 1 }, { from: raw.peerId, seq: 2 }, { from: alice.overlay.peerId, seq: 3 }
    ]))
    expect(bob.messenger.stats().framesRejected).toBe(1)
  })

  it('aborts an inbound stream that delivers nothing within the idle timeout', async () => {
    const { bob, raw, protocol } = await rawSetup({ idleStreamTimeoutMs: 300 })
    const silent = await openRaw(raw, bob.overlay, protocol)
    await waitFor(() => silent.status !== 'open', { timeoutMs: WAIT_MS, what: 'the silent stream to be closed' })
    expect(bob.messenger.stats().streamsIdleClosed).toBe(1)
    expect(openStreams(bob.overlay, protocol)).toEqual([])
    expect(bob.overlay.connectedPeers()).toContain(raw.peerId)
  })
})


describe('PeerMessenger stream lifecycle', () => {
  it('closes an idle outbound stream, and opens a new one for the next message', async () => {
    const network = testNetwork()
    const alice = await startPeer(network, { idleStreamTimeoutMs: 300 })
    const bob = await startPeer(network)
    await connect(alice, bob)
    alice.messenger.send(bob.overlay.peerId, ping(1))
    await waitFor(() => bob.received.length === 1, { timeoutMs: WAIT_MS, what: 'the first message' })
    await waitFor(() => openStreams(alice.overlay, network.protocol).length === 0 && openStreams(bob.overlay, network.protocol).length === 0, {
      timeoutMs: WAIT_MS, what: 'the idle stream to be closed on both ends'
    })
    // Closed by the sender's half-close, not by an error or the receiver's idle abort.
    expect(alice.messenger.stats().streamErrors).toBe(0)
    expect(bob.messenger.stats().streamsIdleClosed).toBe(0)
    alice.messenger.send(bob.overlay.peerId, ping(2))
    await waitFor(() => bob.received.length === 2, { timeoutMs: WAIT_MS, what: 'the message on a new stream' })
    expect(alice.messenger.stats().streamsOpened).toBe(2)
  })

  it('stop() leaves no open stream of the protocol, is idempotent, and a restart works again', async () => {
    const network = testNetwork()
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    await connect(alice, bob)
    alice.messenger.send(bob.overlay.peerId, ping(1))
    bob.messenger.send(alice.overlay.peerId, ping(1))
    await waitFor(() => alice.received.length === 1 && bob.received.length === 1, { timeoutMs: WAIT_MS, what: 'one message each way' })
    expect(openStreams(alice.overlay, network.protocol).length).toBeGreaterThan(0)
    await alice.messenger.stop()
    await alice.messenger.stop()
    await waitFor(() => openStreams(alice.overlay, network.protocol).length === 0 && openStreams(bob.overlay, network.protocol).length === 0, {
      timeoutMs: WAIT_MS, what: 'every stream of the protocol to close'
    })
    expect(alice.overlay.libp2p.getProtocols()).not.toContain(network.protocol)
    alice.messenger.send(bob.overlay.peerId, ping(2))
    expect(alice.messenger.stats().framesDroppedBy.stopped).toBe(1)
    await alice.messenger.start()
    await alice.messenger.start()
    alice.messenger.send(bob.overlay.peerId, ping(3))
    bob.messenger.send(alice.overlay.peerId, ping(3))
    await waitFor(() => alice.received.length === 2 && bob.received.length === 2, { timeoutMs: WAIT_MS, what: 'messages after the restart' })
    expect(bob.received.map(received => received.seq)).toEqual([1, 3])
  })

  it('refuses to start a second messenger on the same protocol of one node, and leaves the first working', async () => {
    const network = testNetwork()
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    const second = new PeerMessenger<CoreMessage>(bob.overlay.libp2p, {
      protocol: network.protocol, encode: encodeWireMessage, decode: decodeWireMessage, maxFrameBytes: FRAME_BYTES_MAX
    })
    const failure = await second.start().then(() => undefined, (err: unknown) => err)
    expect(failure).toBeInstanceOf(OverlayError)
    expect((failure as OverlayError).code).toBe('OVERLAY_BAD_OPTION')
    expect(second.isStarted).toBe(false)
    await connect(alice, bob)
    alice.messenger.send(bob.overlay.peerId, ping(1))
    await waitFor(() => bob.received.length === 1, { timeoutMs: WAIT_MS, what: 'a message to the first messenger' })
  })

  it('flush() resolves once every queued message has been handed to its stream', async () => {
    const network = testNetwork()
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    await connect(alice, bob)
    const count = 200
    for (let seq = 0; seq < count; seq++) alice.messenger.send(bob.overlay.peerId, ping(seq))
    expect(alice.messenger.stats().framesOut).toBe(0)
    await alice.messenger.flush({ signal: AbortSignal.timeout(WAIT_MS) })
    expect(alice.messenger.stats().framesOut).toBe(count)
    await waitFor(() => bob.received.length === count, { timeoutMs: WAIT_MS, what: 'every flushed message to arrive' })
  })

  it('flush() rejects with the reason of an aborted signal', async () => {
    const network = testNetwork()
    const alice = await startPeer(network)
    const bob = await startPeer(network)
    await connect(alice, bob)
    alice.messenger.send(bob.overlay.peerId, ping(1))
    const controller = new AbortController()
    const reason = new Error('gave up waiting')
    const flushed = alice.messenger.flush({ signal: controller.signal })
    controller.abort(reason)
    await expect(flushed).rejects.toBe(reason)
    await expect(alice.messenger.flush({ signal: controller.signal })).rejects.toBe(reason)
  })
})
