/**
 * The network token: the one shared secret every node carries, its text form, the keys derived
 * from it, and the import of Kairos/EdgeVPN tokens.
 */
export { TokenError } from './errors.js'
export type { TokenErrorCode } from './errors.js'
export type { NetworkToken, TokenShape, GenerateTokenOptions } from './types.js'
export {
  TOKEN_PREFIX, TOKEN_VERSION_CURRENT, TOKEN_VERSIONS_KNOWN, SECRET_BYTES, EXPECT_MAX,
  CONTROL_PLANES_ALLOWED, NAME_CHARS_MAX, CREATED_MS_MAX, RENDEZVOUS_SLOT_MS_DEFAULT
} from './constants.js'
export { generateToken } from './generate.js'
export { formatToken } from './format.js'
export { parseToken } from './parse.js'
export { deriveKeys, rendezvousSlots } from './derive.js'
export type { DerivedKeys } from './derive.js'
