import { P2pBootstrapError } from '../errors.js'

/**
 * Codes of errors raised while reading or building a network token. Each one names a different
 * thing the operator can fix, so the CLI and the agent branch on the code, never on the text.
 */
export type TokenErrorCode =
  | 'TOKEN_EMPTY' // nothing left after trimming whitespace
  | 'TOKEN_PREFIX' // neither a p2p-bootstrap token nor a Kairos/EdgeVPN token
  | 'TOKEN_VERSION' // a p2p-bootstrap token of a version this build does not know
  | 'TOKEN_BASE64' // the payload part is not base64url
  | 'TOKEN_CHECKSUM' // the checksum is missing or does not match: mistyped or truncated
  | 'TOKEN_MALFORMED' // checksum fine but the payload does not decode (or the text is oversized)
  | 'TOKEN_FIELD' // a field is out of range (even controlPlanes, bad vip, …)
  | 'TOKEN_KAIROS' // a Kairos/EdgeVPN token that lacks a secret we derive from

/** A network token that cannot be read or built; the message names the offending part. */
export class TokenError extends P2pBootstrapError<TokenErrorCode> {}
