// Goal: memory queued for peers that never read stays under the messenger's global bound, not the
// sum of the per-peer bounds. Finding: digest spam from a peer that never reads its side grew a
// victim from 123 to 423 MB. Method: a real sender and three real overlays that accept the
// protocol's streams and never read them; the sender queues far more than every bound for each;
// the bytes still queued stay under `queueBytesGlobalMax` (which binds before the per-peer sum),
// and the frames over it are counted as dropped.
import { afterEach, describe, expect, it } from 'vitest'
import { deriveKeys, generateToken } from '@p2p-bootstrap/core'
import type { Stream } from '@libp2p/interface'
import { waitFor } from '../../../test/helpers/wait.js'
import type { Overlay } from '../src/index.js'
import { PeerMessenger } from '../src/messaging/index.js'
import { startTestNode, stopAll } from './fixtures.js'

const FRAME_BYTES = 60 * 1024
const QUEUE_BYTES_PER_PEER = 256 * 1024
const QUEUE_BYTES_GLOBAL = 512 * 1024
const FRAMES_PER_PEER = 100

const overlays: Overlay[] = []
const messengers: Array<PeerMessenger<Uint8Array>> = []
const held: Stream[] = []

afterEach(async () => {
  for (const stream of held.splice(0)) stream.abort(new Error('test over'))
  await Promise.all(messengers.splice(0).map(async messenger => { await messenger.stop() }))
  await stopAll(overlays.splice(0))
})

describe('messenger under peers that never read', () => {
  it('keeps the bytes queued for all peers under the global bound', async () => {
    const keys = deriveKeys(generateToken())
    const protocol = `${keys.syncProtocolPrefix}/1.0.0`
    const sender = await startTestNode(keys)
    overlays.push(sender)
    const sinks = await Promise.all([0, 1, 2].map(async () => await startTestNode(keys)))
    overlays.push(...sinks)
    for (const sink of sinks) {
      // Accepts the stream and never reads it: the sender's writes back up.
      await sink.libp2p.handle(protocol, (stream) => { stream.pause(); held.push(stream) })
      await sender.dial(sink.addresses()[0] ?? '')
    }
    const messenger = new PeerMessenger<Uint8Array>(sender.libp2p, {
      protocol,
      encode: (bytes) => bytes,
      decode: (bytes) => bytes,
      maxFrameBytes: FRAME_BYTES,
      queueBytesMax: QUEUE_BYTES_PER_PEER,
      queueBytesGlobalMax: QUEUE_BYTES_GLOBAL,
      writeTimeoutMs: 30_000
    })
    messengers.push(messenger)
    await messenger.start()
    const frame = new Uint8Array(FRAME_BYTES - 8).fill(3)
    // All sent in one go, before any stream is open: everything waits in the queues.
    let queuedMost = 0
    for (let index = 0; index < FRAMES_PER_PEER; index++) {
      for (const sink of sinks) messenger.send(sink.peerId, frame)
      queuedMost = Math.max(queuedMost, messenger.queuedBytes())
    }
    // The per-peer bounds alone would allow more than the global one: the global one is what held.
    expect(QUEUE_BYTES_PER_PEER * sinks.length).toBeGreaterThan(QUEUE_BYTES_GLOBAL)
    expect(queuedMost).toBeLessThanOrEqual(QUEUE_BYTES_GLOBAL)
    expect(queuedMost).toBeGreaterThan(QUEUE_BYTES_PER_PEER)
    expect(messenger.stats().framesDroppedBy.queueFull).toBeGreaterThan(FRAMES_PER_PEER)
    await waitFor(() => held.length === sinks.length, { timeoutMs: 10_000, what: 'a stream to every sink' })
    expect(messenger.queuedBytes()).toBeLessThanOrEqual(QUEUE_BYTES_GLOBAL)
  }, 60_000)
})
