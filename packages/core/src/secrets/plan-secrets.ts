import { bytesToUtf8 } from '@noble/ciphers/utils.js'
import { utf8ToBytes } from '@noble/hashes/utils.js'
import { assert } from '../assert.js'
import type { NodeId, NodeKey } from '../identity.js'
import type { PlanSecrets } from '../types.js'
import { checkClusterToken, clusterTokenHash } from './cluster-tokens.js'
import type { Entropy } from './entropy.js'
import { SecretsError } from './errors.js'
import { openWithKey, sealWithKey } from './key-box.js'
import { openAsNode, sealToNode } from './node-box.js'

/**
 * The secrets of a plan: the server token sealed to each control-plane node, the agent token
 * sealed with the token-derived key, and the hashes of both. Hashes are what S3 is checked on:
 * every later epoch must carry the same two hashes, and every opened token must match them.
 */

export interface SealPlanSecretsInput {
  readonly serverToken: string
  readonly agentToken: string
  /** The recipients of the server token: exactly the plan's control-plane nodes. */
  readonly controlPlanes: readonly NodeId[]
  /** The ledger sealing key derived from the network token. */
  readonly sealingKey: Uint8Array
  readonly entropy: Entropy
}

export function sealPlanSecrets (input: SealPlanSecretsInput): PlanSecrets {
  const { serverToken, agentToken, controlPlanes, sealingKey, entropy } = input
  checkClusterToken(serverToken, 'the server token')
  checkClusterToken(agentToken, 'the agent token')
  assert(serverToken !== agentToken, 'the server and agent tokens are independent secrets')
  return {
    serverTokenHash: clusterTokenHash(serverToken),
    agentTokenHash: clusterTokenHash(agentToken),
    serverTokenSealed: sealServerTokenTo(serverToken, controlPlanes, {}, entropy),
    agentTokenSealed: sealWithKey(sealingKey, utf8ToBytes(agentToken), entropy)
  }
}

/**
 * The server token, for a control-plane node of the plan. Any other node gets
 * `SECRETS_NOT_RECIPIENT`: workers never hold the server token (DESIGN §7).
 */
export function openServerToken (secrets: PlanSecrets, nodeKey: NodeKey): string {
  const sealed = Object.hasOwn(secrets.serverTokenSealed, nodeKey.nodeId)
    ? secrets.serverTokenSealed[nodeKey.nodeId]
    : undefined
  if (sealed === undefined) {
    throw new SecretsError('SECRETS_NOT_RECIPIENT', `node ${nodeKey.nodeId} is not a control plane of this plan, so it gets no server token: as a worker it uses the agent token`)
  }
  const token = tokenText(openAsNode(nodeKey, sealed), 'the opened server token')
  checkHash(token, secrets.serverTokenHash, 'server')
  return token
}

/** The agent token, for any holder of the network token. */
export function openAgentToken (secrets: PlanSecrets, sealingKey: Uint8Array): string {
  const token = tokenText(openWithKey(sealingKey, secrets.agentTokenSealed), 'the opened agent token')
  checkHash(token, secrets.agentTokenHash, 'agent')
  return token
}

/**
 * The same secrets with the server token sealed to a new control-plane set, for a later epoch
 * (promotion, replacement). S3: the token is the one committed, checked against the hash; boxes
 * of nodes that stay control plane are kept as they are, new ones sealed, leavers dropped.
 */
export function resealServerToken (
  secrets: PlanSecrets,
  serverToken: string,
  newControlPlanes: readonly NodeId[],
  entropy: Entropy
): PlanSecrets {
  checkClusterToken(serverToken, 'the server token')
  checkHash(serverToken, secrets.serverTokenHash, 'server')
  return {
    ...secrets,
    serverTokenSealed: sealServerTokenTo(serverToken, newControlPlanes, secrets.serverTokenSealed, entropy)
  }
}

function sealServerTokenTo (
  serverToken: string,
  recipients: readonly NodeId[],
  existing: Readonly<Record<NodeId, Uint8Array>>,
  entropy: Entropy
): Record<NodeId, Uint8Array> {
  assert(new Set(recipients).size === recipients.length, 'control-plane recipients are distinct')
  const plaintext = utf8ToBytes(serverToken)
  const sealed: Record<NodeId, Uint8Array> = {}
  // Sorted, so the entropy drawn per recipient does not depend on the caller's order.
  for (const recipient of [...recipients].sort(compareText)) {
    const kept = Object.hasOwn(existing, recipient) ? existing[recipient] : undefined
    sealed[recipient] = kept ?? sealToNode(recipient, plaintext, entropy)
  }
  return sealed
}

function checkHash (token: string, expectedHash: string, which: 'server' | 'agent'): void {
  if (clusterTokenHash(token) !== expectedHash) {
    throw new SecretsError('SECRETS_HASH_MISMATCH', `the ${which} token does not match the hash committed in the plan (S3: it never changes): use the token of this cluster`)
  }
}

function tokenText (bytes: Uint8Array, what: string): string {
  let text: string
  try {
    text = bytesToUtf8(bytes)
  } catch (err) {
    throw new SecretsError('SECRETS_BAD_TOKEN', `${what} is not text`, { cause: err })
  }
  checkClusterToken(text, what)
  return text
}

function compareText (left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0
}
