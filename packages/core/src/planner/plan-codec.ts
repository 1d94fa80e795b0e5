import { sha256 } from '@noble/hashes/sha2.js'
import { bytesToHex } from '@noble/hashes/utils.js'
import { assert } from '../assert.js'
import { decodeStrict, encodeCanonical } from '../codec.js'
import { CodecError } from '../errors.js'
import type { NodeId } from '../identity.js'
import type { DecidedShape, Plan } from '../types.js'
import { PLAN_BYTES_MAX } from './limits.js'
import { planProblems } from './plan-rules.js'
import { planSchema } from './plan-schema.js'

/**
 * The plan's one encoding: canonical CBOR. Paxos agrees on these bytes and every node hashes
 * them, so one plan has exactly one encoding: the decoder refuses any other form of the same value.
 */
export function encodePlan (plan: Plan): Uint8Array {
  assert(planProblems(plan).length === 0, 'only sound plans are encoded')
  const bytes = encodeCanonical(planValue(plan))
  assert(bytes.byteLength <= PLAN_BYTES_MAX, 'the limits keep every plan within PLAN_BYTES_MAX')
  return bytes
}

/** Decodes a plan from outside (a proposal, the ledger, the state dir); throws `CodecError`. */
export function decodePlan (bytes: Uint8Array): Plan {
  const plan = decodeStrict(bytes, planSchema, { maxBytes: PLAN_BYTES_MAX, what: 'plan' })
  const again = encodeCanonical(planValue(plan))
  const canonical = again.byteLength === bytes.byteLength && again.every((byte, index) => byte === bytes[index])
  if (!canonical) {
    throw new CodecError('CODEC_INVALID', 'plan is not in canonical form: re-encode it with encodePlan')
  }
  return plan
}

/** What consensus and status need to show of a plan without the rest. */
export interface PlanSummary {
  readonly epoch: number
  readonly clusterId: string
  readonly init: NodeId
  readonly controlPlanes: readonly NodeId[]
  /** The shape the plan was decided under: its epoch-1 quorum rule comes from it (S8). */
  readonly decidedUnder: DecidedShape
  /**
   * Every node the plan names (control planes, then workers): in best effort the members its
   * proposer saw, whose majority is the epoch-1 quorum. Optional for summaries built by hand.
   */
  readonly members?: readonly NodeId[]
}

/** The summary of encoded plan bytes, decoded strictly (throws `CodecError`). */
export function planSummary (bytes: Uint8Array): PlanSummary {
  const { epoch, clusterId, init, controlPlanes, workers, decidedUnder } = decodePlan(bytes)
  return { epoch, clusterId, init, controlPlanes, decidedUnder, members: [...controlPlanes, ...workers] }
}

/** Hex SHA-256 of the plan's encoding: equal plans, equal hashes (S2 can be checked on it). */
export function planHash (plan: Plan): string {
  return bytesToHex(sha256(encodePlan(plan)))
}

/** The plain value that is encoded: absent optional fields are left out, never `undefined`. */
function planValue (plan: Plan): Record<string, unknown> {
  const { secrets } = plan
  return {
    clusterId: plan.clusterId,
    epoch: plan.epoch,
    ...(plan.name !== undefined && { name: plan.name }),
    init: plan.init,
    controlPlanes: [...plan.controlPlanes],
    workers: [...plan.workers],
    ...(plan.vip !== undefined && { vip: plan.vip }),
    decidedUnder: {
      ...(plan.decidedUnder.expect !== undefined && { expect: plan.decidedUnder.expect }),
      controlPlanes: plan.decidedUnder.controlPlanes
    },
    // Empty lists are left out, so an epoch-1 plan encodes as it always did.
    ...(plan.replaced !== undefined && plan.replaced.length > 0 && { replaced: [...plan.replaced] }),
    ...(plan.retired !== undefined && plan.retired.length > 0 && { retired: [...plan.retired] }),
    ...(plan.reinit !== undefined && { reinit: plan.reinit }),
    secrets: {
      serverTokenHash: secrets.serverTokenHash,
      agentTokenHash: secrets.agentTokenHash,
      serverTokenSealed: { ...secrets.serverTokenSealed },
      agentTokenSealed: secrets.agentTokenSealed
    },
    notes: [...plan.notes]
  }
}
