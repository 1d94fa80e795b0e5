/**
 * Consensus on the cluster plan: single-decree Paxos per epoch, quorum certificates anyone can
 * verify, and the policy that says when a node proposes. Pure: time is `nowMs`, randomness a
 * seeded `Prng`, persistence and sending are outputs the node hands to its adapters (persist
 * first, then send: S6).
 */
export { compareBallots, maxBallot, sameBallot, formatBallot, shortNodeId, nextBallot } from './ballot.js'
export type { Ballot } from './ballot.js'
export { ConsensusError } from './errors.js'
export type { ConsensusErrorCode } from './errors.js'
export * from './limits.js'
export {
  ACCEPT_STATEMENT_TAG, valueHashOf, acceptStatement, signAccept, verifyAccept, cachedSignatureVerifier
} from './statement.js'
export type { SignatureVerifier } from './statement.js'
export { majority, bootstrapQuorum, epochQuorum, quorumRuleFor, isEligibleVoter } from './quorum.js'
export type { QuorumMode, QuorumRule } from './quorum.js'
export {
  consensusMessageSchema, prepareMessageSchema, promiseMessageSchema, acceptMessageSchema,
  acceptedMessageSchema, nackMessageSchema, decidedMessageSchema, ballotSchema, certificateSchema,
  CONSENSUS_KIND_PREFIX
} from './messages.js'
export type {
  ConsensusMessage, PrepareMessage, PromiseMessage, AcceptMessage, AcceptedMessage, NackMessage, DecidedMessage
} from './messages.js'
export {
  VOTE_KEY_PREFIX, voteSchema, voteKey, voteKeyPrefix, parseVoteKey, encodeVote, decodeVoteEntry, makeVote
} from './vote.js'
export type { Vote, VoteRecord, VoteWrite } from './vote.js'
export { verifyCertificate, certificateFromVotes } from './certificate.js'
export type { Certificate, CertificateCheck } from './certificate.js'
export {
  PLAN_KEY_PREFIX, decisionEntrySchema, decisionKey, epochOfDecisionKey, encodeDecision, decodeDecision, decisionValidator
} from './decision.js'
export type { Decision, DecisionValidatorInit } from './decision.js'
export {
  ACCEPTOR_RECORD_KIND, acceptorRecordSchema, acceptorStateSchema, initialAcceptorState, onPrepare, onAccept, restoreAcceptors
} from './acceptor.js'
export type { AcceptorState, AcceptorRecord, AcceptedValue, AcceptorStep, AcceptorSigner } from './acceptor.js'
export { Proposer } from './proposer.js'
export type { ProposalRequest, ProposerOutput, ProposerPhase, ProposerInit, ProposerMessage } from './proposer.js'
export { ConsensusInstance } from './instance.js'
export type { ConsensusInstanceInit, ConsensusOutput } from './instance.js'
export { proposalDecision, formatSeconds } from './policy.js'
export type { ProposalInput, ProposalDecision } from './policy.js'
export { wireShape, describeShape, shapeDisagreement } from './shape-check.js'
export { memberSetOf, memberSetDisagreement } from './member-set.js'
export type { MemberSet } from './member-set.js'
