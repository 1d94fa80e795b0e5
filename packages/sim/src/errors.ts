import { P2pBootstrapError } from '@p2p-bootstrap/core'

/** Codes of the simulator's own errors (bad options, bad files); violations are results, not errors. */
export type SimErrorCode =
  | 'SIM_UNKNOWN_SCENARIO'
  | 'SIM_BAD_OPTION'
  | 'SIM_BAD_REGRESSIONS'

export class SimError extends P2pBootstrapError<SimErrorCode> {}
