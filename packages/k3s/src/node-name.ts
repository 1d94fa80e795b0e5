import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js'
import { initialiserOf } from '@p2p-bootstrap/core'
import type { NodeId, Plan, Role } from '@p2p-bootstrap/core'
import { CLUSTER_ID_LABEL, INIT_LABEL, NODE_ID_LABEL, ROLE_LABEL } from './keys.js'
import { LABEL_VALUE_CHARS_MAX, NODE_NAME_HOST_CHARS_MAX, NODE_NAME_SUFFIX_CHARS } from './limits.js'
import { RenderError } from './errors.js'

/**
 * The k3s node name of a node: its short host name, cleaned to a DNS label, then '-' and the
 * first hex characters of SHA-256(node id). Host names repeat across a fleet (every image boots
 * as "localhost" or "kairos"), node ids do not, so the name is unique; it depends on nothing that
 * changes across restarts, so it is stable (S4). One DNS label (at most 63 characters) fits both
 * the node-name rules and a label value.
 */
export function nodeNameFor (nodeId: NodeId, hostname: string | undefined): string {
  return `${hostPart(hostname)}-${nodeIdSuffix(nodeId)}`
}

function hostPart (hostname: string | undefined): string {
  const shortName = (hostname ?? '').split('.')[0] ?? ''
  const cleaned = shortName.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/-+/g, '-')
  const trimmed = cleaned.slice(0, NODE_NAME_HOST_CHARS_MAX).replace(/^-+|-+$/g, '')
  return trimmed === '' ? 'node' : trimmed
}

function nodeIdSuffix (nodeId: NodeId): string {
  return bytesToHex(sha256(utf8ToBytes(nodeId))).slice(0, NODE_NAME_SUFFIX_CHARS)
}

const LABEL_VALUE_PATTERN = /^(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/

/**
 * The labels saying what the plan decided for this node. k3s applies `node-label` only when the
 * node registers, so a later change of role shows in the plan and the ledger, not here.
 */
export function planLabels (plan: Plan, nodeId: NodeId, role: Role): string[] {
  for (const [what, value] of [['cluster id', plan.clusterId], ['node id', nodeId]] as const) {
    if (value.length > LABEL_VALUE_CHARS_MAX || !LABEL_VALUE_PATTERN.test(value)) {
      throw new RenderError('K3S_BAD_PLAN', `the ${what} ${JSON.stringify(value.slice(0, 64))} is not a Kubernetes label value (at most ${LABEL_VALUE_CHARS_MAX} letters, digits, '-', '_' or '.'): use the id the core derived`)
    }
  }
  const labels = [`${ROLE_LABEL}=${role}`, `${CLUSTER_ID_LABEL}=${plan.clusterId}`, `${NODE_ID_LABEL}=${nodeId}`]
  if (initialiserOf(plan) === nodeId && role === 'control-plane') labels.push(`${INIT_LABEL}=true`)
  return labels
}
