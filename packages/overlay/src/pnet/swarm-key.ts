import { hexToBytes } from '@noble/ciphers/utils.js'
import { KEY_BYTES } from './keystream.js'

/**
 * The swarm-key text libp2p's pnet reads (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits, one
 * per line), decoded to the 32-byte key. Same format, so a key that works with `@libp2p/pnet`
 * works here and the two interoperate.
 */

const SWARM_KEY_HEADER = '/key/swarm/psk/1.0.0/'
const SWARM_KEY_ENCODING = '/base16/'
const SWARM_KEY_HEX = new RegExp(`^[0-9a-fA-F]{${2 * KEY_BYTES}}$`)

export class SwarmKeyError extends Error {
  constructor (problem: string) {
    super(`the private-network key is not a swarm key: ${problem}; expected ${JSON.stringify(SWARM_KEY_HEADER)}, ${JSON.stringify(SWARM_KEY_ENCODING)} and ${2 * KEY_BYTES} hex digits on three lines`)
    this.name = 'SwarmKeyError'
  }
}

export function decodeSwarmKey (text: Uint8Array): Uint8Array {
  const lines = new TextDecoder().decode(text).trim().split(/\r\n|\r|\n/)
  if (lines[0] !== SWARM_KEY_HEADER) throw new SwarmKeyError('wrong first line')
  if (lines[1] !== SWARM_KEY_ENCODING) throw new SwarmKeyError('only base16 keys are supported')
  const hex = lines[2] ?? ''
  if (!SWARM_KEY_HEX.test(hex)) throw new SwarmKeyError(`the key line holds ${hex.length} characters, not ${2 * KEY_BYTES} hex digits`)
  return hexToBytes(hex.toLowerCase())
}
