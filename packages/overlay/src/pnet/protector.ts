import { AbstractMultiaddrConnection, byteStream } from '@libp2p/utils'
import type { AbortOptions, ConnectionProtector, Logger, MessageStream, MultiaddrConnection } from '@libp2p/interface'
import type { SendResult } from '@libp2p/utils'
import { KeystreamExhaustedError, NONCE_BYTES, XSalsa20Keystream } from './keystream.js'
import { decodeSwarmKey } from './swarm-key.js'

/**
 * libp2p's private network (pnet) connection protector, on `@noble/ciphers`' XSalsa20 instead of
 * the `xsalsa20` package (whose shared WebAssembly memory makes it throw after one large chunk,
 * see keystream.ts). The wire format is pnet's, byte for byte: each side sends a random 24-byte
 * nonce in clear, then every byte it sends is XORed with XSalsa20(psk, its own nonce) and every
 * byte it receives with XSalsa20(psk, the peer's nonce), as one continuous keystream per direction.
 * A node on this protector and one on `@libp2p/pnet` with the same key connect to each other.
 */

export interface PrivateNetworkInit {
  /** The pre-shared key in swarm-key text form (what `@libp2p/pnet`'s `preSharedKey` takes). */
  readonly psk: Uint8Array
  /** The nonce exchange must finish within this many milliseconds (pnet's default: 1 s). */
  readonly timeout?: number
}

const HANDSHAKE_TIMEOUT_MS_DEFAULT = 1_000

class PrivateNetworkProtector implements ConnectionProtector {
  readonly #psk: Uint8Array
  readonly #timeoutMs: number

  constructor (init: PrivateNetworkInit) {
    this.#psk = decodeSwarmKey(init.psk)
    this.#timeoutMs = init.timeout ?? HANDSHAKE_TIMEOUT_MS_DEFAULT
  }

  readonly [Symbol.toStringTag] = '@p2p-bootstrap/pnet'

  async protect (connection: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    const log = connection.log.newScope('pnet')
    const localNonce = crypto.getRandomValues(new Uint8Array(NONCE_BYTES))
    // Its own bound even inside libp2p's upgrade signal (5 s on lan): a peer that sends no nonce
    // is dropped after `timeout`, not when the whole upgrade gives up.
    const ownTimeout = AbortSignal.timeout(this.#timeoutMs)
    const signal = options?.signal === undefined ? ownTimeout : AbortSignal.any([options.signal, ownTimeout])
    const bytes = byteStream(connection)
    const [remote] = await Promise.all([
      bytes.read({ bytes: NONCE_BYTES, signal }),
      bytes.write(localNonce, { signal })
    ])
    log('exchanged nonces')
    return new PrivateNetworkConnection({
      inner: asMultiaddrConnection(bytes.unwrap()),
      localNonce,
      remoteNonce: remote.subarray(),
      psk: this.#psk,
      log
    })
  }
}

interface PrivateNetworkConnectionInit {
  readonly inner: MultiaddrConnection
  readonly localNonce: Uint8Array
  readonly remoteNonce: Uint8Array
  readonly psk: Uint8Array
  readonly log: Logger
}

/** What libp2p hands `sendData`: a list of byte chunks. */
type OutgoingBytes = Parameters<AbstractMultiaddrConnection['sendData']>[0]

/** The protected connection: XORs in both directions and passes flow control and closing through. */
class PrivateNetworkConnection extends AbstractMultiaddrConnection {
  readonly #inner: MultiaddrConnection
  readonly #inbound: XSalsa20Keystream
  readonly #outbound: XSalsa20Keystream

  constructor (init: PrivateNetworkConnectionInit) {
    super({ log: init.log, remoteAddr: init.inner.remoteAddr, direction: init.inner.direction })
    this.#inner = init.inner
    this.#inbound = new XSalsa20Keystream(init.psk, init.remoteNonce)
    this.#outbound = new XSalsa20Keystream(init.psk, init.localNonce)
    this.#inner.addEventListener('message', (event) => {
      const data = event.data
      try {
        if (data instanceof Uint8Array) this.onData(this.#inbound.update(data))
        else for (const chunk of data) this.onData(this.#inbound.update(chunk))
      } catch (err) {
        // Only an exhausted keystream throws: end this connection, never the process.
        this.abort(err instanceof Error ? err : new KeystreamExhaustedError())
      }
    })
    this.#inner.addEventListener('drain', () => { this.onMuxerDrain() })
    this.#inner.addEventListener('close', (event) => {
      if (event.error == null) this.onTransportClosed()
      else if (event.local === true) this.abort(event.error)
      else this.onRemoteReset()
    })
  }

  async sendClose (options?: AbortOptions): Promise<void> {
    await this.#inner.close(options)
  }

  sendData (data: OutgoingBytes): SendResult {
    const sealed = this.#outbound.update(data.subarray())
    return { sentBytes: data.byteLength, canSendMore: this.#inner.send(sealed) }
  }

  sendReset (err: Error): void {
    this.#inner.abort(err)
  }

  sendPause (): void {
    this.#inner.pause()
  }

  sendResume (): void {
    this.#inner.resume()
  }
}

/** libp2p hands a protector the raw connection; pnet's own code relies on it being a multiaddr connection. */
function asMultiaddrConnection (stream: MessageStream): MultiaddrConnection {
  if (!('remoteAddr' in stream)) throw new TypeError('the private network protects multiaddr connections only')
  return stream as MultiaddrConnection
}

/** A connection protector factory for libp2p's `connectionProtector` option. */
export function privateNetwork (init: PrivateNetworkInit): () => ConnectionProtector {
  return () => new PrivateNetworkProtector(init)
}
