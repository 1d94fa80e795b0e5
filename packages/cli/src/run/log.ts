import { pino } from 'pino'
import type { DestinationStream, Logger } from 'pino'
import { CliError } from '../errors.js'
import { formatHumanRecord } from './human-log.js'
import { LOG_FORMATS, LOG_LEVELS, LOG_LEVEL_ENV } from './log-choices.js'

export { LOG_FORMATS, LOG_LEVELS, LOG_LEVEL_ENV }
export type LogLevel = typeof LOG_LEVELS[number]
export const LOG_LEVEL_DEFAULT: LogLevel = 'info'

/** pino's number for `warn`: in the human form, records at or above it go to stderr (as warnings always did). */
const WARN_LEVEL_VALUE = 40

/** `json`: one object per line for scripts and journald; `human`: one readable line per record for a console. */
export type LogFormat = 'json' | 'human'

export interface RunLogOptions {
  readonly format: LogFormat
  readonly level: LogLevel
  /** ANSI colour in the human form; only ever true on a terminal. */
  readonly colour: boolean
  /** The record's `time` (ms since the epoch): the CLI's clock, so tests pin it. */
  readonly nowMs: () => number
  readonly writeOut: (text: string) => void
  readonly writeErr: (text: string) => void
}

export type RunLogger = Logger

function isLogLevel (value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value)
}

/**
 * The level from `--log-level`, else `P2PB_LOG_LEVEL`, else info. The flag is checked by commander;
 * the variable is checked here, because a typo in a unit file would otherwise silence the log.
 */
export function resolveLogLevel (flag: string | undefined, env: Readonly<Record<string, string | undefined>>): LogLevel {
  const value = flag ?? env[LOG_LEVEL_ENV]
  if (value === undefined || value === '') return LOG_LEVEL_DEFAULT
  if (isLogLevel(value)) return value
  const from = flag === undefined ? `${LOG_LEVEL_ENV}=${value}` : `--log-level ${value}`
  throw new CliError('CLI_USAGE', `${from} is not a log level: use one of ${LOG_LEVELS.join(', ')}`)
}

/**
 * Text unless JSON is asked for (`--log-format json`, or `--json`), whether or not standard output
 * is a terminal. Why text for a pipe or journald too: the reader of `journalctl -u p2p-bootstrap`
 * is a person, and journald adds its own time, host and unit to every line; programs that parse
 * the log ask for JSON by name, so the format never changes with where standard output points.
 * Colour only on a terminal, unless NO_COLOR is set.
 */
export function chooseLogFormat (
  flags: { readonly json: boolean, readonly logFormat?: string },
  stdoutIsTty: boolean,
  env: Readonly<Record<string, string | undefined>>
): { format: LogFormat, colour: boolean } {
  if (flags.json && flags.logFormat === 'text') {
    throw new CliError('CLI_USAGE', '--json and --log-format text contradict each other: --json is short for --log-format json; give one')
  }
  if (flags.json || flags.logFormat === 'json') return { format: 'json', colour: false }
  return { format: 'human', colour: stdoutIsTty && (env.NO_COLOR === undefined || env.NO_COLOR === '') }
}

/**
 * A pino logger writing synchronously through the CLI's own write functions: no worker thread and
 * no transport, so nothing is lost when the process exits and a single-file bundle needs no extra
 * entry point. The human form re-reads pino's line and formats it (see human-log.ts).
 */
export function createRunLogger (options: RunLogOptions): RunLogger {
  const destination: DestinationStream = options.format === 'json'
    ? { write: (line) => { options.writeOut(line) } }
    : {
        write: (line) => {
          const record = JSON.parse(line) as Record<string, unknown>
          const text = formatHumanRecord(record, { colour: options.colour })
          const level = typeof record.level === 'number' ? record.level : 0
          if (level >= WARN_LEVEL_VALUE) options.writeErr(text)
          else options.writeOut(text)
        }
      }
  return pino({
    level: options.level,
    // No pid or hostname: journald and log shippers add them, and scripts reading --json do not need them.
    base: null,
    messageKey: 'msg',
    timestamp: () => `,"time":${Math.round(options.nowMs())}`
  }, destination)
}
