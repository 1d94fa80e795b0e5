import { z } from 'zod'
import { decodeStrict } from '../codec.js'
import {
  GOSSIP_UPDATES_PER_MESSAGE_MAX, INCARNATION_MAX, MEMBERSHIP_MESSAGE_BYTES_MAX, META_BYTES_MAX, NODE_ID_CHARS_MAX, SEQ_MAX
} from './limits.js'

/**
 * Wire messages of SWIM membership (`swim/…` kinds). Every message carries the sender's
 * incarnation (so a direct message is itself an `alive` update about the sender) and a bounded
 * list of piggybacked gossip updates. Indirect acks reuse `swim/ack` with the requester's seq.
 */

const nodeIdSchema = z.string().min(1).max(NODE_ID_CHARS_MAX)
/** Incarnations and sequence numbers are bounded well below 2^53, so a reply one above stays exact. */
const incarnationSchema = z.number().int().min(0).max(INCARNATION_MAX)
const seqSchema = z.number().int().min(0).max(SEQ_MAX)

export const memberStateSchema = z.enum(['alive', 'suspect', 'dead', 'left'])
export type MemberState = z.output<typeof memberStateSchema>

/** One piece of gossip: what some node's state is at some incarnation. */
export const memberUpdateSchema = z.strictObject({
  nodeId: nodeIdSchema,
  state: memberStateSchema,
  incarnation: incarnationSchema,
  meta: z.custom<Uint8Array>((value) => value instanceof Uint8Array && value.byteLength <= META_BYTES_MAX, {
    message: `meta is bytes, at most ${META_BYTES_MAX}`
  }).optional(),
  /** On `suspect`: the node whose own probe failed, so independent confirmations can be counted. */
  by: nodeIdSchema.optional()
})
export type MemberUpdate = z.output<typeof memberUpdateSchema>

const gossipSchema = z.array(memberUpdateSchema).max(GOSSIP_UPDATES_PER_MESSAGE_MAX)

/** Fields every SWIM message carries: its probe number, the sender's incarnation, piggybacked gossip. */
const probeFields = {
  seq: seqSchema,
  incarnation: incarnationSchema,
  gossip: gossipSchema
}

/** A direct probe; the target answers with an ack of the same seq. */
export const pingSchema = z.strictObject({ kind: z.literal('swim/ping'), ...probeFields })
export type Ping = z.output<typeof pingSchema>

/** The answer to a ping, or an intermediary relaying the target's answer to a ping-req. */
export const ackSchema = z.strictObject({ kind: z.literal('swim/ack'), ...probeFields })
export type Ack = z.output<typeof ackSchema>

/** Asks an intermediary to ping `target` and relay its ack back with this `seq`. */
export const pingRequestSchema = z.strictObject({ kind: z.literal('swim/ping-req'), target: nodeIdSchema, ...probeFields })
export type PingRequest = z.output<typeof pingRequestSchema>

/**
 * News alone: sent every gossip interval to a few random members while updates are still to be
 * spread (memberlist's gossip), so they do not wait for probes to carry them. Nothing answers it.
 */
export const gossipMessageSchema = z.strictObject({ kind: z.literal('swim/gossip'), incarnation: incarnationSchema, gossip: gossipSchema })
export type GossipMessage = z.output<typeof gossipMessageSchema>

export const membershipMessageSchema = z.discriminatedUnion('kind', [pingSchema, ackSchema, pingRequestSchema, gossipMessageSchema])
export type MembershipMessage = z.output<typeof membershipMessageSchema>

/** True for a `kind` this module handles, so the node can route by prefix. */
export function isMembershipKind (kind: string): boolean {
  return kind.startsWith('swim/')
}

/** Decodes one membership message from outside, or throws a `CodecError` naming the problem. */
export function decodeMembershipMessage (bytes: Uint8Array): MembershipMessage {
  return decodeStrict(bytes, membershipMessageSchema, {
    maxBytes: MEMBERSHIP_MESSAGE_BYTES_MAX,
    what: 'membership message'
  })
}
