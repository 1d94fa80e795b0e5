import { xsalsa20 } from '@noble/ciphers/salsa.js'

/**
 * One direction of a private-network connection: the XSalsa20 keystream of (pre-shared key,
 * nonce), XORed over the bytes in order, however they are chunked. This is what libp2p's pnet
 * does with the `xsalsa20` package; that package keeps one WebAssembly memory for every cipher
 * and a stale view of it in each, so after one large chunk any two ciphers grow it in turn until
 * `Memory.grow()` throws (a RangeError that took whole fleets down). Here each update is a pure
 * call of `@noble/ciphers`' XSalsa20 at the right block counter, with no shared state.
 */

/** XSalsa20 works in 64-byte blocks; the stream position picks the block and the offset in it. */
export const BLOCK_BYTES = 64
export const KEY_BYTES = 32
export const NONCE_BYTES = 24

/**
 * Blocks one direction may use: noble exposes the low 32 bits of Salsa20's block counter. At
 * 256 GiB in one direction the connection is closed (a new one has fresh nonces) rather than wrap
 * the keystream, which would repeat it.
 */
export const KEYSTREAM_BLOCKS_MAX = 2 ** 32 - 1

export class KeystreamExhaustedError extends Error {
  constructor () {
    super(`a private-network connection used its ${KEYSTREAM_BLOCKS_MAX} keystream blocks; close it and connect again (new nonces)`)
    this.name = 'KeystreamExhaustedError'
  }
}

export class XSalsa20Keystream {
  readonly #key: Uint8Array
  readonly #nonce: Uint8Array
  /** Bytes of keystream used so far. */
  #position = 0
  /** Keystream of the block holding `#position` when it is inside a block, else null. */
  #partial: Uint8Array | null = null

  constructor (key: Uint8Array, nonce: Uint8Array) {
    if (key.byteLength !== KEY_BYTES) throw new RangeError(`an XSalsa20 key is ${KEY_BYTES} bytes, got ${key.byteLength}`)
    if (nonce.byteLength !== NONCE_BYTES) throw new RangeError(`an XSalsa20 nonce is ${NONCE_BYTES} bytes, got ${nonce.byteLength}`)
    this.#key = Uint8Array.from(key)
    this.#nonce = Uint8Array.from(nonce)
  }

  /** Bytes of keystream used so far. */
  get position (): number { return this.#position }

  /** XORs `input` with the next `input.byteLength` bytes of keystream, into a new array. */
  update (input: Uint8Array): Uint8Array {
    const output = new Uint8Array(input.byteLength)
    const blocksAfter = Math.ceil((this.#position + input.byteLength) / BLOCK_BYTES)
    if (blocksAfter > KEYSTREAM_BLOCKS_MAX) throw new KeystreamExhaustedError()
    let done = 0
    // The rest of a block begun by the previous update.
    const inBlock = this.#position % BLOCK_BYTES
    if (inBlock !== 0 && input.byteLength > 0) {
      const block = this.#partial ?? this.#blockKeystream(Math.floor(this.#position / BLOCK_BYTES))
      const take = Math.min(BLOCK_BYTES - inBlock, input.byteLength)
      for (let index = 0; index < take; index++) output[index] = (input[index] ?? 0) ^ (block[inBlock + index] ?? 0)
      done = take
      this.#partial = inBlock + take < BLOCK_BYTES ? block : null
    }
    // Whole blocks and the head of the next, in one call at the right counter.
    if (done < input.byteLength) {
      const counter = (this.#position + done) / BLOCK_BYTES
      xsalsa20(this.#key, this.#nonce, input.subarray(done), output.subarray(done), counter)
      const tail = (input.byteLength - done) % BLOCK_BYTES
      this.#partial = tail === 0 ? null : this.#blockKeystream(counter + Math.floor((input.byteLength - done) / BLOCK_BYTES))
    }
    this.#position += input.byteLength
    return output
  }

  #blockKeystream (counter: number): Uint8Array {
    return xsalsa20(this.#key, this.#nonce, new Uint8Array(BLOCK_BYTES), undefined, counter)
  }
}
