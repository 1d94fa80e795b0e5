import { join } from 'node:path'
import { withJsonErrors } from '../json-error.js'
import { STATE_DIR_HELP } from './state-dir-flag.js'
import type { CommandContext, CommandModule } from './command.js'

interface StatusFlags {
  stateDir?: string
  json?: boolean
}

/** `status`: asks the running agent over its unix socket (in the state dir) and prints what it sees. */
export const statusCommand: CommandModule = {
  name: 'status',
  register (program, context) {
    program.command('status')
      .description('show the running agent\'s view: members, roles, phases, the plan and what it waits for')
      .option('--state-dir <dir>', `the state dir of the agent to ask ${STATE_DIR_HELP}`)
      .option('--json', 'print the whole report as one JSON object')
      .action(async (flags: StatusFlags) => { await showStatus(flags, context) })
  }
}

async function showStatus (flags: StatusFlags, { io }: CommandContext): Promise<void> {
  await withJsonErrors(flags.json === true, io, async () => {
    // Loaded only for this command (the status client and its view), not for every invocation.
    const [{ DEFAULT_STATE_DIR, STATUS_SOCKET_NAME, fetchStatus }, { formatStatus }] = await Promise.all([
      import('@p2p-bootstrap/bootstrapper'), import('../run/status-view.js')
    ])
    const report = await fetchStatus(join(flags.stateDir ?? DEFAULT_STATE_DIR, STATUS_SOCKET_NAME), { signal: AbortSignal.any([io.shutdownSignal(), AbortSignal.timeout(10_000)]) })
    io.writeOut(flags.json === true ? `${JSON.stringify(report)}\n` : formatStatus(report))
  })
}
