/**
 * The base of every error this project throws on purpose. Callers branch on `code`, never on the
 * message text; the message says what went wrong and what to do next.
 */
export class P2pBootstrapError<Code extends string = string> extends Error {
  readonly code: Code

  constructor (code: Code, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Codes of errors raised while decoding bytes that came from outside (network frames, files). */
export type CodecErrorCode =
  | 'CODEC_OVERSIZED'
  | 'CODEC_MALFORMED'
  | 'CODEC_INVALID'

/** Bytes that could not be decoded: too large, not CBOR, or not of the expected shape. */
export class CodecError extends P2pBootstrapError<CodecErrorCode> {}

/** Codes of errors about node identities and signatures. */
export type IdentityErrorCode =
  | 'IDENTITY_BAD_NODE_ID'
  | 'IDENTITY_BAD_KEY'

/** A node id or key that is not an Ed25519 libp2p identity. */
export class IdentityError extends P2pBootstrapError<IdentityErrorCode> {}

/** An error about one file or directory: `path` names it, the message says what to do. */
export class PathError<Code extends string = string> extends P2pBootstrapError<Code> {
  readonly path: string

  constructor (code: Code, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options)
    this.path = path
  }
}
