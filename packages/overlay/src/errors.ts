import { P2pBootstrapError, PathError } from '@p2p-bootstrap/core'

/** Codes of errors raised by the overlay: bad options, and dials the network refused. */
export type OverlayErrorCode =
  | 'OVERLAY_BAD_OPTION'
  | 'OVERLAY_NOT_STARTED'
  | 'OVERLAY_HANDSHAKE_REFUSED'
  | 'OVERLAY_DIAL_FAILED'

/** An overlay option that cannot work, or a dial that failed; `cause` keeps libp2p's error. */
export class OverlayError extends P2pBootstrapError<OverlayErrorCode> {}

/** Codes of errors about the persisted node identity file. */
export type IdentityFileErrorCode =
  | 'IDENTITY_CORRUPT'
  | 'IDENTITY_PERMISSIONS'
  | 'IDENTITY_UNREADABLE'
  | 'IDENTITY_WRITE_FAILED'

/**
 * The identity file cannot be used as it is. Never answered by making a new identity: a node that
 * silently changes its peer id loses its votes and its role (S4), so the operator decides.
 */
export class IdentityFileError extends PathError<IdentityFileErrorCode> {}
