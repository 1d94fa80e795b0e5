import { deriveKeys, parseToken } from '@p2p-bootstrap/core'
import type { NetworkToken } from '@p2p-bootstrap/core'
import type { AbortOptions, Overlay } from './overlay.js'
import type { OverlayKeys } from './keys.js'
import type { OverlayOptions } from './options.js'

/** A token's text is parsed (a bad one throws the core's `TokenError`, whose code names the fault). */
function keysFromToken (token: string | NetworkToken): OverlayKeys {
  return deriveKeys(typeof token === 'string' ? parseToken(token) : token)
}

/**
 * Builds a private overlay node and starts it (unless `start: false`, to add listeners first).
 * Options are validated before anything runs; a bad one is an `OverlayError` naming it, a bad
 * token the core's `TokenError`.
 */
export async function createOverlay (options: OverlayOptions, abort: AbortOptions = {}): Promise<Overlay> {
  // Loaded only now: the libp2p stack (transports, noise, yamux, kad-dht) is most of an agent's
  // memory, and commands that never start a node (`--version`, `token`, `status`, `config check`)
  // reach this package through its index for its light helpers.
  const { createOverlayWith } = await import('./overlay.js')
  return await createOverlayWith(options, keysFromToken, abort)
}
