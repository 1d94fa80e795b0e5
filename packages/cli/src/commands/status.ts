import { join } from 'node:path'
import { DEFAULT_STATE_DIR, STATUS_SOCKET_NAME, fetchStatus } from '@p2p-bootstrap/bootstrapper'
import { withJsonErrors } from '../json-error.js'
import { formatStatus } from '../run/status-view.js'
import type { CommandContext, CommandModule } from './command.js'

interface StatusFlags {
  stateDir: string
  json?: boolean
}

/** `status`: asks the running agent over its unix socket (in the state dir) and prints what it sees. */
export const statusCommand: CommandModule = {
  name: 'status',
  register (program, context) {
    program.command('status')
      .description('show the running agent\'s view: members, roles, phases, the plan and what it waits for')
      .option('--state-dir <dir>', 'the state dir of the agent to ask', DEFAULT_STATE_DIR)
      .option('--json', 'print the whole report as one JSON object')
      .action(async (flags: StatusFlags) => { await showStatus(flags, context) })
  }
}

async function showStatus (flags: StatusFlags, { io }: CommandContext): Promise<void> {
  await withJsonErrors(flags.json === true, io, async () => {
    const report = await fetchStatus(join(flags.stateDir, STATUS_SOCKET_NAME), { signal: AbortSignal.any([io.shutdownSignal(), AbortSignal.timeout(10_000)]) })
    io.writeOut(flags.json === true ? `${JSON.stringify(report)}\n` : formatStatus(report))
  })
}
