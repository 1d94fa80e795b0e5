import { InvalidArgumentError } from 'commander'
import type { CommandModule } from './command.js'
import type { DemoFlags } from './demo-run.js'

const NODES_MIN = 2
const NODES_MAX = 9 // 127.0.0.2 … 127.0.0.10
const NODES_DEFAULT = 5
const TIMEOUT_SECONDS_DEFAULT = 60

/**
 * `demo`: the whole first-boot story on this machine, sending nothing off it. A fresh token, then
 * N separate `p2p-bootstrap run --once` processes on distinct loopback addresses (127.0.0.2, .3, …,
 * so node IPs differ), each knowing the others as static peers (no multicast: this may run in the
 * root network namespace). Their progress is shown live; then the committed plan as a table, and
 * where each node wrote its output (under the demo folder, through `--root`).
 */
export const demoCommand: CommandModule = {
  name: 'demo',
  register (program, context) {
    program.command('demo')
      .description('form a cluster plan with N local node processes on loopback (sends nothing off this machine)')
      .option('--nodes <n>', `how many nodes (${NODES_MIN} to ${NODES_MAX})`, nodeCount, NODES_DEFAULT)
      .option('--timeout <seconds>', 'give up after this long', positiveSeconds, TIMEOUT_SECONDS_DEFAULT)
      .option('--dir <dir>', 'folder for the nodes\' state and output (default: a new folder under the system temp dir)')
      .action(async (flags: DemoFlags) => {
        // The demo's work (token, identities, processes) is loaded only when it runs.
        const { runDemo } = await import('./demo-run.js')
        await runDemo(flags, context)
      })
  }
}

function nodeCount (value: string): number {
  const n = Number(value)
  if (!/^[0-9]+$/.test(value) || n < NODES_MIN || n > NODES_MAX) {
    throw new InvalidArgumentError(`expected a whole number from ${NODES_MIN} to ${NODES_MAX}.`)
  }
  return n
}

function positiveSeconds (value: string): number {
  const n = Number(value)
  if (!/^[0-9]+$/.test(value) || n < 1 || n > 3600) throw new InvalidArgumentError('expected whole seconds from 1 to 3600.')
  return n
}
