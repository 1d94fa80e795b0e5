import { P2pBootstrapError } from '../errors.js'

/** Codes of consensus errors: bad input from the world (disk, ledger, peers), never our own bugs. */
export type ConsensusErrorCode =
  | 'CONSENSUS_BAD_RECORD'
  | 'CONSENSUS_BAD_KEY'

/** A persisted acceptor record or a ledger key that consensus cannot use. */
export class ConsensusError extends P2pBootstrapError<ConsensusErrorCode> {}
