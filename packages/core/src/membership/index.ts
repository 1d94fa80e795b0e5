/**
 * SWIM membership and failure detection: a pure state machine that the core node drives with
 * `tick`, `step`, `addPeer` and `leave`, and empties with `drain()`.
 */
export { Membership } from './membership.js'
export type {
  MembershipInit, MembershipEvent, MembershipOutbound, MembershipOutput, MemberView
} from './membership.js'
export { MembershipError } from './errors.js'
export type { MembershipErrorCode } from './errors.js'
export {
  membershipMessageSchema, pingSchema, ackSchema, pingRequestSchema, memberUpdateSchema, memberStateSchema,
  decodeMembershipMessage, isMembershipKind
} from './messages.js'
export type { MembershipMessage, Ping, Ack, PingRequest, MemberUpdate, MemberState } from './messages.js'
export { suspicionTimeoutMs } from './suspicion.js'
export { retransmitLimit } from './gossip.js'
export { supersedes } from './member-list.js'
export * as membershipLimits from './limits.js'
