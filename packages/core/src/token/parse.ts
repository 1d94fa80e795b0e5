import { TOKEN_TEXT_CHARS_MAX } from './constants.js'
import { TokenError } from './errors.js'
import { hasNativePrefix, parseNativeToken } from './format.js'
import { importKairosDocument, readKairosDocument } from './kairos.js'
import type { NetworkToken } from './types.js'

const SHOWN_CHARS_MAX = 12

/**
 * Reads a token from text (surrounding whitespace ignored): a native `p2pb1.…` token, or a
 * Kairos/EdgeVPN token, which is imported. Throws a `TokenError` naming the problem and the part.
 */
export function parseToken (text: string): NetworkToken {
  const trimmed = text.trim()
  if (trimmed.length === 0) {
    throw new TokenError('TOKEN_EMPTY', 'token is empty: pass the text printed by \'p2p-bootstrap token generate\'')
  }
  if (trimmed.length > TOKEN_TEXT_CHARS_MAX) {
    throw new TokenError('TOKEN_MALFORMED', `token is ${trimmed.length} characters, over the limit of ${TOKEN_TEXT_CHARS_MAX}: is it really a token?`)
  }
  const breaks = /[\r\n]/.test(trimmed) ? 'line breaks' : /\s/.test(trimmed) ? 'spaces' : undefined
  if (breaks !== undefined) {
    // base64 and some editors wrap long lines (at 76 columns); a token is one line of text.
    throw new TokenError('TOKEN_MALFORMED', `token contains ${breaks}: it was probably wrapped or split when copied; join it into one line ` +
      '(`base64 -w0` prints a Kairos/EdgeVPN token unwrapped; in YAML, write the token on one line)')
  }
  if (hasNativePrefix(trimmed)) return parseNativeToken(trimmed)
  const kairosDocument = readKairosDocument(trimmed)
  if (kairosDocument !== undefined) return importKairosDocument(kairosDocument)
  throw new TokenError('TOKEN_PREFIX', `token starting ${JSON.stringify(trimmed.slice(0, SHOWN_CHARS_MAX))} is not a p2p-bootstrap token (they look like p2pb1.<payload>.<checksum>) nor a base64 Kairos/EdgeVPN token`)
}
