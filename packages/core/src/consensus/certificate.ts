import { bytesToHex } from '@noble/hashes/utils.js'
import { equalBytes } from './bytes.js'
import { assert } from '../assert.js'
import { verifyNodeSignature } from '../identity.js'
import type { NodeId } from '../identity.js'
import { compareBallots, formatBallot, shortNodeId } from './ballot.js'
import type { Ballot } from './ballot.js'
import { CERTIFICATE_VOTES_MAX, VOTES_SCANNED_MAX } from './limits.js'
import { isEligibleVoter } from './quorum.js'
import type { QuorumMode, QuorumRule } from './quorum.js'
import { valueHashOf, verifyAccept } from './statement.js'
import type { SignatureVerifier } from './statement.js'
import type { VoteRecord } from './vote.js'

/**
 * A quorum certificate: proof that a quorum of eligible voters accepted `valueHash` at `ballot`
 * in `epoch`. Anyone can check it from the node ids alone (S5), so a decision in the ledger is
 * believed because of its votes, never because of who wrote it.
 */
export interface Certificate {
  readonly epoch: number
  readonly ballot: Ballot
  readonly valueHash: Uint8Array
  readonly quorum: number
  readonly mode: QuorumMode
  /** Sorted by voter, one per voter. */
  readonly votes: ReadonlyArray<{ readonly voter: NodeId, readonly signature: Uint8Array }>
}

export type CertificateCheck = { readonly ok: true } | { readonly ok: false, readonly reason: string }

/**
 * Checks `certificate` for `value` under `rule` in cluster `clusterId`: the value hash, the mode,
 * the quorum the epoch needs (in best-effort mode a majority of the members the plan names), sorted
 * distinct eligible voters, every signature, and at least a quorum of votes. A single bad vote
 * rejects the whole certificate: an honest builder never includes one.
 */
export function verifyCertificate (
  certificate: Certificate,
  value: Uint8Array,
  rule: QuorumRule,
  clusterId: string,
  verify: SignatureVerifier = verifyNodeSignature
): CertificateCheck {
  const fail = (reason: string): CertificateCheck => ({ ok: false, reason })
  if (certificate.votes.length > CERTIFICATE_VOTES_MAX) return fail(`certificate carries ${certificate.votes.length} votes, over the limit of ${CERTIFICATE_VOTES_MAX}`)
  if (certificate.mode !== rule.mode) return fail(`certificate is in ${certificate.mode} mode but epoch ${certificate.epoch} is decided in ${rule.mode} mode`)
  if (certificate.quorum !== rule.quorum) {
    const needs = rule.mode === 'best-effort' && rule.voters !== 'any'
      ? `${rule.quorum} (a majority of the ${rule.voters.length} members its plan names)`
      : `${rule.quorum}`
    return fail(`certificate states a quorum of ${certificate.quorum} but epoch ${certificate.epoch} needs ${needs}`)
  }
  if (!equalBytes(certificate.valueHash, valueHashOf(value))) return fail('certificate names another value hash than the value it comes with')
  for (let i = 1; i < certificate.votes.length; i++) {
    const previous = certificate.votes[i - 1]?.voter ?? ''
    const current = certificate.votes[i]?.voter ?? ''
    if (previous === current) return fail(`duplicate voter ${shortNodeId(current)}`)
    if (previous > current) return fail('votes are not sorted by voter')
  }
  for (const vote of certificate.votes) {
    if (!isEligibleVoter(rule, vote.voter)) return fail(`voter ${shortNodeId(vote.voter)} may not vote in epoch ${certificate.epoch}`)
  }
  for (const vote of certificate.votes) {
    const signed = verifyAccept(vote.voter, clusterId, certificate.epoch, certificate.ballot, certificate.valueHash, vote.signature, verify)
    if (!signed) return fail(`vote of ${shortNodeId(vote.voter)} at ballot ${formatBallot(certificate.ballot)} has a bad signature (another cluster, ballot or value?)`)
  }
  if (certificate.votes.length < certificate.quorum) {
    return fail(`certificate carries ${certificate.votes.length} votes, below its quorum of ${certificate.quorum}`)
  }
  return { ok: true }
}

/**
 * Builds a certificate from vote records (ledger entries, or accepted messages collected by a
 * proposer): the highest ballot whose (ballot, valueHash) group holds a quorum of distinct
 * eligible voters with valid signatures. It carries exactly a quorum of votes, the lowest voter
 * ids, to stay small and deterministic. `valueHash`, when given, restricts the search to that
 * value (an acceptor completing a commit can only complete the value it holds). Null when no
 * group reaches the quorum.
 */
export function certificateFromVotes (
  votes: readonly VoteRecord[],
  rule: QuorumRule,
  clusterId: string,
  options: { readonly valueHash?: Uint8Array, readonly verify?: SignatureVerifier } = {}
): Certificate | null {
  assert(votes.length <= VOTES_SCANNED_MAX, 'the caller bounds the votes it hands in')
  const verify = options.verify ?? verifyNodeSignature
  const groups = new Map<string, { ballot: Ballot, valueHash: Uint8Array, epoch: number, voters: Map<NodeId, Uint8Array> }>()
  for (const vote of votes) {
    if (options.valueHash !== undefined && !equalBytes(vote.valueHash, options.valueHash)) continue
    if (!isEligibleVoter(rule, vote.voter)) continue
    const groupKey = `${vote.epoch}/${vote.ballot.round}.${vote.ballot.proposer}/${bytesToHex(vote.valueHash)}`
    let group = groups.get(groupKey)
    if (group === undefined) {
      group = { ballot: vote.ballot, valueHash: vote.valueHash, epoch: vote.epoch, voters: new Map() }
      groups.set(groupKey, group)
    }
    if (group.voters.has(vote.voter)) continue
    if (!verifyAccept(vote.voter, clusterId, vote.epoch, vote.ballot, vote.valueHash, vote.signature, verify)) continue
    group.voters.set(vote.voter, vote.signature)
  }
  const complete = [...groups.values()]
    .filter((group) => group.voters.size >= rule.quorum)
    .sort((a, b) => compareBallots(b.ballot, a.ballot))
  const best = complete[0]
  if (best === undefined) return null
  const chosen = [...best.voters.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, rule.quorum)
    .map(([voter, signature]) => ({ voter, signature }))
  assert(chosen.length === rule.quorum, 'a certificate carries exactly its quorum of votes')
  assert(chosen.length <= CERTIFICATE_VOTES_MAX, 'a certificate fits CERTIFICATE_VOTES_MAX')
  return { epoch: best.epoch, ballot: best.ballot, valueHash: best.valueHash, quorum: rule.quorum, mode: rule.mode, votes: chosen }
}
