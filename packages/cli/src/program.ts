import { Command } from 'commander'
import { commandModules } from './commands/index.js'
import type { CliIo } from './io.js'
import { cliVersion } from './version.js'

/** The whole command tree, writing through `io`; errors are thrown to `main`, never exit. */
export function createProgram (io: CliIo): Command {
  const program = new Command('p2p-bootstrap')
    .description('Turn machines that share a network token into a highly-available k3s cluster.')
    .version(cliVersion(), '-V, --version', 'print the version')
    // Set before commands are added: subcommands copy these settings when created.
    .exitOverride()
    .configureOutput({
      writeOut: (text) => { io.writeOut(text) },
      writeErr: (text) => { io.writeErr(text) },
      outputError: () => {} // main prints every error as one line
    })
  for (const module of commandModules) module.register(program, { io })
  return program
}
