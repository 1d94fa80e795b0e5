import { COMMAND_ARGUMENTS_MAX, COMMAND_ARGUMENT_CHARS_MAX } from './limits.js'
import { describeValue } from './rules.js'

/**
 * The commands of the `apply` section. The bootstrapper runs a command as argv, with no shell, so
 * a config file never needs quoting rules: a command is a YAML list of arguments, or one string
 * split on runs of spaces. Quotes in that string are not interpreted (they stay in the argument);
 * an argument holding a space needs the list form.
 */

/** What a valid command is, as the end of "must be …". */
export const COMMAND_WANTS = `a command: a list of 1 to ${COMMAND_ARGUMENTS_MAX} arguments, or one string of them separated by spaces`

/** What `apply.ready` takes: a command, or false to never probe. */
export const COMMAND_OR_OFF_WANTS = `false (never probe), or ${COMMAND_WANTS}`

/** A command read from a file: its argv, or the first problem, at a list index when one is to blame. */
export type CommandReading =
  | { readonly argv: string[] }
  | { readonly problem: string, readonly index?: number }

// Tabs, line breaks and the rest: never part of an argument typed on one line, often a paste error.
const controlCharacterPattern = /\p{Cc}/u

/** Reads a command written as a list of arguments or as one string; `wants` words a type error. */
export function readCommand (value: unknown, wants: string = COMMAND_WANTS): CommandReading {
  if (typeof value === 'string') {
    const argv = value.split(/ +/).filter((argument) => argument !== '')
    if (argv.length === 0) return { problem: `must be ${wants}, got ${describeValue(value)}` }
    if (argv.some((argument) => controlCharacterPattern.test(argument))) {
      return { problem: `must be one line with no control characters (tab, line break, …), got ${describeValue(value)}: ${wants}` }
    }
    return checkArguments(argv, wants, false)
  }
  if (!Array.isArray(value)) return { problem: `must be ${wants}, got ${describeValue(value)}` }
  if (value.length === 0) return { problem: `must be ${wants}, got an empty list` }
  const argv: string[] = []
  for (const [index, argument] of value.entries()) {
    if (typeof argument !== 'string') {
      const hint = typeof argument === 'number' || typeof argument === 'boolean' ? ` (quote it: "${String(argument)}")` : ''
      return { index, problem: `must be an argument as text, got ${describeValue(argument)}${hint}` }
    }
    argv.push(argument)
  }
  return checkArguments(argv, wants, true)
}

function checkArguments (argv: string[], wants: string, listed: boolean): CommandReading {
  if (argv.length > COMMAND_ARGUMENTS_MAX) return { problem: `must be ${wants}, got ${argv.length} arguments` }
  for (const [index, argument] of argv.entries()) {
    const at = listed ? { index } : {}
    if (argument === '') return { ...at, problem: 'must be a non-empty argument, got ""' }
    if (argument.length > COMMAND_ARGUMENT_CHARS_MAX) {
      const what = listed ? 'must be an argument of' : 'must have arguments of'
      return { ...at, problem: `${what} at most ${COMMAND_ARGUMENT_CHARS_MAX} characters, got one of ${argument.length} characters` }
    }
    if (controlCharacterPattern.test(argument)) {
      return { ...at, problem: `must be an argument with no control characters (tab, line break, …), got ${describeValue(argument)}` }
    }
  }
  return { argv }
}
