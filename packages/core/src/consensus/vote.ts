import { z } from 'zod'
import { assert } from '../assert.js'
import { decodeStrict, encodeCanonical } from '../codec.js'
import type { NodeId, NodeKey } from '../identity.js'
import type { Ballot } from './ballot.js'
import { ConsensusError } from './errors.js'
import { VOTE_BYTES_MAX } from './limits.js'
import { ballotSchema, epochSchema, nodeIdSchema, signatureSchema, valueHashSchema } from './messages.js'
import { signAccept } from './statement.js'

/**
 * Votes in the ledger: `vote/<epoch>/<round>.<proposerId>/<voterId>`, written once by the voter,
 * value = canonical CBOR of `{ epoch, ballot, valueHash, signature }`. Any node holding a quorum
 * of them and the value can build the certificate (a proposer that crashed after its accepts
 * does not strand the decision).
 */

export const VOTE_KEY_PREFIX = 'vote/'

export const voteSchema = z.strictObject({
  epoch: epochSchema,
  ballot: ballotSchema,
  valueHash: valueHashSchema,
  signature: signatureSchema
})

export type Vote = z.infer<typeof voteSchema>

/** A vote together with its voter (the writer of the entry, named in the key). */
export interface VoteRecord extends Vote {
  readonly voter: NodeId
}

/** A vote the node writes to the ledger as its own entry. */
export interface VoteWrite {
  readonly key: string
  readonly value: Uint8Array
  readonly vote: VoteRecord
}

/** Built once: a zod schema made per call is compiled per call. */
const voteKeyPartsSchema = z.strictObject({ epoch: epochSchema, ballot: ballotSchema, voter: nodeIdSchema })

const VOTE_KEY_PATTERN = /^vote\/([1-9][0-9]*)\/([1-9][0-9]*)\.([^/.]+)\/([^/]+)$/

export function voteKey (epoch: number, ballot: Ballot, voter: NodeId): string {
  return `${VOTE_KEY_PREFIX}${epoch}/${ballot.round}.${ballot.proposer}/${voter}`
}

/** The prefix of every vote of one epoch, for a ledger scan. */
export function voteKeyPrefix (epoch: number): string {
  return `${VOTE_KEY_PREFIX}${epoch}/`
}

/** Splits a vote key; throws `CONSENSUS_BAD_KEY` when it is not one. */
export function parseVoteKey (key: string): { epoch: number, ballot: Ballot, voter: NodeId } {
  const match = VOTE_KEY_PATTERN.exec(key)
  const [, epochText, roundText, proposer, voter] = match ?? []
  if (epochText === undefined || roundText === undefined || proposer === undefined || voter === undefined) {
    throw new ConsensusError('CONSENSUS_BAD_KEY', `${JSON.stringify(key.slice(0, 200))} is not a vote key: expected vote/<epoch>/<round>.<proposer>/<voter>`)
  }
  const parsed = { epoch: Number(epochText), ballot: { round: Number(roundText), proposer }, voter }
  const checked = voteKeyPartsSchema.safeParse(parsed)
  if (!checked.success) {
    throw new ConsensusError('CONSENSUS_BAD_KEY', `vote key ${JSON.stringify(key.slice(0, 200))} is out of range: ${checked.error.issues[0]?.message ?? 'unknown problem'}`)
  }
  return checked.data
}

export function encodeVote (vote: Vote): Uint8Array {
  return encodeCanonical({ epoch: vote.epoch, ballot: { round: vote.ballot.round, proposer: vote.ballot.proposer }, valueHash: vote.valueHash, signature: vote.signature })
}

/** Decodes a vote entry and checks it agrees with its key; throws a typed error otherwise. */
export function decodeVoteEntry (key: string, value: Uint8Array): VoteRecord {
  const parsedKey = parseVoteKey(key)
  const vote = decodeStrict(value, voteSchema, { maxBytes: VOTE_BYTES_MAX, what: `vote ${key.slice(0, 200)}` })
  if (vote.epoch !== parsedKey.epoch || vote.ballot.round !== parsedKey.ballot.round || vote.ballot.proposer !== parsedKey.ballot.proposer) {
    throw new ConsensusError('CONSENSUS_BAD_KEY', `vote ${key.slice(0, 200)} names another epoch or ballot than its key`)
  }
  return { ...vote, voter: parsedKey.voter }
}

/** Signs and encodes this node's vote for `valueHash` at `ballot`. */
export function makeVote (key: NodeKey, clusterId: string, epoch: number, ballot: Ballot, valueHash: Uint8Array): VoteWrite {
  const signature = signAccept(key, clusterId, epoch, ballot, valueHash)
  const vote: VoteRecord = { epoch, ballot, valueHash, signature, voter: key.nodeId }
  const value = encodeVote(vote)
  assert(value.byteLength <= VOTE_BYTES_MAX, 'our own vote fits VOTE_BYTES_MAX')
  return { key: voteKey(epoch, ballot, key.nodeId), value, vote }
}
