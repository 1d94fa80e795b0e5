import { InvalidArgumentError } from 'commander'
import type { Command } from 'commander'
import { CliError } from '../errors.js'
import { withJsonErrors } from '../json-error.js'
import type { CommandContext, CommandModule } from './command.js'

/** `token generate` and `token inspect`: make a network token and show what one holds. */
export const tokenCommand: CommandModule = {
  name: 'token',
  register (program, context) {
    const token = program.command('token').description('generate or inspect a network token')
    registerGenerate(token, context)
    registerInspect(token, context)
  }
}

interface GenerateFlags {
  expect?: number
  controlPlanes?: number
  vip?: string
  name?: string
}

interface InspectFlags {
  json?: boolean
}

/** Token text that means "read the token from standard input" (keeps it out of `ps`). */
const STDIN_TOKEN = '-'

function registerGenerate (token: Command, { io }: CommandContext): void {
  token.command('generate')
    .description('print a new network token alone on one line')
    .option('--expect <n>', 'nodes expected at first boot (1 to 1000)', wholeNumber)
    .option('--control-planes <m>', 'control-plane nodes: 1, 3, 5 or 7', wholeNumber)
    .option('--vip <ip>', 'kube-vip virtual IP (IPv4 or IPv6)')
    .option('--name <name>', 'cluster name (a lower-case DNS label)')
    .action(async (flags: GenerateFlags) => {
      // Loaded only for this command: the core's token code brings its codecs and schemas.
      const { formatToken, generateToken, TokenError } = await import('@p2p-bootstrap/core')
      let text: string
      try {
        text = formatToken(generateToken({ ...flags, createdMs: io.nowMs() }))
      } catch (err) {
        // A flag value of the right type but outside the token's rules is a usage error.
        if (err instanceof TokenError && err.code === 'TOKEN_FIELD') {
          throw new CliError('CLI_USAGE', `invalid flag value: ${err.message}`, { cause: err })
        }
        throw err
      }
      io.writeOut(`${text}\n`)
      if (flags.expect === undefined) {
        // On stderr, so `token generate | …` still carries the token alone.
        io.writeErr('p2p-bootstrap: note: this token sets no --expect, so the first boot is best effort: two groups of machines that ' +
          'cannot see each other for a few seconds may each form a cluster; pass --expect N (the machines at first boot) for one cluster, never two\n')
      }
    })
}

function registerInspect (token: Command, { io }: CommandContext): void {
  token.command('inspect')
    .description('show the non-secret fields of a token (never the secret)')
    .argument('<token>', `the token text, or '${STDIN_TOKEN}' to read it from standard input`)
    .option('--json', 'print one JSON object: version, clusterId, name, expect, controlPlanes, vip, created, origin')
    .action(async (tokenText: string, flags: InspectFlags) => {
      await withJsonErrors(flags.json === true, io, async () => {
        const [{ parseToken }, { formatTokenView, tokenView }] = await Promise.all([import('@p2p-bootstrap/core'), import('../token-view.js')])
        const text = tokenText === STDIN_TOKEN ? await io.readIn() : tokenText
        const view = tokenView(parseToken(text))
        io.writeOut(flags.json === true ? `${JSON.stringify(view)}\n` : formatTokenView(view))
      })
    })
}

function wholeNumber (value: string): number {
  if (!/^[0-9]{1,9}$/.test(value)) throw new InvalidArgumentError('expected a whole number.')
  return Number(value)
}
