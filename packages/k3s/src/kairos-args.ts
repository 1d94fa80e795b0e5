import { flagForArgument, K3S_FLAGS_VERSION } from './k3s-flags.js'
import { RenderError } from './errors.js'
import { KAIROS_ARGS_MAX } from './limits.js'
import type { UserValue } from './user-keys.js'

/**
 * Kairos passes extra k3s flags as command-line arguments (`k3s.args`, `k3s-agent.args`:
 * `["--disable=traefik", "--node-label foo=bar", "--secrets-encryption"]`). We write a config
 * file instead, so each argument becomes the config key of the same flag. An argument we cannot
 * map exactly (a positional word, an unknown flag, a missing value, a single-valued flag given
 * twice) is refused rather than guessed.
 *
 * Accepted forms: `--name=value`, `--name value` (one entry holding a space), `--name` for a
 * boolean flag, `--name=true|false`, and the one-letter aliases k3s has (`-t`, `-s`, `-i`, …).
 * One pair of matching quotes around a value is removed, as a shell would.
 */
export function k3sArgsToConfig (args: readonly string[]): Record<string, UserValue> {
  if (args.length > KAIROS_ARGS_MAX) {
    throw badArg(`k3s.args has ${args.length} entries, over the limit of ${KAIROS_ARGS_MAX}`)
  }
  const config = new Map<string, UserValue>()
  for (const [index, arg] of args.entries()) {
    const { name, value } = splitArgument(arg, index)
    const flag = flagForArgument(name)
    if (flag === undefined) {
      throw badArg(`k3s.args[${index}] names --${name}, which is not a flag of k3s ${K3S_FLAGS_VERSION}: check the spelling against \`k3s server --help\``)
    }
    const mapped = valueFor(flag.type, flag.name, value, index)
    const previous = config.get(flag.name)
    if (previous === undefined) {
      config.set(flag.name, mapped)
    } else if (Array.isArray(previous) && Array.isArray(mapped)) {
      config.set(flag.name, [...previous, ...mapped])
    } else if (previous !== mapped) {
      throw badArg(`k3s.args[${index}] sets --${flag.name} again with another value: a single-valued flag is given once`)
    }
  }
  return Object.fromEntries(config)
}

function splitArgument (arg: string, index: number): { name: string, value: string | undefined } {
  const match = /^--?([A-Za-z0-9][A-Za-z0-9-]*)(?:=(.*)|\s+(.*))?$/s.exec(arg.trim())
  if (match === null) {
    throw badArg(`k3s.args[${index}] is not a flag (it does not start with -- and a flag name): give each flag as one entry --name=value; a command word such as "server" is chosen by p2p-bootstrap`)
  }
  const name = match[1] ?? ''
  const raw = match[2] ?? match[3]
  return { name, value: raw === undefined ? undefined : unquote(raw) }
}

function valueFor (type: string, name: string, value: string | undefined, index: number): UserValue {
  if (type === 'bool') {
    if (value === undefined || value === 'true') return true
    if (value === 'false') return false
    throw badArg(`k3s.args[${index}] gives --${name} the value ${JSON.stringify(value.slice(0, 32))}: a boolean flag takes no value, or =true / =false`)
  }
  if (value === undefined || value === '') {
    throw badArg(`k3s.args[${index}] gives --${name} no value: write --${name}=<value>`)
  }
  if (type === 'int') {
    if (!/^-?[0-9]{1,15}$/.test(value)) throw badArg(`k3s.args[${index}] gives --${name} a value that is not a whole number`)
    return Number(value)
  }
  return type === 'list' ? [value] : value
}

function unquote (text: string): string {
  const quoted = text.length >= 2 && (text[0] === '"' || text[0] === '\'') && text[text.length - 1] === text[0]
  return quoted ? text.slice(1, -1) : text
}

function badArg (message: string): RenderError {
  return new RenderError('K3S_BAD_ARG', message)
}
