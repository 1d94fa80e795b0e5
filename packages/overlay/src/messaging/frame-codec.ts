import { FRAME_PREFIX_BYTES_MAX } from './limits.js'
import { FrameRejection } from './errors.js'

/**
 * Length-prefixed frames: an unsigned LEB128 varint byte count, then that many bytes. We decode
 * ourselves rather than with `lpStream` because the messenger must tell a stream that ended cleanly
 * between frames from one cut inside a frame (`lpStream` reports both as `UnexpectedEOFError`), and
 * must refuse a length above the limit from its prefix alone, before any of the body is kept.
 */

/** Bytes of the varint that encodes `value`. */
export function prefixLength (value: number): number {
  let bytes = 1
  let rest = value
  while (rest >= 0x80) {
    rest = Math.floor(rest / 0x80)
    bytes += 1
  }
  return bytes
}

/** One frame's bytes: the varint length of `payload`, then `payload`. */
export function encodeFrame (payload: Uint8Array): Uint8Array {
  const prefixBytes = prefixLength(payload.byteLength)
  const frame = new Uint8Array(prefixBytes + payload.byteLength)
  let rest = payload.byteLength
  for (let index = 0; index < prefixBytes - 1; index++) {
    frame[index] = (rest % 0x80) | 0x80
    rest = Math.floor(rest / 0x80)
  }
  frame[prefixBytes - 1] = rest
  frame.set(payload, prefixBytes)
  return frame
}

/**
 * Splits a byte stream into frame bodies. State survives across chunks, so a frame may arrive in
 * any number of pieces; body bytes are kept only once the prefix has shown the length is allowed,
 * and only as they arrive (a prefix alone never makes us allocate its length).
 */
export class FrameDecoder {
  private readonly prefixBytesMax: number
  /** Length decoded so far, and how many prefix bytes gave it; both 0 between frames. */
  private lengthValue = 0
  private lengthBytes = 0
  /** Body length of the frame being read, or -1 while its prefix is still being read. */
  private bodyLength = -1
  private readonly parts: Uint8Array[] = []
  private partsBytes = 0

  constructor (private readonly maxFrameBytes: number) {
    this.prefixBytesMax = Math.min(prefixLength(maxFrameBytes), FRAME_PREFIX_BYTES_MAX)
  }

  /** True if some bytes of a frame have arrived but not all: a stream ending now was cut. */
  get midFrame (): boolean {
    return this.lengthBytes > 0 || this.bodyLength >= 0
  }

  /** Yields each frame body completed by `chunk`; throws `FrameRejection` at the first bad prefix. */
  * frames (chunk: Uint8Array): Generator<Uint8Array> {
    let offset = 0
    while (offset < chunk.byteLength) {
      if (this.bodyLength < 0) {
        offset = this.readPrefixByte(chunk, offset)
        if (this.bodyLength === 0) yield this.takeFrame()
        continue
      }
      const take = Math.min(this.bodyLength - this.partsBytes, chunk.byteLength - offset)
      this.parts.push(chunk.subarray(offset, offset + take))
      this.partsBytes += take
      offset += take
      if (this.partsBytes === this.bodyLength) yield this.takeFrame()
    }
  }

  private readPrefixByte (chunk: Uint8Array, offset: number): number {
    const byte = chunk[offset] ?? 0
    this.lengthValue += (byte & 0x7f) * 2 ** (7 * this.lengthBytes)
    this.lengthBytes += 1
    // The value only grows with more prefix bytes, so it can be refused before the prefix ends.
    if (this.lengthValue > this.maxFrameBytes) {
      throw new FrameRejection('FRAME_OVERSIZED', `frame length ${this.lengthValue} is above the limit of ${this.maxFrameBytes} bytes`)
    }
    if ((byte & 0x80) !== 0) {
      if (this.lengthBytes >= this.prefixBytesMax) {
        throw new FrameRejection('FRAME_BAD_LENGTH', `frame length prefix runs past ${this.prefixBytesMax} bytes, more than any allowed length needs`)
      }
      return offset + 1
    }
    this.bodyLength = this.lengthValue
    return offset + 1
  }

  /** The completed body (copied, so it holds no view into the transport's buffers); resets state. */
  private takeFrame (): Uint8Array {
    const frame = new Uint8Array(this.partsBytes)
    let offset = 0
    for (const part of this.parts) {
      frame.set(part, offset)
      offset += part.byteLength
    }
    this.parts.length = 0
    this.partsBytes = 0
    this.bodyLength = -1
    this.lengthValue = 0
    this.lengthBytes = 0
    return frame
  }
}
