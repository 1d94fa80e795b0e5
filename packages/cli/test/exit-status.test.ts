// Goal: every error that reaches main maps to the documented exit status and at most one line.
// Method: an it.each table of hand-built errors with the status and line written out by hand.
import { P2pBootstrapError, TokenError } from '@p2p-bootstrap/core'
import { CommanderError } from 'commander'
import { describe, expect, it } from 'vitest'
import { CliError, EXIT_STATUS, reportFor } from '../src/index.js'

describe('reportFor', () => {
  it.each<[string, unknown, number, string | undefined]>([
    ['a token error', new TokenError('TOKEN_CHECKSUM', 'checksum bad'), 3, 'checksum bad'],
    ['a usage error of ours', new CliError('CLI_USAGE', 'bad flag'), 2, 'bad flag'],
    ['a commander error', new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'"), 2, "unknown option '--x'"],
    ['help on request', new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), 0, undefined],
    ['help after an incomplete command', new CommanderError(1, 'commander.help', '(outputHelp)'), 2, undefined],
    ['the version', new CommanderError(0, 'commander.version', '0.1.0'), 0, undefined],
    ['an error code nobody mapped', new P2pBootstrapError('SOMETHING_NEW', 'odd'), 1, 'odd'],
    ['a plain bug', new TypeError('x is undefined'), 1, 'internal error: x is undefined'],
    ['a thrown string', 'boom', 1, 'internal error: boom'],
    ['a multi-line message', new CliError('CLI_STDIN', 'first\n  second\n'), 2, 'first second']
  ])('%s', (_label, error, exitStatus, line) => {
    expect(reportFor(error)).toEqual(line === undefined ? { exitStatus } : { line, exitStatus })
  })

  it('keeps the documented statuses', () => {
    expect(EXIT_STATUS).toEqual({ ok: 0, internal: 1, usage: 2, badToken: 3, failed: 4 })
  })
})
