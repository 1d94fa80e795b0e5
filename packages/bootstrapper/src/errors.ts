import { P2pBootstrapError } from '@p2p-bootstrap/core'

/** Codes of errors raised by the bootstrapper itself (the core, overlay and state dir have their own). */
export type BootstrapperErrorCode =
  | 'BOOTSTRAP_BAD_OPTION' // an option that cannot work; the message names it and the fix
  | 'BOOTSTRAP_SHAPE_CONFLICT' // the token and the options disagree on the cluster shape
  | 'BOOTSTRAP_NOT_STARTED' // a call that needs start() first
  | 'BOOTSTRAP_STOPPED' // the bootstrapper stopped while the call waited
  | 'BOOTSTRAP_STORAGE_FAILED' // the state dir refused a write: the node stops rather than act on what is not on disk
  | 'BOOTSTRAP_INVARIANT_FAILED' // one of our own invariants broke (a bug): the node stops rather than act on a broken state
  | 'BOOTSTRAP_APPLY_FAILED' // the node's output could not be written
  | 'BOOTSTRAP_RENDER_FAILED' // the plan and this node's settings give no valid k3s config; nothing was written
  | 'BOOTSTRAP_CONFIG_MISMATCH' // this node's cluster-wide k3s settings differ from the init node's
  | 'BOOTSTRAP_START_FAILED' // the k3s start step failed; it is retried with back-off
  | 'BOOTSTRAP_HOOK_FAILED' // an installer callback or the on-ready command failed
  | 'BOOTSTRAP_FRAME_REJECTED' // a peer sent a frame that is malformed, truncated or oversized
  | 'BOOTSTRAP_LEDGER_REJECTED' // a peer sent a ledger entry that failed a check
  | 'BOOTSTRAP_PEER_PENALISED' // a peer sent too many bad signatures: disconnected and refused for a while
  | 'BOOTSTRAP_BACKLOG_FULL' // a peer's message was dropped: too many already wait for the node
  | 'BOOTSTRAP_EQUIVOCATION' // a voter signed two different votes
  | 'BOOTSTRAP_SHAPE_MISMATCH' // a peer is configured with another cluster shape
  | 'BOOTSTRAP_STATE_INCOMPLETE' // a file of the state dir is missing beside the others: refused like a damaged one
  | 'BOOTSTRAP_VOTE_REFUSED' // this node refused to vote for a proposal it cannot vouch for (S7, shape)
  | 'BOOTSTRAP_SHAPE_DRIFT' // this node's config differs from the shape the committed plan was decided under (S8)
  | 'BOOTSTRAP_STATUS_SOCKET' // the local status socket could not be served or reached
  | 'BOOTSTRAP_NO_PLAN' // a call that needs a formed cluster (leave) came before any committed plan
  | 'BOOTSTRAP_ABORTED' // the caller's signal ended a wait (leave) before it finished

/**
 * An error of the bootstrapper. `fatal` errors stop it (a failed disk write must not be followed
 * by a message that assumes it succeeded); the others are reported and it keeps serving.
 */
export class BootstrapperError extends P2pBootstrapError<BootstrapperErrorCode> {
  readonly fatal: boolean

  constructor (code: BootstrapperErrorCode, message: string, options: { cause?: unknown, fatal?: boolean } = {}) {
    super(code, message, options)
    this.fatal = options.fatal ?? false
  }
}
