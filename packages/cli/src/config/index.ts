/**
 * The configuration of `p2p-bootstrap run`: the config file (native or Kairos spelling, read
 * into one `FileConfig`), and the flags merged over it into the bootstrapper's options.
 *
 * ```ts
 * const file = flags.config === undefined ? undefined : await loadConfigFile(flags.config, { signal })
 * const settings = resolveRunSettings(flags, file, process.env)
 * if (settings.tokenFromStdin) settings.options.token = await io.readIn()
 * ```
 */
export { loadConfigFile } from './load.js'
export { parseConfigText } from './parse.js'
export { resolveRunSettings, STDIN_TOKEN, TOKEN_ENV } from './resolve.js'
export { ConfigError } from './errors.js'
export type { ConfigErrorCode } from './errors.js'
export { CONFIG_FILE_BYTES_MAX } from './limits.js'
export type { FileConfig, RunFlags, RunSettings, TokenSource } from './types.js'
