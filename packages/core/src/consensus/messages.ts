import { z } from 'zod'
import { isNodeId } from '../identity.js'
import {
  ACCEPTORS_MAX, BALLOT_ROUND_WIRE_MAX, CERTIFICATE_VOTES_MAX, DECISION_BYTES_MAX, EPOCH_MAX, MEMBER_SET_HASH_BYTES, NODE_ID_CHARS_MAX,
  QUORUM_MAX, SIGNATURE_BYTES, VALUE_BYTES_MAX, VALUE_HASH_BYTES
} from './limits.js'
import { CONTROL_PLANES_ALLOWED, EXPECT_MAX, NAME_CHARS_MAX } from '../token/constants.js'

/** Bounds of a shape on the wire: those of a token. */
const CONTROL_PLANES_WIRE_MAX = Math.max(...CONTROL_PLANES_ALLOWED)
/** The longest text form of an IPv6 address. */
const VIP_CHARS_WIRE_MAX = 45

/**
 * The wire messages of single-decree Paxos, one zod schema per kind plus their union. Every
 * string, array and byte string is bounded. The adapter decodes a frame with
 * `decodeStrict(bytes, consensusMessageSchema, { maxBytes: MESSAGE_BYTES_MAX, what })`.
 */

export const nodeIdSchema = z.string().min(1).max(NODE_ID_CHARS_MAX)
export const epochSchema = z.int().min(1).max(EPOCH_MAX)

export const ballotSchema = z.strictObject({
  round: z.int().min(1).max(BALLOT_ROUND_WIRE_MAX),
  // A real node id: a ballot's proposer names our vote's ledger key, which the ledger checks.
  proposer: nodeIdSchema.refine(isNodeId, 'a node id')
})

/** A byte string of at most `max` bytes. */
export function boundedBytesSchema (max: number): z.ZodType<Uint8Array> {
  return z.instanceof(Uint8Array).refine((bytes) => bytes.byteLength <= max, `at most ${max} bytes`)
}

/** A byte string of exactly `length` bytes. */
export function exactBytesSchema (length: number): z.ZodType<Uint8Array> {
  return z.instanceof(Uint8Array).refine((bytes) => bytes.byteLength === length, `exactly ${length} bytes`)
}

export const valueSchema = boundedBytesSchema(VALUE_BYTES_MAX)
export const valueHashSchema = exactBytesSchema(VALUE_HASH_BYTES)
export const signatureSchema = exactBytesSchema(SIGNATURE_BYTES)

export const certificateVoteSchema = z.strictObject({
  voter: nodeIdSchema,
  signature: signatureSchema
})

export const certificateSchema = z.strictObject({
  epoch: epochSchema,
  ballot: ballotSchema,
  valueHash: valueHashSchema,
  quorum: z.int().min(1).max(QUORUM_MAX),
  mode: z.enum(['expect', 'best-effort']),
  votes: z.array(certificateVoteSchema).max(CERTIFICATE_VOTES_MAX)
})

/**
 * The proposer's cluster shape, carried by prepare and accept: an acceptor configured otherwise
 * refuses and says both in words, so one mistyped config takes no part in a decision.
 */
export const wireShapeSchema = z.strictObject({
  expect: z.int().min(1).max(EXPECT_MAX).optional(),
  controlPlanes: z.int().min(1).max(CONTROL_PLANES_WIRE_MAX),
  vip: z.string().max(VIP_CHARS_WIRE_MAX).optional(),
  name: z.string().max(NAME_CHARS_MAX).optional()
})

/**
 * Best effort only: the member set the proposer counts for this ballot (member-set.ts); an
 * acceptor that sees another set refuses. Absent when the shape carries `expect`.
 */
export const memberSetSchema = z.strictObject({
  count: z.int().min(1).max(ACCEPTORS_MAX),
  hash: exactBytesSchema(MEMBER_SET_HASH_BYTES)
})

export const prepareMessageSchema = z.strictObject({
  kind: z.literal('paxos/prepare'),
  epoch: epochSchema,
  ballot: ballotSchema,
  shape: wireShapeSchema,
  members: memberSetSchema.optional()
})

export const promiseMessageSchema = z.strictObject({
  kind: z.literal('paxos/promise'),
  epoch: epochSchema,
  ballot: ballotSchema,
  accepted: z.strictObject({ ballot: ballotSchema, value: valueSchema }).nullable()
})

export const acceptMessageSchema = z.strictObject({
  kind: z.literal('paxos/accept'),
  epoch: epochSchema,
  ballot: ballotSchema,
  value: valueSchema,
  shape: wireShapeSchema,
  members: memberSetSchema.optional()
})

export const acceptedMessageSchema = z.strictObject({
  kind: z.literal('paxos/accepted'),
  epoch: epochSchema,
  ballot: ballotSchema,
  valueHash: valueHashSchema,
  signature: signatureSchema
})

export const nackMessageSchema = z.strictObject({
  kind: z.literal('paxos/nack'),
  epoch: epochSchema,
  ballot: ballotSchema,
  promised: ballotSchema
})

export const decidedMessageSchema = z.strictObject({
  kind: z.literal('paxos/decided'),
  epoch: epochSchema,
  /** The `plan/<epoch>` entry value: canonical CBOR of `{ value, certificate }`. */
  decision: boundedBytesSchema(DECISION_BYTES_MAX)
})

export const consensusMessageSchema = z.discriminatedUnion('kind', [
  prepareMessageSchema,
  promiseMessageSchema,
  acceptMessageSchema,
  acceptedMessageSchema,
  nackMessageSchema,
  decidedMessageSchema
])

export type PrepareMessage = z.infer<typeof prepareMessageSchema>
export type PromiseMessage = z.infer<typeof promiseMessageSchema>
export type AcceptMessage = z.infer<typeof acceptMessageSchema>
export type AcceptedMessage = z.infer<typeof acceptedMessageSchema>
export type NackMessage = z.infer<typeof nackMessageSchema>
export type DecidedMessage = z.infer<typeof decidedMessageSchema>
export type ConsensusMessage = z.infer<typeof consensusMessageSchema>
export type WireShape = z.infer<typeof wireShapeSchema>

/** The kind prefix the node routes to consensus. */
export const CONSENSUS_KIND_PREFIX = 'paxos/'
