// The errors entry alone: the core's index loads its schemas and codecs, which `--version` never needs.
import { P2pBootstrapError } from '@p2p-bootstrap/core/errors'

/** Codes of errors about the `run` configuration: the config file, or a setting missing everywhere. */
export type ConfigErrorCode = 'CLI_CONFIG'

/**
 * A config file that cannot be read or says something impossible, or a setting (the token) given
 * nowhere. The message names the file, the line and the key path, and what to change.
 */
export class ConfigError extends P2pBootstrapError<ConfigErrorCode> {}
