/**
 * Cluster secrets: the k3s server and agent tokens, generated once (S3), sealed to the nodes that
 * may read them, and checked against the hashes a plan commits.
 */
export { SecretsError } from './errors.js'
export type { SecretsErrorCode } from './errors.js'
export type { Entropy } from './entropy.js'
export { generateClusterSecrets, isClusterToken, clusterTokenHash } from './cluster-tokens.js'
export type { ClusterSecrets } from './cluster-tokens.js'
export { sealToNode, openAsNode } from './node-box.js'
export { sealWithKey, openWithKey } from './key-box.js'
export { sealPlanSecrets, openServerToken, openAgentToken, resealServerToken } from './plan-secrets.js'
export type { SealPlanSecretsInput } from './plan-secrets.js'
export {
  CLUSTER_TOKEN_CHARS, SEALING_KEY_BYTES, SEALED_PLAINTEXT_BYTES_MAX,
  SEALED_SERVER_TOKEN_BYTES, SEALED_AGENT_TOKEN_BYTES
} from './limits.js'
