// The values `--log-level` and `--log-format` accept, apart from the logger itself: the command
// tree is built for every invocation (`--version` too), and the logger's module loads pino.

/** The levels `--log-level` and `P2PB_LOG_LEVEL` accept, most verbose first (pino's names). */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const
export const LOG_LEVEL_ENV = 'P2PB_LOG_LEVEL'

/** What `--log-format` accepts: `text` for people (the human form), `json` for programs. */
export const LOG_FORMATS = ['text', 'json'] as const
