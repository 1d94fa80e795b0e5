import { P2pBootstrapError } from '@p2p-bootstrap/core'

/** Codes of errors raised by the network-namespace test harness. */
export type HarnessErrorCode =
  | 'HARNESS_UNAVAILABLE'
  | 'HARNESS_COMMAND_FAILED'
  | 'HARNESS_BAD_ARGUMENT'
  | 'HARNESS_DISPOSED'
  | 'HARNESS_NOT_BUILT'
  | 'HARNESS_AGENT_RUNNING'
  | 'HARNESS_AGENT_NOT_STARTED'
  | 'HARNESS_AGENT_EXITED'
  | 'HARNESS_STATUS_FAILED'

/** Something the harness could not do; the message names the command or the call, and the fix. */
export class HarnessError extends P2pBootstrapError<HarnessErrorCode> {}
