// Goal: the messenger's pure parts hold their contracts: frames survive any split into chunks, a
// length above the limit or a prefix that is not a varint is refused from the prefix alone, a cut
// frame is noticed, bad options are refused naming the option, and only TCP addresses of the named
// peer are accepted from the network.
// Method: tables of cases against the frame codec, the option resolver and the address checker,
// plus a split-at-every-boundary check of the decoder against the frames that were encoded.
import { describe, expect, it } from 'vitest'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { OverlayError } from '../src/index.js'
import { FrameRejection } from '../src/messaging/index.js'
import { FrameDecoder, encodeFrame } from '../src/messaging/frame-codec.js'
import { checkPeerAddress } from '../src/messaging/peer-addresses.js'
import type { MessengerOptions } from '../src/messaging/index.js'
import { resolveMessengerOptions } from '../src/messaging/options.js'

function bytesOfLength (length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, index) => (index * 31 + 7) % 256)
}

function concat (parts: readonly Uint8Array[]): Uint8Array {
  const whole = new Uint8Array(parts.reduce((sum, part) => sum + part.byteLength, 0))
  let offset = 0
  for (const part of parts) {
    whole.set(part, offset)
    offset += part.byteLength
  }
  return whole
}

function decodeAll (decoder: FrameDecoder, chunks: readonly Uint8Array[]): Uint8Array[] {
  return chunks.flatMap(chunk => [...decoder.frames(chunk)])
}

function rejectionOf (run: () => void): FrameRejection {
  try {
    run()
  } catch (err) {
    expect(err).toBeInstanceOf(FrameRejection)
    return err as FrameRejection
  }
  throw new Error('expected a FrameRejection, nothing was thrown')
}

describe('frame codec', () => {
  it.each([0, 1, 127, 128, 300, 16_383, 16_384, 65_536])('round-trips a %i-byte frame in one chunk', (length) => {
    const payload = bytesOfLength(length)
    const decoder = new FrameDecoder(65_536)
    expect(decodeAll(decoder, [encodeFrame(payload)])).toEqual([payload])
    expect(decoder.midFrame).toBe(false)
  })

  it.each([
    [0, [0x00]], [1, [0x01]], [127, [0x7f]], [128, [0x80, 0x01]], [300, [0xac, 0x02]], [16_384, [0x80, 0x80, 0x01]]
  ])('prefixes a %i-byte frame with the varint %j', (length, prefix) => {
    expect([...encodeFrame(bytesOfLength(length)).subarray(0, prefix.length)]).toEqual(prefix)
  })

  it('yields the same frames however the stream is split into chunks', () => {
    const payloads = [bytesOfLength(0), bytesOfLength(5), bytesOfLength(200), bytesOfLength(1)]
    const stream = concat(payloads.map(encodeFrame))
    for (let cut = 0; cut <= stream.byteLength; cut++) {
      expect(decodeAll(new FrameDecoder(1024), [stream.subarray(0, cut), stream.subarray(cut)])).toEqual(payloads)
    }
    const oneByteChunks = Array.from(stream, byte => Uint8Array.of(byte))
    expect(decodeAll(new FrameDecoder(1024), oneByteChunks)).toEqual(payloads)
  })

  it('notices a stream cut inside the prefix or the body', () => {
    const frame = encodeFrame(bytesOfLength(200))
    for (const cut of [1, 2, 50, frame.byteLength - 1]) {
      const decoder = new FrameDecoder(1024)
      expect(decodeAll(decoder, [frame.subarray(0, cut)])).toEqual([])
      expect(decoder.midFrame).toBe(true)
    }
  })

  it('refuses a length above the limit from the prefix alone', () => {
    const decoder = new FrameDecoder(1000)
    // The prefix of a 1001-byte frame, with no body at all.
    const rejection = rejectionOf(() => decodeAll(decoder, [encodeFrame(bytesOfLength(1001)).subarray(0, 2)]))
    expect(rejection.code).toBe('FRAME_OVERSIZED')
    // A limit-sized frame is still accepted.
    expect(decodeAll(new FrameDecoder(1000), [encodeFrame(bytesOfLength(1000))])).toHaveLength(1)
  })

  it('refuses a prefix that runs past the bytes any allowed length needs', () => {
    // 1 MiB needs 3 varint bytes; a fourth continuation byte can only be garbage.
    const rejection = rejectionOf(() => decodeAll(new FrameDecoder(1024 * 1024), [Uint8Array.of(0x80, 0x80, 0x80, 0x80)]))
    expect(rejection.code).toBe('FRAME_BAD_LENGTH')
  })

  it('delivers the frames before a bad prefix in the same chunk, then refuses it', () => {
    const good = bytesOfLength(3)
    const decoder = new FrameDecoder(10)
    const seen: Uint8Array[] = []
    const rejection = rejectionOf(() => {
      for (const frame of decoder.frames(concat([encodeFrame(good), Uint8Array.of(0x7f)]))) seen.push(frame)
    })
    expect(seen).toEqual([good])
    expect(rejection.code).toBe('FRAME_OVERSIZED')
  })
})

describe('messenger options', () => {
  const valid: MessengerOptions<string> = {
    protocol: '/p2pb-sync/0123456789ab/1.0.0',
    encode: (message) => new TextEncoder().encode(message),
    decode: (bytes) => new TextDecoder().decode(bytes),
    maxFrameBytes: 1024 * 1024
  }

  it('fills in the defaults', () => {
    const resolved = resolveMessengerOptions(valid)
    expect(resolved.queueFramesMax).toBe(512)
    expect(resolved.maxInboundStreams).toBe(8)
    expect(resolved.queueBytesMax).toBeGreaterThanOrEqual(valid.maxFrameBytes)
  })

  it.each<[string, Partial<Record<keyof MessengerOptions<string>, unknown>>]>([
    ['protocol', { protocol: 'p2pb-sync' }],
    ['protocol', { protocol: '/p2pb sync/1.0.0' }],
    ['encode', { encode: undefined }],
    ['decode', { decode: 'decodeWireMessage' }],
    ['maxFrameBytes', { maxFrameBytes: undefined }],
    ['maxFrameBytes', { maxFrameBytes: 0 }],
    ['maxFrameBytes', { maxFrameBytes: 64 * 1024 * 1024 }],
    ['queueFramesMax', { queueFramesMax: 0 }],
    ['queueFramesMax', { queueFramesMax: 1.5 }],
    ['queueBytesMax', { queueBytesMax: 1024 }],
    ['writeTimeoutMs', { writeTimeoutMs: -1 }],
    ['idleStreamTimeoutMs', { idleStreamTimeoutMs: 10 ** 9 }],
    ['dialTimeoutMs', { dialTimeoutMs: 1 }],
    ['redialBackoffMs', { redialBackoffMs: Number.NaN }],
    ['maxInboundStreams', { maxInboundStreams: 0 }]
  ])('refuses a bad %s', (option, override) => {
    const options = { ...valid, ...override } as unknown as MessengerOptions<string>
    let failure: unknown
    try {
      resolveMessengerOptions(options)
    } catch (err) {
      failure = err
    }
    expect(failure).toBeInstanceOf(OverlayError)
    expect((failure as OverlayError).code).toBe('OVERLAY_BAD_OPTION')
    expect((failure as OverlayError).message).toContain(`option ${option}`)
  })
})

describe('addresses learned from the network', () => {
  it('accepts only host/tcp addresses, with or without the /p2p of the same peer', async () => {
    const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const otherId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
    const cases: Array<[unknown, string | undefined]> = [
      ['/ip4/10.0.0.5/tcp/4001', '/ip4/10.0.0.5/tcp/4001'],
      [`/ip4/10.0.0.5/tcp/4001/p2p/${peerId}`, '/ip4/10.0.0.5/tcp/4001'],
      ['/ip6/::1/tcp/4001', '/ip6/::1/tcp/4001'],
      ['/dns4/node-1.lan/tcp/4001', '/dns4/node-1.lan/tcp/4001'],
      [`/ip4/10.0.0.5/tcp/4001/p2p/${otherId}`, undefined],
      ['/ip4/10.0.0.5/udp/4001/quic-v1', undefined],
      ['/ip4/10.0.0.5/tcp/4001/ws', undefined],
      [`/ip4/10.0.0.5/tcp/4001/p2p/${peerId}/p2p-circuit`, undefined],
      ['/ip4/10.0.0.5', undefined],
      ['not a multiaddr', undefined],
      [42, undefined],
      [`/ip4/10.0.0.5/tcp/4001/${'x'.repeat(600)}`, undefined]
    ]
    for (const [value, expected] of cases) {
      expect(checkPeerAddress(peerId, value)?.toString(), String(value)).toBe(expected)
    }
  })
})
