// Goal: the private-network cipher never throws on honest traffic, and our protector speaks
// libp2p pnet's wire format exactly. `xsalsa20@1.2.0` (the cipher of `@libp2p/pnet@3.0.27`) keeps
// a stale view of one shared WebAssembly memory per cipher: one large chunk, then small updates
// on two ciphers in turn, grow the memory until `Memory.grow()` throws a RangeError, which took
// whole fleets down. Method: the minimal reproduction (two ciphers on one key, 1 MiB on one, then
// 100-byte updates in turn) run against the upstream package (it throws) and against our keystream
// (it does not, and matches one-shot XSalsa20); our keystream against one-shot XSalsa20 and the
// upstream cipher on random chunkings; then real libp2p nodes: ours connect to a node on
// `@libp2p/pnet` with the same key and exchange data both ways, and one of ours survives a large
// transfer followed by a thousand small writes on two connections.
import { generateKeyPair } from '@libp2p/crypto/keys'
import { identify } from '@libp2p/identify'
import { noise } from '@libp2p/noise'
import { ping } from '@libp2p/ping'
import { preSharedKey } from '@libp2p/pnet'
import { tcp } from '@libp2p/tcp'
import { yamux } from '@libp2p/yamux'
import { byteStream } from '@libp2p/utils'
import type { Stream } from '@libp2p/interface'
import { xsalsa20 as xsalsa20OneShot } from '@noble/ciphers/salsa.js'
import fc from 'fast-check'
import { createLibp2p } from 'libp2p'
import type { Libp2p } from 'libp2p'
import { afterEach, describe, expect, it } from 'vitest'
import upstreamXSalsa20 from 'xsalsa20'
import { waitFor } from '../../../test/helpers/wait.js'
import type { Overlay } from '../src/index.js'
import { XSalsa20Keystream } from '../src/pnet/keystream.js'
import { SwarmKeyError, decodeSwarmKey } from '../src/pnet/swarm-key.js'
import { startTestNode, stopAll, testKeys } from './fixtures.js'

const KEY = Uint8Array.from({ length: 32 }, (_, index) => index * 7 + 1)
const NONCE = Uint8Array.from({ length: 24 }, (_, index) => 255 - index)
const MIB = 1024 * 1024
const SMALL_UPDATES = 1_000
const PROTOCOL = '/p2pb-test/pnet-echo/1.0.0'

/** The reproduction: 1 MiB on one cipher, then 100-byte updates on two ciphers in turn. */
function alternateAfterLargeChunk (a: { update: (input: Uint8Array) => Uint8Array }, b: { update: (input: Uint8Array) => Uint8Array }): void {
  a.update(new Uint8Array(MIB))
  for (let index = 0; index < SMALL_UPDATES; index++) (index % 2 === 0 ? a : b).update(new Uint8Array(100))
}

function concat (parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0))
  let offset = 0
  for (const part of parts) { out.set(part, offset); offset += part.byteLength }
  return out
}

function chunksOf (data: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = []
  let offset = 0
  for (const size of sizes) {
    if (offset >= data.byteLength) break
    chunks.push(data.subarray(offset, offset + size))
    offset += size
  }
  if (offset < data.byteLength) chunks.push(data.subarray(offset))
  return chunks
}

describe('pnet keystream', () => {
  it('the upstream cipher throws on the minimal reproduction (why we do not use it)', () => {
    const a = upstreamXSalsa20(NONCE, KEY)
    const b = upstreamXSalsa20(NONCE, KEY)
    expect(() => { alternateAfterLargeChunk(a, b) }).toThrow(RangeError)
  })

  it('ours does not, and its output is the one-shot XSalsa20 keystream', () => {
    const a = new XSalsa20Keystream(KEY, NONCE)
    const b = new XSalsa20Keystream(KEY, NONCE)
    const outputs: Uint8Array[] = []
    const large = a.update(new Uint8Array(MIB))
    for (let index = 0; index < SMALL_UPDATES; index++) {
      const out = (index % 2 === 0 ? a : b).update(new Uint8Array(100))
      if (index % 2 === 1) outputs.push(out)
    }
    expect(a.position).toBe(MIB + 100 * SMALL_UPDATES / 2)
    const reference = xsalsa20OneShot(KEY, NONCE, new Uint8Array(MIB + 100 * SMALL_UPDATES / 2))
    expect(large).toEqual(reference.subarray(0, MIB))
    // b saw only small updates: its output is the keystream from the start.
    expect(concat(outputs)).toEqual(reference.subarray(0, 100 * SMALL_UPDATES / 2))
  })

  it('any chunking gives the one-shot keystream and the upstream cipher\'s output', () => {
    fc.assert(fc.property(
      fc.uint8Array({ minLength: 0, maxLength: 2_000 }),
      fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 40 }),
      (data, sizes) => {
        const ours = new XSalsa20Keystream(KEY, NONCE)
        const upstream = upstreamXSalsa20(NONCE, KEY)
        const chunks = chunksOf(data, sizes)
        const mine = concat(chunks.map(chunk => ours.update(chunk)))
        const theirs = concat(chunks.map(chunk => upstream.update(chunk)))
        upstream.finalize()
        expect(mine).toEqual(xsalsa20OneShot(KEY, NONCE, data))
        expect(mine).toEqual(theirs)
      }
    ), { numRuns: 200 })
  })

  it('refuses a key or nonce of the wrong length', () => {
    expect(() => new XSalsa20Keystream(KEY, NONCE.subarray(1))).toThrow(/nonce is 24 bytes, got 23/)
    expect(() => new XSalsa20Keystream(KEY.subarray(1), NONCE)).toThrow(/key is 32 bytes, got 31/)
  })

  it('reads the swarm-key text @libp2p/pnet reads, and names what is wrong with a bad one', () => {
    const hex = Array.from(KEY, byte => byte.toString(16).padStart(2, '0')).join('')
    expect(decodeSwarmKey(new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${hex}\n`))).toEqual(KEY)
    expect(() => decodeSwarmKey(new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base64/\n${hex}`))).toThrow(SwarmKeyError)
    expect(() => decodeSwarmKey(new TextEncoder().encode(`/key/swarm/psk/1.0.0/\n/base16/\n${hex.slice(2)}`))).toThrow(/62 characters/)
  })
})

const overlays: Overlay[] = []
const upstreamNodes: Libp2p[] = []

afterEach(async () => {
  await stopAll(overlays.splice(0))
  await Promise.all(upstreamNodes.splice(0).map(async node => { await node.stop() }))
})

/** Echoes every byte back on the same stream until the writer closes its side. */
async function echo (stream: Stream): Promise<void> {
  try {
    for await (const chunk of stream) {
      if (!stream.send(chunk.subarray())) await stream.onDrain()
    }
    await stream.close()
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)))
  }
}

/** Writes `data` in `chunkBytes` pieces on a new echo stream and reads it all back. */
async function roundTrip (dial: () => Promise<Stream>, data: Uint8Array, chunkBytes: number): Promise<Uint8Array> {
  const stream = await dial()
  const bytes = byteStream(stream)
  const signal = AbortSignal.timeout(20_000)
  const reading = bytes.read({ bytes: data.byteLength, signal })
  for (let offset = 0; offset < data.byteLength; offset += chunkBytes) {
    await bytes.write(data.subarray(offset, offset + chunkBytes), { signal })
  }
  const back = (await reading).subarray()
  await stream.close().catch(() => {})
  return back
}

describe('pnet protector over real connections', () => {
  it('interoperates with @libp2p/pnet on the same key, both ways', async () => {
    const keys = testKeys()
    const ours = await startTestNode(keys)
    overlays.push(ours)
    await ours.libp2p.handle(PROTOCOL, (stream) => { void echo(stream) })
    const theirs = await createLibp2p({
      privateKey: await generateKeyPair('Ed25519'),
      addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
      transports: [tcp()],
      connectionProtector: preSharedKey({ psk: keys.pnetKey }),
      connectionEncrypters: [noise()],
      streamMuxers: [yamux()],
      services: { identify: identify(), ping: ping() }
    })
    upstreamNodes.push(theirs)
    await theirs.handle(PROTOCOL, (stream) => { void echo(stream) })
    // Under the bug's threshold on their side (a few hundred KB), so the comparison is fair.
    const data = Uint8Array.from({ length: 200_000 }, (_, index) => (index * 31) & 0xff)
    const theirAddress = theirs.getMultiaddrs()[0]
    if (theirAddress === undefined) throw new Error('the upstream node listens nowhere')
    const outbound = await roundTrip(async () => await ours.libp2p.dialProtocol(theirAddress, PROTOCOL), data, 1_500)
    expect(outbound).toEqual(data)
    const ourAddress = ours.libp2p.getMultiaddrs()[0]
    if (ourAddress === undefined) throw new Error('our node listens nowhere')
    const inbound = await roundTrip(async () => await theirs.dialProtocol(ourAddress, PROTOCOL), data, 700)
    expect(inbound).toEqual(data)
  }, 60_000)

  it('a large transfer, then a thousand small writes on two connections, crashes nothing', async () => {
    const keys = testKeys()
    const sender = await startTestNode(keys)
    const first = await startTestNode(keys)
    const second = await startTestNode(keys)
    overlays.push(sender, first, second)
    for (const node of [first, second]) await node.libp2p.handle(PROTOCOL, (stream) => { void echo(stream) })
    const address = (node: Overlay): NonNullable<ReturnType<Overlay['libp2p']['getMultiaddrs']>[number]> => {
      const found = node.libp2p.getMultiaddrs()[0]
      if (found === undefined) throw new Error('a node listens nowhere')
      return found
    }
    const large = Uint8Array.from({ length: MIB }, (_, index) => index & 0xff)
    expect(await roundTrip(async () => await sender.libp2p.dialProtocol(address(first), PROTOCOL), large, MIB)).toEqual(large)
    const streams = await Promise.all([first, second].map(async node => await sender.libp2p.dialProtocol(address(node), PROTOCOL)))
    const readers = streams.map(stream => byteStream(stream))
    const small = new Uint8Array(100).fill(9)
    const signal = AbortSignal.timeout(30_000)
    for (let index = 0; index < SMALL_UPDATES; index++) {
      const reader = readers[index % 2]
      if (reader === undefined) throw new Error('two streams')
      await reader.write(small, { signal })
      expect((await reader.read({ bytes: small.byteLength, signal })).subarray()).toEqual(small)
    }
    await Promise.all(streams.map(async stream => { await stream.close().catch(() => {}) }))
    // Still connected and answering: the cipher threw nowhere.
    await waitFor(() => sender.libp2p.getConnections().length >= 2, { timeoutMs: 5_000, what: 'both connections to stay open' })
    expect(await sender.libp2p.services.ping.ping(address(second), { signal: AbortSignal.timeout(5_000) })).toBeGreaterThanOrEqual(0)
  }, 90_000)
})
