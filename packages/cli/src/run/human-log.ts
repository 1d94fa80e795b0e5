/**
 * The human form of a log record: `HH:MM:SS.mmm LEVEL message key=value…`, one line each.
 *
 * Our own few lines rather than pino-pretty: pino-pretty prints fields on extra lines or as a JSON
 * blob (not key=value), loads a `.pino-prettyrc` from the working directory, and brings a dozen
 * dependencies into a binary that only needs this.
 */

/** pino's level numbers and the names shown for them (padded to one width so messages line up). */
const LEVEL_NAMES: Readonly<Record<number, string>> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO ',
  40: 'WARN ',
  50: 'ERROR',
  60: 'FATAL'
}

const ANSI_RESET = '\u001b[0m'
const ANSI_DIM = '\u001b[2m'
const LEVEL_COLOURS: Readonly<Record<number, string>> = {
  10: '\u001b[90m', // grey
  20: '\u001b[36m', // cyan
  30: '\u001b[32m', // green
  40: '\u001b[33m', // yellow
  50: '\u001b[31m', // red
  60: '\u001b[41m' // red background
}

/** pino's own fields: shown in their place on the line, not as key=value. */
const RECORD_FIELDS = new Set(['level', 'time', 'msg'])

/** A value is quoted when it would not read back as one word. */
const BARE_VALUE = /^[^\s"=]+$/

function pad (value: number, width: number): string {
  return String(value).padStart(width, '0')
}

/** Local time of day, `HH:MM:SS.mmm` (or without the milliseconds). */
export function clockTime (timeMs: number, withMs = true): string {
  const date = new Date(timeMs)
  const seconds = `${pad(date.getHours(), 2)}:${pad(date.getMinutes(), 2)}:${pad(date.getSeconds(), 2)}`
  return withMs ? `${seconds}.${pad(date.getMilliseconds(), 3)}` : seconds
}

/** "42 s", "1 min 30 s", "2 h 5 min": a duration as a person says it. */
export function formatDuration (durationMs: number): string {
  const totalSeconds = Math.max(0, Math.floor(durationMs / 1000))
  const hours = Math.floor(totalSeconds / 3600)
  const minutes = Math.floor((totalSeconds % 3600) / 60)
  const seconds = totalSeconds % 60
  if (hours > 0) return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`
  if (minutes > 0) return seconds === 0 ? `${minutes} min` : `${minutes} min ${seconds} s`
  return `${seconds} s`
}

/**
 * The fields worth a key=value after the words: scalars only (lists and objects are in the JSON
 * form, null says nothing), not times (`…Ms`: the words say them in human units), and not a text
 * the words already contain (a phase's `waitingFor` is its message); `event` always, for grep.
 */
function shownFields (record: Readonly<Record<string, unknown>>, message: string): Array<[string, string | number | boolean]> {
  const shown: Array<[string, string | number | boolean]> = []
  for (const [key, value] of Object.entries(record)) {
    if (RECORD_FIELDS.has(key) || key.endsWith('Ms')) continue
    if (typeof value === 'string') {
      if (key !== 'event' && value !== '' && message.includes(value)) continue
      shown.push([key, value])
    } else if (typeof value === 'number' || typeof value === 'boolean') {
      shown.push([key, value])
    }
  }
  return shown
}

function formatValue (value: string | number | boolean): string {
  if (typeof value !== 'string') return String(value)
  return BARE_VALUE.test(value) ? value : JSON.stringify(value)
}

/** One record as one line (with its newline). */
export function formatHumanRecord (record: Readonly<Record<string, unknown>>, options: { colour: boolean }): string {
  const level = typeof record.level === 'number' ? record.level : 30
  const time = typeof record.time === 'number' ? clockTime(record.time) : '--:--:--.---'
  const message = typeof record.msg === 'string' ? record.msg : ''
  const name = LEVEL_NAMES[level] ?? `L${level}`.padEnd(5)
  const fields = shownFields(record, message).map(([key, value]) =>
    options.colour ? `${ANSI_DIM}${key}=${ANSI_RESET}${formatValue(value)}` : `${key}=${formatValue(value)}`)
  const levelText = options.colour ? `${LEVEL_COLOURS[level] ?? ''}${name}${ANSI_RESET}` : name
  const timeText = options.colour ? `${ANSI_DIM}${time}${ANSI_RESET}` : time
  return `${[timeText, levelText, message, ...fields].filter(part => part !== '').join(' ')}\n`
}
