import { OverlayError } from './errors.js'

/**
 * Names a failed dial for the operator. libp2p reports a failure right after the pnet layer as
 * `EncryptionFailedError`: the encrypter negotiation that follows pnet read garbage or was hung up
 * on, which is what a peer with another pre-shared key (another token) produces.
 */
export function dialError (address: string, err: unknown): OverlayError {
  const name = err instanceof Error ? err.name : typeof err
  const detail = err instanceof Error ? err.message : String(err)
  if (name === 'EncryptionFailedError') {
    return new OverlayError(
      'OVERLAY_HANDSHAKE_REFUSED',
      `dial to ${address} failed in the private-network handshake (${detail}): the peer most likely carries another network token; check that both nodes use the same token`,
      { cause: err }
    )
  }
  return new OverlayError(
    'OVERLAY_DIAL_FAILED',
    `dial to ${address} failed (${name}: ${detail}); check the address and that the peer is running`,
    { cause: err }
  )
}
