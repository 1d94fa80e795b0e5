import { P2pBootstrapError } from '../errors.js'

/**
 * Codes of errors raised while sealing or opening cluster secrets. An authenticated cipher cannot
 * tell a wrong key from a damaged box, so each box carries a short key check: a mismatch there is
 * `SECRETS_WRONG_KEY`, a failure after it matched is `SECRETS_DAMAGED`.
 */
export type SecretsErrorCode =
  | 'SECRETS_WRONG_KEY' // sealed to another node or with another network token
  | 'SECRETS_DAMAGED' // the box was changed or truncated after sealing
  | 'SECRETS_MALFORMED' // not a box of ours: wrong version, wrong length
  | 'SECRETS_NOT_RECIPIENT' // this node is not a control plane of the plan: no server token for it
  | 'SECRETS_HASH_MISMATCH' // a token does not match the hash the plan committed (S3)
  | 'SECRETS_BAD_RECIPIENT' // the recipient id is not an Ed25519 node id usable for X25519
  | 'SECRETS_BAD_KEY' // a sealing key of the wrong length
  | 'SECRETS_BAD_TOKEN' // a cluster token that is not 64 lower-case hex characters
  | 'SECRETS_OVERSIZED' // a plaintext above the limit of one box

/** A secret that could not be sealed or opened; the message says what to check. */
export class SecretsError extends P2pBootstrapError<SecretsErrorCode> {}
