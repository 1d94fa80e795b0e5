import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { assert } from '../assert.js'
import { drawEntropy } from './entropy.js'
import type { Entropy } from './entropy.js'
import { SecretsError } from './errors.js'
import { CLUSTER_TOKEN_CHARS, CLUSTER_TOKEN_RANDOM_BYTES } from './limits.js'

/** The two k3s secrets of a cluster, generated once by the proposer of epoch 1 (S3). */
export interface ClusterSecrets {
  /** k3s `token`: lets a node join as a server. Reaches control-plane nodes only. */
  readonly serverToken: string
  /** k3s `agent-token`: lets a node join as an agent. Readable by every member. */
  readonly agentToken: string
}

const TOKEN_PATTERN = new RegExp(`^[0-9a-f]{${CLUSTER_TOKEN_CHARS}}$`)

/** Two independent 256-bit tokens as lower-case hex, text that k3s takes unquoted. */
export function generateClusterSecrets (entropy: Entropy): ClusterSecrets {
  const serverToken = bytesToHex(drawEntropy(entropy, CLUSTER_TOKEN_RANDOM_BYTES))
  const agentToken = bytesToHex(drawEntropy(entropy, CLUSTER_TOKEN_RANDOM_BYTES))
  // Equal tokens mean the entropy source repeats itself: a broken CSPRNG, not bad luck.
  assert(serverToken !== agentToken, 'the server and agent tokens are independent secrets')
  return { serverToken, agentToken }
}

/** True for text `generateClusterSecrets` could have made. */
export function isClusterToken (text: string): boolean {
  return TOKEN_PATTERN.test(text)
}

/** Throws `SECRETS_BAD_TOKEN` unless `text` is a cluster token; `what` names it in the message. */
export function checkClusterToken (text: string, what: string): void {
  if (!isClusterToken(text)) {
    throw new SecretsError('SECRETS_BAD_TOKEN', `${what} is not ${CLUSTER_TOKEN_CHARS} lower-case hex characters: use a token from generateClusterSecrets`)
  }
}

/**
 * Hex SHA-256 of a token's text. It discloses nothing (the token is 256 random bits) and lets
 * every node check S3 (the secrets never change) without holding the secret.
 */
export function clusterTokenHash (token: string): string {
  return bytesToHex(sha256(utf8ToBytes(token)))
}
