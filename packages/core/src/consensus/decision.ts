import type { PlanSummary } from '../planner/plan-codec.js'
import type { DecisionValidator } from '../ledger/replica.js'
import { z } from 'zod'
import { decodeStrict, encodeCanonical } from '../codec.js'
import { verifyNodeSignature } from '../identity.js'
import type { NodeId } from '../identity.js'
import { verifyCertificate } from './certificate.js'
import type { Certificate } from './certificate.js'
import { DECISION_BYTES_MAX, EPOCH_MAX } from './limits.js'
import { certificateSchema, valueSchema } from './messages.js'
import { quorumRuleFor } from './quorum.js'
import type { SignatureVerifier } from './statement.js'

/**
 * A committed decision: the value (an encoded plan) with its certificate. In the ledger it is the
 * entry `plan/<epoch>` whose value is canonical CBOR of `{ value, certificate }`; the ledger
 * merges it only when `decisionValidator` says 'valid' (S5).
 */
export interface Decision {
  readonly epoch: number
  readonly value: Uint8Array
  readonly certificate: Certificate
}

export const PLAN_KEY_PREFIX = 'plan/'

export const decisionEntrySchema = z.strictObject({
  value: valueSchema,
  certificate: certificateSchema
})

// What the validator needs to know of a plan comes from the planner's codec (`planSummary`), and
// the validator's type is the one the ledger calls for a `plan/<epoch>` entry.
export type { PlanSummary } from '../planner/plan-codec.js'
export type { DecisionValidator, DecisionVerdict } from '../ledger/replica.js'

export function decisionKey (epoch: number): string {
  return `${PLAN_KEY_PREFIX}${epoch}`
}

const PLAN_KEY_PATTERN = /^plan\/([1-9][0-9]*)$/

/** The epoch of a `plan/<epoch>` key, or null when `key` is not one. */
export function epochOfDecisionKey (key: string): number | null {
  const epochText = PLAN_KEY_PATTERN.exec(key)?.[1]
  if (epochText === undefined) return null
  const epoch = Number(epochText)
  return Number.isSafeInteger(epoch) && epoch <= EPOCH_MAX ? epoch : null
}

/** The `plan/<epoch>` entry value. */
export function encodeDecision (decision: Decision): Uint8Array {
  const { certificate } = decision
  return encodeCanonical({
    value: decision.value,
    certificate: {
      epoch: certificate.epoch,
      ballot: { round: certificate.ballot.round, proposer: certificate.ballot.proposer },
      valueHash: certificate.valueHash,
      quorum: certificate.quorum,
      mode: certificate.mode,
      votes: certificate.votes.map((vote) => ({ voter: vote.voter, signature: vote.signature }))
    }
  })
}

/** Decodes a `plan/<epoch>` entry value; throws `CodecError` when malformed. Does not verify it. */
export function decodeDecision (bytes: Uint8Array): Decision {
  const entry = decodeStrict(bytes, decisionEntrySchema, { maxBytes: DECISION_BYTES_MAX, what: 'plan decision' })
  return { epoch: entry.certificate.epoch, value: entry.value, certificate: entry.certificate }
}

export interface DecisionValidatorInit {
  readonly clusterId: string
  /** The planner's decoder; throws on bytes that are not a plan. */
  readonly decodePlanSummary: (bytes: Uint8Array) => PlanSummary
  /** Defaults to `verifyNodeSignature`; pass `cachedSignatureVerifier()` to check votes once. */
  readonly verify?: SignatureVerifier
}

/**
 * The ledger's check of a `plan/<epoch>` entry: a well-formed decision of this cluster and epoch
 * whose certificate proves a quorum under the epoch's rule (S2, S5), whose plan keeps the
 * initialiser of the plan before it (S1). At epoch 1 the rule comes from the shape the plan was
 * decided under, never from this node's config: an edited config must not invalidate a committed
 * plan (S8). Above epoch 1 it comes from plan(epoch - 1): 'defer' until the ledger holds it.
 */
export function decisionValidator (init: DecisionValidatorInit): DecisionValidator {
  const verify = init.verify ?? verifyNodeSignature
  const summarize = (bytes: Uint8Array, what: string): PlanSummary | string => {
    try {
      return init.decodePlanSummary(bytes)
    } catch (err) {
      return `${what} is not a plan: ${err instanceof Error ? err.message : String(err)}`
    }
  }
  return (key, value, lookup) => {
    const epoch = epochOfDecisionKey(key)
    if (epoch === null) return { invalid: `${JSON.stringify(key.slice(0, 200))} is not a plan key: expected plan/<epoch>` }
    let decision: Decision
    try {
      decision = decodeDecision(value)
    } catch (err) {
      return { invalid: err instanceof Error ? err.message : String(err) }
    }
    if (decision.epoch !== epoch) return { invalid: `certificate is for epoch ${decision.epoch}, the key for epoch ${epoch}` }
    const summary = summarize(decision.value, `value of ${key}`)
    if (typeof summary === 'string') return { invalid: summary }
    if (summary.epoch !== epoch) return { invalid: `plan says epoch ${summary.epoch} under key ${key}` }
    if (summary.clusterId !== init.clusterId) return { invalid: `plan belongs to cluster ${summary.clusterId}, not ${init.clusterId}` }
    let previous: PlanSummary | undefined
    if (epoch > 1) {
      const previousBytes = lookup(decisionKey(epoch - 1))
      if (previousBytes === undefined) return 'defer'
      let previousDecision: Decision
      try {
        previousDecision = decodeDecision(previousBytes)
      } catch (err) {
        return { invalid: `plan/${epoch - 1} in the ledger is unreadable: ${err instanceof Error ? err.message : String(err)}` }
      }
      const previousSummary = summarize(previousDecision.value, `plan/${epoch - 1}`)
      if (typeof previousSummary === 'string') return { invalid: previousSummary }
      // S1: the initialiser is fixed at epoch 1; a later epoch that names another would start a second cluster.
      if (summary.init !== previousSummary.init) return { invalid: `plan changes the initialiser from ${previousSummary.init} to ${summary.init} (S1)` }
      if (previousSummary.controlPlanes.length === 0) return { invalid: `plan/${epoch - 1} has no control planes to vote on epoch ${epoch}` }
      previous = previousSummary
    }
    // Best effort: the voters are the members the plan names, the same rule on every node.
    const members = summary.members ?? summary.controlPlanes
    if (epoch === 1 && summary.decidedUnder.expect === undefined && members.length === 0) return { invalid: 'plan names no member to vote on it' }
    const rule = quorumRuleFor(epoch, summary.decidedUnder, previous, members)
    const check = verifyCertificate(decision.certificate, decision.value, rule, init.clusterId, verify)
    if (!check.ok) return { invalid: check.reason }
    return 'valid'
  }
}
