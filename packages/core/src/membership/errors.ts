import { P2pBootstrapError } from '../errors.js'

/** Codes of errors raised by the membership module. */
export type MembershipErrorCode =
  | 'MEMBERSHIP_BAD_CONFIG'

/** A membership configuration that cannot work (a bad id, profile value or metadata). */
export class MembershipError extends P2pBootstrapError<MembershipErrorCode> {}
