// The errors entry alone: the core's index loads its schemas and codecs, which `--version` never needs.
import { P2pBootstrapError } from '@p2p-bootstrap/core/errors'

/** Codes of errors the CLI itself raises about its input. */
export type CliErrorCode =
  | 'CLI_USAGE' // a flag value that parses but is not allowed (e.g. --control-planes 2)
  | 'CLI_STDIN' // standard input could not be read, or was too large
  | 'CLI_TIMEOUT' // a command did not finish within its deadline
  | 'CLI_DEMO' // the local demo found the system misbehaving
  | 'CLI_INTERRUPTED' // a signal stopped a command before it reached its goal

/** Bad command-line input that commander's own checks do not catch. */
export class CliError extends P2pBootstrapError<CliErrorCode> {}
