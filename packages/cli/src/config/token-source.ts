// The token and the shape, checked with the place each came from. The core's own messages say what
// is wrong with a token ("checksum does not match") but not which of the four places gave it, and
// a shape conflict named "the options" rather than the flag or config key: an operator with a
// flag, a file and an environment variable could not tell which to fix.
import { parseToken, TokenError } from '@p2p-bootstrap/core'
import type { NetworkToken } from '@p2p-bootstrap/core'
import { ConfigError } from './errors.js'
import type { RunFlags, RunSettings } from './types.js'

/** Where the token came from, in words that say how to change it. */
export function tokenPlace (settings: Pick<RunSettings, 'tokenSource' | 'configSource'>): string {
  switch (settings.tokenSource) {
    case 'flag': return 'the token given with --token'
    case 'stdin': return 'the token read from standard input'
    case 'env': return 'the token in P2PB_TOKEN'
    case 'file': return `the token in config ${settings.configSource ?? '(unknown file)'} (token: or p2p.network_token)`
  }
}

type ShapeField = 'expect' | 'controlPlanes' | 'vip' | 'name'

/** Each shape field's flag (none for the name) and config key. */
const SHAPE_PLACES: Readonly<Record<ShapeField, { flag?: keyof RunFlags & string, flagText?: string, key: string }>> = {
  expect: { flag: 'expect', flagText: '--expect', key: 'cluster.expect (or p2p.minimum_nodes)' },
  controlPlanes: { flag: 'controlPlanes', flagText: '--control-planes', key: 'cluster.control-planes (or p2p.auto.ha.master_nodes)' },
  vip: { flag: 'vip', flagText: '--vip', key: 'cluster.vip (or kubevip.eip)' },
  name: { key: 'cluster.name (or p2p.network_id)' }
}

/**
 * Parses the token text of `settings` and checks the shape the flags and file give against it;
 * throws a `TokenError` (its code kept) or `ConfigError` that names the place of each side.
 */
export function checkTokenAndShape (settings: RunSettings, flags: RunFlags): NetworkToken {
  let token: NetworkToken
  try {
    const { token: given } = settings.options
    token = typeof given === 'string' ? parseToken(given) : given
  } catch (err) {
    if (err instanceof TokenError) throw new TokenError(err.code, `${tokenPlace(settings)}: ${err.message}`, { cause: err })
    throw err
  }
  const shape = settings.options.shape ?? {}
  for (const field of ['expect', 'controlPlanes', 'vip', 'name'] as const) {
    const fromToken = token[field]
    const fromOptions = shape[field]
    if (fromToken === undefined || fromOptions === undefined || fromToken === fromOptions) continue
    const place = SHAPE_PLACES[field]
    const optionPlace = place.flag !== undefined && flags[place.flag] !== undefined
      ? `${place.flagText ?? ''} ${String(fromOptions)}`
      : `${place.key} = ${String(fromOptions)} in config ${settings.configSource ?? '(unknown file)'}`
    throw new ConfigError('CLI_CONFIG', `${tokenPlace(settings)} says ${field} = ${String(fromToken)}, but ${optionPlace} says otherwise: ` +
      'every node must hold the same shape, so remove the setting (the token already carries it) or generate a new token')
  }
  return token
}
